package graph

import (
	"bytes"
	"context"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/customers"
	"customerservice/graph/json360"
	"customerservice/graph/model"
)

// Answers rendered in SQL (package json360): the customer root fields of a query — customer,
// customerByEmail/Phone/Document and customers — whose whole selection json360 compiles are
// read as JSON that PostgreSQL builds, in the same one statement as always; the server
// copies it into the response instead of decoding rows and resolving fields one by one.
//
// gqlgen stays in charge of everything else: the resolver of the root field still runs
// (arguments, @hasRole, errors) and only its answer is replaced. It finds a renderSlot in
// its context, reads with a compiled node, and leaves the JSON in the slot; renderRootFields
// then answers the field with it instead of what gqlgen marshaled (an empty answer, which
// costs nothing: a nil customer or an empty connection).

type renderSlot struct{ json []byte }

type renderSlotKey struct{}

// renderRootFields gives each root field of a query a slot to leave its rendered answer in
// (r.RenderInSQL off: none, and every field resolves the usual way).
func (r *Resolver) renderRootFields(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !r.RenderInSQL {
		return next(ctx)
	}
	if oc := graphql.GetOperationContext(ctx); oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	slot := &renderSlot{}
	m := next(context.WithValue(ctx, renderSlotKey{}, slot))
	if slot.json == nil {
		return m
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(slot.json) })
}

func slotOf(ctx context.Context) *renderSlot {
	s, _ := ctx.Value(renderSlotKey{}).(*renderSlot)
	return s
}

// renderedNode is the compiled node of a single-customer root field's selection, or "".
func renderedNode(ctx context.Context) string {
	if slotOf(ctx) == nil {
		return ""
	}
	node, ok := json360.Customer(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, satisfiesCustomer))
	if !ok {
		return ""
	}
	return node
}

// renderedCustomer leaves a lookup's rendered customer in the slot; it reports whether rel
// held one (then the resolver answers nil, which marshals as nothing and is replaced).
func renderedCustomer(ctx context.Context, rel customers.Related) bool {
	slot := slotOf(ctx)
	if rel.Nodes == nil || slot == nil {
		return false
	}
	slot.json = rel.Nodes[0]
	return true
}

// renderedConnectionNode is the compiled node of a `customers` field's selection: every
// `nodes` and `edges { node }` under it must compile to the same one ("" otherwise).
func renderedConnectionNode(ctx context.Context) string {
	if slotOf(ctx) == nil {
		return ""
	}
	op := graphql.GetOperationContext(ctx)
	node := ""
	same := func(fields []graphql.CollectedField) bool {
		sql, ok := json360.Customer(op, fields)
		if !ok || (node != "" && sql != node) {
			return false
		}
		node = sql
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, satisfiesConnection) {
		switch f.Name {
		case "nodes":
			if !same(graphql.CollectFields(op, f.Selections, satisfiesCustomer)) {
				return ""
			}
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, satisfiesEdge) {
				if e.Name == "node" && !same(graphql.CollectFields(op, e.Selections, satisfiesCustomer)) {
					return ""
				}
			}
		}
	}
	if node == "" { // nothing but totalCount or pageInfo: a node that is never written
		node = "json_build_object()"
	}
	return node
}

// renderedConnection writes the connection of a page read with a rendered node, as the
// selection asks, around the nodes PostgreSQL built, into the slot.
func renderedConnection(ctx context.Context, page *customers.Page) {
	slot := slotOf(ctx)
	op := graphql.GetOperationContext(ctx)
	var b bytes.Buffer
	pageInfo := pageInfoOf(page)
	object(&b, graphql.CollectFieldsCtx(ctx, satisfiesConnection), "CustomerConnection", func(f graphql.CollectedField) {
		switch f.Name {
		case "nodes":
			list(&b, len(page.Customers), func(i int) { b.Write(page.Related.Nodes[i]) })
		case "edges":
			list(&b, len(page.Customers), func(i int) {
				object(&b, graphql.CollectFields(op, f.Selections, satisfiesEdge), "CustomerEdge", func(e graphql.CollectedField) {
					switch e.Name {
					case "cursor":
						b.WriteString(strconv.Quote(page.Cursors[i]))
					case "node":
						b.Write(page.Related.Nodes[i])
					}
				})
			})
		case "pageInfo":
			object(&b, graphql.CollectFields(op, f.Selections, []string{"PageInfo"}), "PageInfo", func(p graphql.CollectedField) {
				switch p.Name {
				case "hasNextPage":
					b.WriteString(strconv.FormatBool(pageInfo.HasNextPage))
				case "hasPreviousPage":
					b.WriteString(strconv.FormatBool(pageInfo.HasPreviousPage))
				case "startCursor":
					optionalString(&b, pageInfo.StartCursor)
				case "endCursor":
					optionalString(&b, pageInfo.EndCursor)
				}
			})
		case "totalCount":
			b.WriteString(strconv.Itoa(page.TotalCount))
		}
	})
	slot.json = b.Bytes()
}

// emptyConnection is what the `customers` resolver answers when the slot holds the real one.
func emptyConnection() *model.CustomerConnection {
	return &model.CustomerConnection{PageInfo: &model.PageInfo{}}
}

// object writes a JSON object of the fields, each value by value; __typename is typeName.
func object(b *bytes.Buffer, fields []graphql.CollectedField, typeName string, value func(graphql.CollectedField)) {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Alias))
		b.WriteByte(':')
		if f.Name == "__typename" {
			b.WriteString(strconv.Quote(typeName))
			continue
		}
		value(f)
	}
	b.WriteByte('}')
}

func list(b *bytes.Buffer, n int, item func(i int)) {
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		item(i)
	}
	b.WriteByte(']')
}

func optionalString(b *bytes.Buffer, s *string) {
	if s == nil {
		b.WriteString("null")
		return
	}
	b.WriteString(strconv.Quote(*s))
}
