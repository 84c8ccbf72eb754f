package model

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// Object is an object of the Customer 360 (Customer, LoyaltyAccount, CreditAccount) as
// PostgreSQL rendered it: customer360.Reader renders it once for each place of the answer
// where the resolver that read it writes one (a field asked for under two response keys
// with different selections is two places), keyed by the place's path below that resolver
// ("" the resolver's own field; "customer" a payload's field; "edges.node" a connection's).
// gqlgen writes a value bound to a Marshaler as it is, so the object goes out as the JSON
// PostgreSQL built, never resolved field by field. A nil Object is null.
type Object map[string][]byte

// MarshalGQLContext writes the JSON of the place being written.
func (o Object) MarshalGQLContext(ctx context.Context, w io.Writer) error {
	return o.write(w, placeOf(graphql.GetFieldContext(ctx)))
}

// UnmarshalGQLContext: objects are output only.
func (o *Object) UnmarshalGQLContext(context.Context, any) error {
	return errors.New("an object is not an input")
}

// placeOf is the path of response keys from below the nearest resolver to fc's field,
// list positions left out: a connection's customers share their place.
func placeOf(fc *graphql.FieldContext) string {
	var keys []string
	for ; fc != nil && !fc.IsResolver; fc = fc.Parent {
		if fc.Index == nil {
			keys = append(keys, fc.Field.Alias)
		}
	}
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	return strings.Join(keys, ".")
}

// Objects is a list of Objects written as one JSON array (a connection's `nodes`): gqlgen
// would write each element of a list of Objects in a goroutine of its own.
type Objects []Object

// MarshalGQLContext writes each object at the list's place.
func (l Objects) MarshalGQLContext(ctx context.Context, w io.Writer) error {
	place := placeOf(graphql.GetFieldContext(ctx))
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, o := range l {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := o.write(w, place); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]")
	return err
}

// UnmarshalGQLContext: objects are output only.
func (l *Objects) UnmarshalGQLContext(context.Context, any) error {
	return errors.New("an object is not an input")
}

// write writes the JSON of place.
func (o Object) write(w io.Writer, place string) error {
	json, ok := o[place]
	if !ok || json == nil {
		_, err := io.WriteString(w, "null")
		return err
	}
	_, err := w.Write(json)
	return err
}

// CustomerEdges are a customer connection's edges, written as one JSON array as their
// selection asks (cursor, node, __typename), for the reason of Objects.
type CustomerEdges []CustomerEdge

// MarshalGQLContext writes the edges.
func (l CustomerEdges) MarshalGQLContext(ctx context.Context, w io.Writer) error {
	fc := graphql.GetFieldContext(ctx)
	place := placeOf(fc)
	fields := graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{"CustomerEdge"})
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, f := range fields {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, f.Alias)
			b.WriteByte(':')
			switch f.Name {
			case "cursor":
				writeJSONString(&b, e.Cursor)
			case "node":
				if err := e.Node.write(&b, place+"."+f.Alias); err != nil {
					return err
				}
			case "__typename":
				b.WriteString(`"CustomerEdge"`)
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	_, err := io.WriteString(w, b.String())
	return err
}

// UnmarshalGQLContext: edges are output only.
func (l *CustomerEdges) UnmarshalGQLContext(context.Context, any) error {
	return errors.New("an edge is not an input")
}

// writeJSONString writes s as a JSON string.
func writeJSONString(b *strings.Builder, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}
