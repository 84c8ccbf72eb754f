package loaders

import (
	"context"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/loyalty"
)

// LoyaltySource is what the loyalty loaders batch: each call reads many customers' rows
// (their purchases, or their loyalty accounts') with a fixed number of statements, returning
// one value per key in key order.
type LoyaltySource interface {
	TransactionPages(ctx context.Context, keys []loyalty.TransactionsKey) ([]loyalty.TransactionPage, error)
	PurchasePages(ctx context.Context, keys []loyalty.PurchasesKey) ([]loyalty.PurchasePage, error)
	PointsExpiring(ctx context.Context, keys []loyalty.ExpiringKey) ([]int, error)
	TierProgresses(ctx context.Context, customerIDs []uuid.UUID) ([]loyalty.TierProgress, error)
}

// LoyaltyLoaders batch the loyalty reads of the Customer 360, all keyed by customer id: a
// page of 50 customers with their accounts' last transactions costs the same statements as
// a page of one.
type LoyaltyLoaders struct {
	Transactions *dataloadgen.Loader[loyalty.TransactionsKey, loyalty.TransactionPage]
	Purchases    *dataloadgen.Loader[loyalty.PurchasesKey, loyalty.PurchasePage]
	Expiring     *dataloadgen.Loader[loyalty.ExpiringKey, int]
	TierProgress *dataloadgen.Loader[uuid.UUID, loyalty.TierProgress] // by customer id
}

func newLoyaltyLoaders(src LoyaltySource, obs Observer, opts ...dataloadgenOption) *LoyaltyLoaders {
	return &LoyaltyLoaders{
		Transactions: dataloadgen.NewLoader(observed(obs, "loyalty_transactions", inOrder(src.TransactionPages)), opts...),
		Purchases:    dataloadgen.NewLoader(observed(obs, "purchases", inOrder(src.PurchasePages)), opts...),
		Expiring:     dataloadgen.NewLoader(observed(obs, "points_expiring", inOrder(src.PointsExpiring)), opts...),
		TierProgress: dataloadgen.NewLoader(observed(obs, "tier_progress", inOrder(src.TierProgresses)), opts...),
	}
}

// inOrder adapts a batch read that already returns one value per key in key order; its
// error is every key's.
func inOrder[K comparable, V any](fetch func(context.Context, []K) ([]V, error)) func(context.Context, []K) ([]V, []error) {
	return func(ctx context.Context, keys []K) ([]V, []error) {
		out, err := fetch(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		return out, nil
	}
}
