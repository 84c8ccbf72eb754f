package loaders

import (
	"context"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/credit"
	"customerservice/models"
)

// CreditSource reads what hangs off credit accounts, many accounts per statement.
type CreditSource interface {
	AgingOf(ctx context.Context, accountIDs []uuid.UUID) (map[uuid.UUID]credit.Aging, error)
	UsagesOf(ctx context.Context, first int, status models.CreditUsageStatus, count bool, pages []credit.PageOf) ([]credit.UsagePage, error)
	PaymentsOf(ctx context.Context, first int, pages []credit.PageOf) ([]credit.PaymentPage, error)
}

// UsagesKey is one page of one account's usages: the account and the field's arguments.
type UsagesKey struct {
	AccountID uuid.UUID
	Page      credit.Page
	Status    models.CreditUsageStatus // "" for every status
	Count     bool                     // totalCount is asked for
}

// PaymentsKey is one page of one account's payments.
type PaymentsKey struct {
	AccountID uuid.UUID
	Page      credit.Page
}

// CreditLoaders batch the credit reads of the Customer 360: a page of customers with their
// accounts' aging, overdue amount, usages and payments costs one statement per relation
// (and per distinct page size and status filter asked for), not one per account.
type CreditLoaders struct {
	// Aging serves both overdueAmount and aging: one read per account per request.
	Aging    *dataloadgen.Loader[uuid.UUID, credit.Aging]
	Usages   *dataloadgen.Loader[UsagesKey, credit.UsagePage]
	Payments *dataloadgen.Loader[PaymentsKey, credit.PaymentPage]
}

func newCreditLoaders(src CreditSource, obs Observer, opts ...dataloadgenOption) *CreditLoaders {
	return &CreditLoaders{
		Aging: dataloadgen.NewLoader(observed(obs, "credit_aging", inKeyOrder(src.AgingOf)), opts...),
		Usages: dataloadgen.NewLoader(observed(obs, "credit_usages", func(ctx context.Context, keys []UsagesKey) ([]credit.UsagePage, []error) {
			type shape struct {
				first  int
				status models.CreditUsageStatus
				count  bool
			}
			return inGroups(keys, func(k UsagesKey) (shape, credit.PageOf) {
				return shape{k.Page.First, k.Status, k.Count}, credit.PageOf{AccountID: k.AccountID, After: k.Page.After}
			}, func(s shape, pages []credit.PageOf) ([]credit.UsagePage, error) {
				return src.UsagesOf(ctx, s.first, s.status, s.count, pages)
			})
		}), opts...),
		Payments: dataloadgen.NewLoader(observed(obs, "credit_payments", func(ctx context.Context, keys []PaymentsKey) ([]credit.PaymentPage, []error) {
			return inGroups(keys, func(k PaymentsKey) (int, credit.PageOf) {
				return k.Page.First, credit.PageOf{AccountID: k.AccountID, After: k.Page.After}
			}, func(first int, pages []credit.PageOf) ([]credit.PaymentPage, error) {
				return src.PaymentsOf(ctx, first, pages)
			})
		}), opts...),
	}
}

// inGroups answers a batch of page keys with one read per shape (the arguments every
// account's page of one read shares: page size, filter), in key order.
func inGroups[K any, S comparable, V any](keys []K, split func(K) (S, credit.PageOf),
	read func(S, []credit.PageOf) ([]V, error)) ([]V, []error) {
	type group struct {
		pages []credit.PageOf
		at    []int // positions in keys
	}
	groups := map[S]*group{}
	var order []S
	for i, k := range keys {
		s, p := split(k)
		g, ok := groups[s]
		if !ok {
			g = &group{}
			groups[s] = g
			order = append(order, s)
		}
		g.pages = append(g.pages, p)
		g.at = append(g.at, i)
	}
	out := make([]V, len(keys))
	for _, s := range order {
		g := groups[s]
		vals, err := read(s, g.pages)
		if err != nil {
			return nil, []error{err}
		}
		for j, v := range vals {
			out[g.at[j]] = v
		}
	}
	return out, nil
}
