package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/vikstrous/dataloadgen"

	"customerservice/credit"
	"customerservice/graph/loaders"
	"customerservice/graph/model"
	"customerservice/models"
)

// The GraphQL side of B2B credit (§5): inputs to the credit service's, the account's read
// fields through the per-request loaders, and pages to Relay connections. The resolvers in
// schema.resolvers.go call these and stay a few lines each.

// defaultPaymentTermDays is the schema's default; an explicit null means the same.
const defaultPaymentTermDays = 30

func openCreditAccount(in model.OpenCreditAccountInput) credit.OpenAccount {
	term := defaultPaymentTermDays
	if v, ok := in.PaymentTermDays.ValueOK(); ok && v != nil {
		term = *v
	}
	return credit.OpenAccount{CustomerID: in.CustomerID, CreditLimit: in.CreditLimit, PaymentTermDays: term}
}

func creditCharge(in model.ChargeCreditInput) credit.Charge {
	return credit.Charge{CustomerID: in.CustomerID, OrderID: in.OrderID, Amount: in.Amount}
}

func creditPayment(in model.RecordCreditPaymentInput) credit.Payment {
	p := credit.Payment{CustomerID: in.CustomerID, Amount: in.Amount, PaymentReference: in.PaymentReference}
	if v, ok := in.PaymentDate.ValueOK(); ok && v != nil {
		p.PaymentDate = v
	}
	return p
}

// creditAgingOf is the account's aging, read once per request for overdueAmount and aging,
// in one batch with the other accounts of its page.
func creditAgingOf(ctx context.Context, acc *models.CreditAccount) (credit.Aging, error) {
	return loadWithPage(ctx, loaders.For(ctx).Credit.Aging, acc.ID, pageCreditAccounts(ctx, acc))
}

func creditAging(a credit.Aging) *model.CreditAging {
	return &model.CreditAging{
		Current: a.Current, Days1To30: a.Days1To30, Days31To60: a.Days31To60, Days61To90: a.Days61To90, Over90: a.Over90,
	}
}

// creditUsages is one page of the account's usages, batched with the other accounts' of
// the request.
func creditUsages(ctx context.Context, acc *models.CreditAccount, first *int, after *string, status *models.CreditUsageStatus) (*model.CreditUsageConnection, error) {
	page, err := credit.NewPage(first, after)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	key := loaders.UsagesKey{AccountID: acc.ID, Page: page}
	if status != nil {
		key.Status = *status
	}
	siblings := pageCreditAccounts(ctx, acc)
	keys := make([]loaders.UsagesKey, len(siblings))
	for i, id := range siblings {
		keys[i] = key
		keys[i].AccountID = id
	}
	p, err := loadWithPage(ctx, loaders.For(ctx).Credit.Usages, key, keys)
	if err != nil {
		return nil, err
	}
	conn := &model.CreditUsageConnection{
		Edges:      make([]model.CreditUsageEdge, len(p.Usages)),
		Nodes:      p.Usages,
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: page.After != credit.Cursor{}},
		TotalCount: p.TotalCount,
	}
	for i := range p.Usages {
		u := &p.Usages[i]
		conn.Edges[i] = model.CreditUsageEdge{Cursor: credit.CursorOf(u.CreatedAt, u.ID).String(), Node: u}
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// creditPayments is one page of the account's payments, batched like creditUsages.
func creditPayments(ctx context.Context, acc *models.CreditAccount, first *int, after *string) (*model.CreditPaymentConnection, error) {
	page, err := credit.NewPage(first, after)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	key := loaders.PaymentsKey{AccountID: acc.ID, Page: page}
	siblings := pageCreditAccounts(ctx, acc)
	keys := make([]loaders.PaymentsKey, len(siblings))
	for i, id := range siblings {
		keys[i] = loaders.PaymentsKey{AccountID: id, Page: page}
	}
	p, err := loadWithPage(ctx, loaders.For(ctx).Credit.Payments, key, keys)
	if err != nil {
		return nil, err
	}
	conn := &model.CreditPaymentConnection{
		Edges:      make([]model.CreditPaymentEdge, len(p.Payments)),
		Nodes:      p.Payments,
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: page.After != credit.Cursor{}},
		TotalCount: p.TotalCount,
	}
	for i := range p.Payments {
		pay := &p.Payments[i]
		conn.Edges[i] = model.CreditPaymentEdge{Cursor: credit.CursorOf(pay.CreatedAt, pay.ID).String(), Node: pay}
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// loadWithPage loads key after putting the keys of its whole page into the loader's batch
// (without waiting for them): the first account of a page to get here batches the page.
func loadWithPage[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K, page []K) (V, error) {
	if len(page) > 1 {
		l.LoadAllThunk(ctx, page)
	}
	return l.Load(ctx, key)
}

// pageCreditAccounts returns the ids of the credit accounts listed with acc when acc is
// resolved inside a page of customers (the `nodes` or `edges` of a customers list), else
// none. The loaders' short wait alone cannot promise one batch per page: gqlgen resolves
// the page's accounts in as many goroutines, and on a busy machine some reach their loader
// after the wait has fired, splitting the page into several statements. Loading the whole
// page's keys at once makes the cost a fixed number of statements per page. The page's
// accounts are already in the CreditAccounts loader (read for the page), so finding them
// costs no statement.
func pageCreditAccounts(ctx context.Context, acc *models.CreditAccount) []uuid.UUID {
	var customerIDs []uuid.UUID
	for fc := graphql.GetFieldContext(ctx); fc != nil && customerIDs == nil; fc = fc.Parent {
		switch page := fc.Result.(type) {
		case []models.Customer:
			customerIDs = make([]uuid.UUID, len(page))
			for i := range page {
				customerIDs[i] = page[i].ID
			}
		case []model.CustomerEdge:
			customerIDs = make([]uuid.UUID, 0, len(page))
			for _, e := range page {
				if e.Node != nil {
					customerIDs = append(customerIDs, e.Node.ID)
				}
			}
		}
	}
	if len(customerIDs) < 2 {
		return nil
	}
	accounts, err := loaders.For(ctx).CreditAccounts.LoadAll(ctx, customerIDs)
	if err != nil {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(accounts))
	for _, a := range accounts {
		if a != nil {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// setCursors fills a page's start and end cursors; an empty page has neither.
func setCursors(info *model.PageInfo, n int, cursor func(int) string) {
	if n == 0 {
		return
	}
	start, end := cursor(0), cursor(n-1)
	info.StartCursor, info.EndCursor = &start, &end
}

// usageOutstanding is what a usage still owes (zero once cancelled).
func usageOutstanding(u *models.CreditUsage) *decimal.Decimal {
	d := credit.UsageOutstanding(u)
	return &d
}
