// Package loaders holds the per-request dataloaders of the Customer 360: one per relation,
// keyed by customer id, created by an HTTP middleware and reached through the context, so a
// page of customers costs one statement per relation instead of one per customer.
package loaders

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/models"
)

// Sources are what the loaders batch, one per domain.
type Sources struct {
	Customers CustomerSource
	Loyalty   LoyaltySource
	Credit    CreditSource
}

// CustomerSource reads the customers' relations: each call reads many customers' rows in one statement.
type CustomerSource interface {
	AddressesOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID][]models.Address, error)
	LoyaltyAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.LoyaltyAccount, error)
	CreditAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CreditAccount, error)
	SegmentsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CustomerSegment, error)
}

// Loaders of one request.
type Loaders struct {
	Addresses       *dataloadgen.Loader[uuid.UUID, []models.Address]
	LoyaltyAccounts *dataloadgen.Loader[uuid.UUID, *models.LoyaltyAccount]
	CreditAccounts  *dataloadgen.Loader[uuid.UUID, *models.CreditAccount]
	Segments        *dataloadgen.Loader[uuid.UUID, *models.CustomerSegment]
	Loyalty         *LoyaltyLoaders
	Credit          *CreditLoaders

	listed sync.Map // the fields LoadListed has queued for a whole list (firstOfList)

	// What they were made from, for Fresh.
	src  Sources
	wait time.Duration
}

type dataloadgenOption = dataloadgen.Option

// New returns fresh loaders; wait is how long each collects keys before it queries.
func New(src Sources, wait time.Duration) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(500)}
	c := src.Customers
	return &Loaders{
		src:             src,
		wait:            wait,
		Addresses:       dataloadgen.NewLoader(inKeyOrder(c.AddressesOf), opts...),
		LoyaltyAccounts: dataloadgen.NewLoader(inKeyOrder(c.LoyaltyAccountsOf), opts...),
		CreditAccounts:  dataloadgen.NewLoader(inKeyOrder(c.CreditAccountsOf), opts...),
		Segments:        dataloadgen.NewLoader(inKeyOrder(c.SegmentsOf), opts...),
		Loyalty:         newLoyaltyLoaders(src.Loyalty, opts...),
		Credit:          newCreditLoaders(src.Credit, opts...),
	}
}

// inKeyOrder adapts a map-returning batch read to the loader's contract: one value per key,
// in key order, the zero value (nil) where a customer has no row.
func inKeyOrder[V any](fetch func(context.Context, []uuid.UUID) (map[uuid.UUID]V, error)) func(context.Context, []uuid.UUID) ([]V, []error) {
	return func(ctx context.Context, keys []uuid.UUID) ([]V, []error) {
		found, err := fetch(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		out := make([]V, len(keys))
		for i, k := range keys {
			out[i] = found[k]
		}
		return out, nil
	}
}

type ctxKey struct{}

// Middleware gives every request its own loaders.
func Middleware(src Sources, wait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, New(src, wait))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	return ctx.Value(ctxKey{}).(*Loaders)
}

// Fresh returns ctx with new, empty loaders made like the request's: for a root field of a
// mutation, which must read what the root fields before it wrote, not what they cached
// (§8: mutations of one operation run one after another). ctx without loaders is returned
// as it is.
func Fresh(ctx context.Context) context.Context {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, New(l.src, l.wait))
}
