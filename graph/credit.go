package graph

import (
	"context"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

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
	return loaders.LoadListed(ctx, loaders.For(ctx).Credit.Aging, acc.ID, func(ctx context.Context, customerID uuid.UUID) (uuid.UUID, bool) {
		a, ok := loaders.CreditAccountOf(ctx, customerID)
		if !ok {
			return uuid.Nil, false
		}
		return a.ID, true
	})
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
	key := loaders.UsagesKey{AccountID: acc.ID, Page: page, Count: selectsTotalCount(ctx)}
	if status != nil {
		key.Status = *status
	}
	p, err := loaders.LoadListed(ctx, loaders.For(ctx).Credit.Usages, key, siblingAccount(key, func(k *loaders.UsagesKey, id uuid.UUID) { k.AccountID = id }))
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
	p, err := loaders.LoadListed(ctx, loaders.For(ctx).Credit.Payments, key, siblingAccount(key, func(k *loaders.PaymentsKey, id uuid.UUID) { k.AccountID = id }))
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

// siblingAccount is the key function of loaders.LoadListed for a field of a credit account:
// key with the account of each listed customer.
func siblingAccount[K any](key K, setAccount func(*K, uuid.UUID)) func(context.Context, uuid.UUID) (K, bool) {
	return func(ctx context.Context, customerID uuid.UUID) (K, bool) {
		acc, ok := loaders.CreditAccountOf(ctx, customerID)
		if !ok {
			return key, false
		}
		k := key
		setAccount(&k, acc.ID)
		return k, true
	}
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
