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
	opts Options
}

type dataloadgenOption = dataloadgen.Option

// Options tune the loaders of a request.
type Options struct {
	// Wait is how long each loader collects keys before it queries.
	Wait time.Duration
	// Observer is told of every batch (metrics, tracing); nil: none.
	Observer Observer
}

// Observer is told of each batch a loader reads, by the loader's name (such as
// "loyalty_accounts").
type Observer interface {
	// BatchStart is called before the batch of keys is read; the read runs with the
	// context it returns.
	BatchStart(ctx context.Context, loader string, keys int) context.Context
	// BatchEnd is called after the read, with that context and the read's error.
	BatchEnd(ctx context.Context, loader string, err error)
}

// Observers is one Observer telling each of os in turn (the nil ones left out); nil when
// none is left.
func Observers(os ...Observer) Observer {
	var all observers
	for _, o := range os {
		if o != nil {
			all = append(all, o)
		}
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return all
}

type observers []Observer

func (os observers) BatchStart(ctx context.Context, loader string, keys int) context.Context {
	for _, o := range os {
		ctx = o.BatchStart(ctx, loader, keys)
	}
	return ctx
}

func (os observers) BatchEnd(ctx context.Context, loader string, err error) {
	for i := len(os) - 1; i >= 0; i-- {
		os[i].BatchEnd(ctx, loader, err)
	}
}

// New returns fresh loaders.
func New(src Sources, o Options) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(o.Wait), dataloadgen.WithBatchCapacity(500)}
	c, obs := src.Customers, o.Observer
	return &Loaders{
		src:             src,
		opts:            o,
		Addresses:       dataloadgen.NewLoader(observed(obs, "addresses", inKeyOrder(c.AddressesOf)), opts...),
		LoyaltyAccounts: dataloadgen.NewLoader(observed(obs, "loyalty_accounts", inKeyOrder(c.LoyaltyAccountsOf)), opts...),
		CreditAccounts:  dataloadgen.NewLoader(observed(obs, "credit_accounts", inKeyOrder(c.CreditAccountsOf)), opts...),
		Segments:        dataloadgen.NewLoader(observed(obs, "segments", inKeyOrder(c.SegmentsOf)), opts...),
		Loyalty:         newLoyaltyLoaders(src.Loyalty, obs, opts...),
		Credit:          newCreditLoaders(src.Credit, obs, opts...),
	}
}

// observed tells o of each batch that fetch reads, as the loader name.
func observed[K comparable, V any](o Observer, name string, fetch func(context.Context, []K) ([]V, []error)) func(context.Context, []K) ([]V, []error) {
	if o == nil {
		return fetch
	}
	return func(ctx context.Context, keys []K) ([]V, []error) {
		ctx = o.BatchStart(ctx, name, len(keys))
		values, errs := fetch(ctx, keys)
		var err error
		for _, e := range errs {
			if e != nil {
				err = e
				break
			}
		}
		o.BatchEnd(ctx, name, err)
		return values, errs
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
func Middleware(src Sources, o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), ctxKey{}, New(src, o))
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
	return context.WithValue(ctx, ctxKey{}, New(l.src, l.opts))
}
