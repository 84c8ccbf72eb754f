package graph

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/customer360"
	"customerservice/customers"
	"customerservice/graph/model"
)

// The GraphQL side of the Customer 360 read path: every Customer, LoyaltyAccount and
// CreditAccount of an answer — in lookups, in the customer list, in mutation payloads — is
// rendered by package customer360 in one statement, from the selection turned here into its
// neutral tree (customer360.Field), and written out as it is (model.Object).

// Type names of the selections.
var (
	satisfiesEdge       = []string{"CustomerEdge"}
	satisfiesConnection = []string{"CustomerConnection"}
)

// fieldsOf is the selection sel on typeName as customer360's tree: response keys, argument
// values (variables and defaults applied), the directives of each field's definition.
func fieldsOf(op *graphql.OperationContext, sel ast.SelectionSet, typeName string) []customer360.Field {
	collected := graphql.CollectFields(op, sel, []string{typeName})
	out := make([]customer360.Field, len(collected))
	for i, f := range collected {
		out[i] = customer360.Field{Name: f.Name, Alias: f.Alias, Args: argumentsOf(f.ArgumentMap(op.Variables))}
		if def := f.Definition; def != nil {
			for _, d := range def.Directives {
				if d.Name != "deprecated" {
					out[i].Directives = append(out[i].Directives, d.Name)
				}
			}
			if len(f.Selections) > 0 {
				out[i].Selection = fieldsOf(op, f.Selections, def.Type.Name())
			}
		}
	}
	return out
}

// argumentsOf normalizes argument values as customer360 reads them: integers as int
// (literals come as int64, variables as json.Number), enums and strings as string.
func argumentsOf(args map[string]any) map[string]any {
	for k, v := range args {
		switch n := v.(type) {
		case int64:
			args[k] = clampInt(n)
		case json.Number:
			if i, err := n.Int64(); err == nil {
				args[k] = clampInt(i)
			}
		}
	}
	return args
}

// clampInt keeps an out-of-range Int argument out of range (GraphQL's Int is 32-bit).
func clampInt(n int64) int {
	return int(max(min(n, math.MaxInt32+1), math.MinInt32-1))
}

// hereSelections is the selection of the field being resolved, itself a Customer 360
// object (the lookups): one place, "".
func hereSelections(ctx context.Context, typeName string) customer360.Selections {
	fc := graphql.GetFieldContext(ctx)
	return customer360.Selections{"": fieldsOf(graphql.GetOperationContext(ctx), fc.Field.Selections, typeName)}
}

// payloadSelections are the places of the payload being resolved where its field `field`
// (a Customer 360 object of typeName) is written, by response key.
func payloadSelections(ctx context.Context, field, typeName string) customer360.Selections {
	op := graphql.GetOperationContext(ctx)
	out := customer360.Selections{}
	payload := []string{graphql.GetFieldContext(ctx).Field.Definition.Type.Name()} // fragments on it count
	for _, f := range graphql.CollectFieldsCtx(ctx, payload) {
		if f.Name == field {
			out[f.Alias] = fieldsOf(op, f.Selections, typeName)
		}
	}
	return out
}

// connectionShape is what a `customers` connection selects: the places where customers are
// written (each `nodes` and each `edges { node }`, by response keys), whether it counts
// (totalCount), and whether it needs cursors (edges or pageInfo).
type connectionShape struct {
	sel            customer360.Selections
	count, cursors bool
}

func connectionSelections(ctx context.Context) connectionShape {
	op := graphql.GetOperationContext(ctx)
	shape := connectionShape{sel: customer360.Selections{}}
	for _, f := range graphql.CollectFieldsCtx(ctx, satisfiesConnection) {
		switch f.Name {
		case "totalCount":
			shape.count = true
		case "nodes":
			shape.sel[f.Alias] = fieldsOf(op, f.Selections, "Customer")
		case "pageInfo":
			shape.cursors = true
		case "edges":
			shape.cursors = true
			for _, e := range graphql.CollectFields(op, f.Selections, satisfiesEdge) {
				if e.Name == "node" {
					shape.sel[f.Alias+"."+e.Alias] = fieldsOf(op, e.Selections, "Customer")
				}
			}
		}
	}
	return shape
}

// renderError is a read's error as the query sees it: an argument the 360's rules refuse
// is BAD_USER_INPUT at the field that has it; anything else goes through queryError.
func renderError(ctx context.Context, err error) error {
	var arg *customer360.ArgumentError
	if !errors.As(err, &arg) {
		return queryError(ctx, err)
	}
	qe := queryError(ctx, arg.Err)
	if ge, ok := qe.(*gqlerror.Error); ok {
		path := append(ast.Path(nil), ge.Path...)
		for _, key := range arg.Path {
			for _, k := range strings.Split(key, ".") {
				if k != "" {
					path = append(path, ast.PathName(k))
				}
			}
		}
		ge.Path = path
	}
	return qe
}

// lookup renders the customer key names for a lookup field.
func (r *queryResolver) lookup(ctx context.Context, key customers.Key) (model.Object, error) {
	compiled, err := compiledHere(ctx, "Customer")
	if err != nil {
		return nil, renderError(ctx, err)
	}
	out, err := r.View.CustomerCompiled(ctx, compiled, key)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return model.Object(out), nil
}

// renderedPayloadFields are the fields of mutation payloads that hold a rendered object,
// with its type.
var renderedPayloadFields = map[string]string{"customer": "Customer", "loyaltyAccount": "LoyaltyAccount", "creditAccount": "CreditAccount"}

// checkPayload refuses a mutation whose payload selects a rendered object with an argument
// its rules refuse (`customer { purchases(first: 0) { … } }`): BAD_USER_INPUT before the
// mutation writes, not an error after it did. The resolvers of mutations whose payload holds
// one call it first (after @hasRole, so a caller without the role is told that first).
func checkPayload(ctx context.Context) error {
	for field, typeName := range renderedPayloadFields {
		if sel := payloadSelections(ctx, field, typeName); len(sel) > 0 {
			if err := customer360.Check(typeName, sel); err != nil {
				return renderError(ctx, err)
			}
		}
	}
	return nil
}

// payloadCustomer renders a mutation's customer (none after a user error) for its payload.
func (r *mutationResolver) payloadCustomer(ctx context.Context, id *uuid.UUID) (model.Object, error) {
	if id == nil {
		return nil, nil
	}
	out, err := r.View.Customer(ctx, payloadSelections(ctx, "customer", "Customer"), customers.ByID(*id))
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return model.Object(out), nil
}

// payloadLoyaltyAccount renders a mutation's loyalty account for its payload.
func (r *mutationResolver) payloadLoyaltyAccount(ctx context.Context, id *uuid.UUID) (model.Object, error) {
	if id == nil {
		return nil, nil
	}
	out, err := r.View.LoyaltyAccount(ctx, payloadSelections(ctx, "loyaltyAccount", "LoyaltyAccount"), *id)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return model.Object(out), nil
}

// payloadCreditAccount renders a mutation's credit account for its payload.
func (r *mutationResolver) payloadCreditAccount(ctx context.Context, id *uuid.UUID) (model.Object, error) {
	if id == nil {
		return nil, nil
	}
	out, err := r.View.CreditAccount(ctx, payloadSelections(ctx, "creditAccount", "CreditAccount"), *id)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return model.Object(out), nil
}

// customerConnection is the Relay connection of a rendered page; its edges and cursors only
// when the connection selects them (a page of nodes makes no cursor).
func customerConnection(page *customer360.Page, shape connectionShape) *model.CustomerConnection {
	conn := &model.CustomerConnection{
		Nodes:      make(model.Objects, len(page.Customers)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
		TotalCount: page.TotalCount,
	}
	for i, c := range page.Customers {
		conn.Nodes[i] = model.Object(c)
	}
	if !shape.cursors {
		return conn
	}
	conn.Edges = make(model.CustomerEdges, len(page.Customers))
	for i, c := range page.Customers {
		conn.Edges[i] = model.CustomerEdge{Cursor: page.Cursor(i), Node: model.Object(c)}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	return conn
}

// duplicateSelections are the places of a `duplicateCandidates` connection where its pairs'
// customers are written, by side (`customer`, `duplicate`): each `nodes { … }` and each
// `edges { node { … } }`, by response keys.
func duplicateSelections(ctx context.Context) map[string]customer360.Selections {
	op := graphql.GetOperationContext(ctx)
	out := map[string]customer360.Selections{"customer": {}, "duplicate": {}}
	pair := func(prefix string, sel ast.SelectionSet) {
		for _, f := range graphql.CollectFields(op, sel, []string{"DuplicateCandidate"}) {
			if side, ok := out[f.Name]; ok {
				side[prefix+"."+f.Alias] = fieldsOf(op, f.Selections, "Customer")
			}
		}
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"DuplicateCandidateConnection"}) {
		switch f.Name {
		case "nodes":
			pair(f.Alias, f.Selections)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"DuplicateCandidateEdge"}) {
				if e.Name == "node" {
					pair(f.Alias+"."+e.Alias, e.Selections)
				}
			}
		}
	}
	return out
}

// duplicateConnection is the Relay connection of a page of duplicate candidates.
func duplicateConnection(page *customer360.DuplicatePage) *model.DuplicateCandidateConnection {
	conn := &model.DuplicateCandidateConnection{
		Nodes:    make([]model.DuplicateCandidate, len(page.Pairs)),
		Edges:    make([]model.DuplicateCandidateEdge, len(page.Pairs)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
	}
	for i, p := range page.Pairs {
		node := model.DuplicateCandidate{Customer: model.Object(p.Customers), Duplicate: model.Object(p.Customers),
			Score: p.Score, Reasons: p.Reasons}
		conn.Nodes[i] = node
		conn.Edges[i] = model.DuplicateCandidateEdge{Cursor: page.Cursors[i], Node: &conn.Nodes[i]}
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn
}
