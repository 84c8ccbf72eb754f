package loaders

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"customerservice/graph/model"
	"customerservice/models"
)

// How a page of customers stays a fixed number of statements. First, the read of the page
// (or of one customer) fetches in its own statement everything under the customers that the
// query selects — addresses, accounts, pages of transactions and usages, segment — and
// primes these loaders with it (graph.prime): those fields then cost nothing. Second, what
// that read does not cover goes through LoadListed: the loaders batch by time (LoaderWait),
// and under load the goroutines gqlgen starts for the elements of a page reach a loader over
// more than that wait, so the first element to ask queues the same field's key for every
// customer of its list; the others find theirs already queued, and the page is one batch
// however the goroutines are scheduled.

// LoadListed loads key, the key of a field of the customer being resolved. When that
// customer is an element of a list of customers (customers { nodes } or { edges { node } }),
// it first queues keyOf(c) for every customer c of the list (ok false: none for c), without
// waiting for them. The siblings ask for the same field with the same arguments (one
// selection set), so nothing is read that the page does not show.
func LoadListed[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K,
	keyOf func(ctx context.Context, customerID uuid.UUID) (K, bool)) (V, error) {
	if list := listOf(ctx); list != nil && firstOfList(ctx, l, list, keyOf) {
		ids := listedIDs(list)
		keys := make([]K, 0, len(ids))
		for _, id := range ids {
			if k, ok := keyOf(ctx, id); ok {
				keys = append(keys, k)
			}
		}
		if len(keys) > 1 {
			l.LoadAllThunk(ctx, keys) // queued only; each element reads its own value below
		}
	}
	return l.Load(ctx, key)
}

// firstOfList reports whether this is the first element of list to load this field from l
// with these arguments (the key of the list's first customer stands for them): only that
// one queues the siblings' keys, so a page costs O(customers) loads, not O(customers²).
func firstOfList[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], list *graphql.FieldContext,
	keyOf func(ctx context.Context, customerID uuid.UUID) (K, bool)) bool {
	first, n := firstListed(list)
	if n < 2 {
		return false
	}
	type queued struct{ loader, list, args any }
	var args any
	if k, ok := keyOf(ctx, first); ok {
		args = k
	}
	_, done := For(ctx).listed.LoadOrStore(queued{loader: l, list: list, args: args}, struct{}{})
	return !done
}

// listOf is the field context of the list of customers that holds the customer whose field
// is being resolved (the nearest enclosing field whose result is one, in the field contexts
// gqlgen keeps); nil outside such a list.
func listOf(ctx context.Context) *graphql.FieldContext {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch fc.Result.(type) {
		case []models.Customer, []model.CustomerEdge:
			return fc
		}
	}
	return nil
}

// firstListed is the id of the first customer of a list that listOf found, and the list's length.
func firstListed(list *graphql.FieldContext) (uuid.UUID, int) {
	switch l := list.Result.(type) {
	case []models.Customer:
		if len(l) > 0 {
			return l[0].ID, len(l)
		}
	case []model.CustomerEdge:
		if len(l) > 0 && l[0].Node != nil {
			return l[0].Node.ID, len(l)
		}
	}
	return uuid.Nil, 0
}

// listedIDs are the ids of the customers of a list that listOf found.
func listedIDs(list *graphql.FieldContext) []uuid.UUID {
	switch l := list.Result.(type) {
	case []models.Customer:
		ids := make([]uuid.UUID, len(l))
		for i := range l {
			ids[i] = l[i].ID
		}
		return ids
	case []model.CustomerEdge:
		ids := make([]uuid.UUID, 0, len(l))
		for _, e := range l {
			if e.Node != nil {
				ids = append(ids, e.Node.ID)
			}
		}
		return ids
	}
	return nil
}

// CreditAccountOf is the key function of the credit loaders, keyed by account: the account
// of a listed customer, from the CreditAccounts loader (primed by the page's read, so
// finding it costs no statement).
func CreditAccountOf(ctx context.Context, customerID uuid.UUID) (*models.CreditAccount, bool) {
	acc, err := For(ctx).CreditAccounts.Load(ctx, customerID)
	return acc, err == nil && acc != nil
}
