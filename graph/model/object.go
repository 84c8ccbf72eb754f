package model

import (
	"context"
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
	json, ok := o[placeOf(graphql.GetFieldContext(ctx))]
	if !ok || json == nil {
		_, err := io.WriteString(w, "null")
		return err
	}
	_, err := w.Write(json)
	return err
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
