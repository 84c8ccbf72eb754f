package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/graph/model"
	"customerservice/loyalty"
	"customerservice/models"
)

// The GraphQL side of loyalty (§4): inputs to the domain's, batched pages to Relay
// connections. The rules are in package loyalty.

func newPurchase(in model.RecordPurchaseInput) loyalty.NewPurchase {
	return loyalty.NewPurchase{
		CustomerID: in.CustomerID,
		OrderID:    in.OrderID,
		Amount:     in.Amount,
		OccurredAt: in.OccurredAt.Value(),
		Channel:    in.Channel.Value(),
	}
}

// programChanges: an omitted setting keeps its value, and so does a null one (settings are
// never null).
func programChanges(in model.UpdateLoyaltyProgramInput) loyalty.ProgramChanges {
	return loyalty.ProgramChanges{
		PointsPerCurrencyUnit: in.PointsPerCurrencyUnit.Value(),
		MultiplierBronze:      in.MultiplierBronze.Value(),
		MultiplierSilver:      in.MultiplierSilver.Value(),
		MultiplierGold:        in.MultiplierGold.Value(),
		MultiplierPlatinum:    in.MultiplierPlatinum.Value(),
		ThresholdSilver:       in.ThresholdSilver.Value(),
		ThresholdGold:         in.ThresholdGold.Value(),
		ThresholdPlatinum:     in.ThresholdPlatinum.Value(),
		QualificationMonths:   in.QualificationMonths.Value(),
		TierDurationMonths:    in.TierDurationMonths.Value(),
		PointsLifetimeMonths:  in.PointsLifetimeMonths.Value(),
		AutoEnroll:            in.AutoEnroll.Value(),
		SegmentLookbackDays:   in.SegmentLookbackDays.Value(),
	}
}

// selectsTotalCount tells whether the connection being resolved asks for totalCount, which
// costs a count statement only then.
func selectsTotalCount(ctx context.Context) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

func transactionConnection(p loyalty.TransactionPage) *model.LoyaltyTransactionConnection {
	out := &model.LoyaltyTransactionConnection{
		Edges:      make([]model.LoyaltyTransactionEdge, len(p.Items)),
		Nodes:      p.Items,
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNext},
		TotalCount: max(p.Total, 0),
	}
	for i := range p.Items {
		out.Edges[i] = model.LoyaltyTransactionEdge{Cursor: loyalty.TransactionCursor(&p.Items[i]), Node: &p.Items[i]}
	}
	if n := len(out.Edges); n > 0 {
		out.PageInfo.StartCursor, out.PageInfo.EndCursor = &out.Edges[0].Cursor, &out.Edges[n-1].Cursor
	}
	return out
}

func purchaseConnection(p loyalty.PurchasePage) *model.PurchaseConnection {
	out := &model.PurchaseConnection{
		Edges:      make([]model.PurchaseEdge, len(p.Items)),
		Nodes:      p.Items,
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNext},
		TotalCount: max(p.Total, 0),
	}
	for i := range p.Items {
		out.Edges[i] = model.PurchaseEdge{Cursor: loyalty.PurchaseCursor(&p.Items[i]), Node: &p.Items[i]}
	}
	if n := len(out.Edges); n > 0 {
		out.PageInfo.StartCursor, out.PageInfo.EndCursor = &out.Edges[0].Cursor, &out.Edges[n-1].Cursor
	}
	return out
}

// loadForList loads the key of the customer whose field is being resolved; when that
// customer is an element of a list of customers (customers { nodes } or { edges { node } }),
// it first queues the same key for every customer of the list. The loaders batch by time
// (graph.LoaderWait): under load, the goroutines that gqlgen starts for the 50 elements of a
// page reach a loader over more than that wait, and the page would cost a varying number of
// statements. Queuing the siblings' keys from the first element makes it one batch however
// the goroutines are scheduled; the other elements find their key already queued. The
// siblings ask for the same field with the same arguments (one selection set), so nothing
// is read that the page does not show, except for customers without a loyalty account.
func loadForList[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K, keyOf func(customerID uuid.UUID) K) (V, error) {
	if ids := listedCustomerIDs(ctx); len(ids) > 1 {
		keys := make([]K, len(ids))
		for i, id := range ids {
			keys[i] = keyOf(id)
		}
		l.LoadAllThunk(ctx, keys) // queued only; each element reads its own value below
	}
	return l.Load(ctx, key)
}

// listedCustomerIDs are the ids of the customers of the list that holds the customer being
// resolved, read from the field contexts gqlgen keeps (a list element's context has its
// Index; its parent's Result is the list); nil outside a list of customers.
func listedCustomerIDs(ctx context.Context) []uuid.UUID {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Index == nil {
			continue
		}
		if fc.Parent == nil {
			return nil
		}
		var ids []uuid.UUID
		switch list := fc.Parent.Result.(type) {
		case []models.Customer:
			for i := range list {
				ids = append(ids, list[i].ID)
			}
		case []model.CustomerEdge:
			for _, e := range list {
				if e.Node != nil {
					ids = append(ids, e.Node.ID)
				}
			}
		}
		return ids
	}
	return nil
}
