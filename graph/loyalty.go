package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/graph/loaders"
	"customerservice/graph/model"
	"customerservice/loyalty"
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

// loadForList loads key, a field of the customer being resolved, batched with the same
// field of the other customers of its list (loaders.LoadListed).
func loadForList[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K, keyOf func(customerID uuid.UUID) K) (V, error) {
	return loaders.LoadListed(ctx, l, key, func(_ context.Context, id uuid.UUID) (K, bool) { return keyOf(id), true })
}

// loadForAccounts is loadForList for a field of the loyalty account: only the listed
// customers that have an account are batched (their accounts are in the LoyaltyAccounts
// loader, primed by the page's read).
func loadForAccounts[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K, keyOf func(customerID uuid.UUID) K) (V, error) {
	return loaders.LoadListed(ctx, l, key, func(ctx context.Context, id uuid.UUID) (K, bool) {
		acc, err := loaders.For(ctx).LoyaltyAccounts.Load(ctx, id)
		return keyOf(id), err == nil && acc != nil
	})
}
