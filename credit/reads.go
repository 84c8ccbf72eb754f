package credit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/models"
)

// Page sizes of the account's usages and payments (§8): 1–100, 20 by default.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// Cursor is a position in a list ordered newest first: the row's creation time (in
// microseconds, PostgreSQL's precision) and id. The zero Cursor is the start of the list.
// It is comparable, so loaders can key on it.
type Cursor struct {
	CreatedAt int64 // Unix microseconds
	ID        uuid.UUID
}

// CursorOf is the cursor of a row: a page after it starts with the next older row.
func CursorOf(createdAt time.Time, id uuid.UUID) Cursor {
	return Cursor{CreatedAt: createdAt.UnixMicro(), ID: id}
}

// String is the cursor as clients see it: opaque base64 of JSON.
func (c Cursor) String() string {
	b, _ := json.Marshal(struct {
		T int64     `json:"t"`
		I uuid.UUID `json:"i"`
	}{c.CreatedAt, c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c Cursor) createdAt() time.Time { return time.UnixMicro(c.CreatedAt).UTC() }

// Page asks for one page of a list, newest first.
type Page struct {
	First int
	After Cursor
}

// NewPage validates the arguments of a connection field (first, after): first 1–100, 20
// when omitted; after, a cursor of a previous page. Errors are INVALID on the argument.
func NewPage(first *int, after *string) (Page, error) {
	p := Page{First: defaultPageSize}
	if first != nil {
		if *first < 1 || *first > maxPageSize {
			return Page{}, apperr.OnField(apperr.Invalid, []string{"first"}, "first must be between 1 and %d", maxPageSize)
		}
		p.First = *first
	}
	if after != nil && *after != "" {
		bad := apperr.OnField(apperr.Invalid, []string{"after"}, "after is not a cursor of this list")
		raw, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil {
			return Page{}, bad
		}
		var c struct {
			T int64     `json:"t"`
			I uuid.UUID `json:"i"`
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil || dec.More() || c.I == uuid.Nil {
			return Page{}, bad
		}
		p.After = Cursor{CreatedAt: c.T, ID: c.I}
	}
	return p, nil
}

// Aging is what an account owes on its open usages by days past due (§5): today − due
// date ≤ 0 is current, then 1–30, 31–60, 61–90 and over 90 days.
type Aging struct {
	Current    decimal.Decimal `bun:"current"`
	Days1To30  decimal.Decimal `bun:"days_1_30"`
	Days31To60 decimal.Decimal `bun:"days_31_60"`
	Days61To90 decimal.Decimal `bun:"days_61_90"`
	Over90     decimal.Decimal `bun:"over_90"`
}

// Overdue is what is owed past the due date: every bucket but current.
func (a Aging) Overdue() decimal.Decimal {
	return a.Days1To30.Add(a.Days31To60).Add(a.Days61To90).Add(a.Over90)
}

// AgingOf returns the aging of each account, in one statement for all of them; an account
// without open usages owes nothing in every bucket. Computed from due dates at read time,
// so it is right before the daily job has marked anything overdue.
func (s *Service) AgingOf(ctx context.Context, accountIDs []uuid.UUID) (map[uuid.UUID]Aging, error) {
	var rows []struct {
		AccountID uuid.UUID `bun:"credit_account_id"`
		Aging
	}
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`
SELECT credit_account_id,
  COALESCE(SUM(unpaid) FILTER (WHERE days <= 0), 0)              AS current,
  COALESCE(SUM(unpaid) FILTER (WHERE days BETWEEN 1 AND 30), 0)  AS days_1_30,
  COALESCE(SUM(unpaid) FILTER (WHERE days BETWEEN 31 AND 60), 0) AS days_31_60,
  COALESCE(SUM(unpaid) FILTER (WHERE days BETWEEN 61 AND 90), 0) AS days_61_90,
  COALESCE(SUM(unpaid) FILTER (WHERE days > 90), 0)              AS over_90
FROM (
  SELECT credit_account_id, amount - amount_paid AS unpaid, `+today+` - due_date AS days
  FROM credit_usage
  WHERE credit_account_id = ANY(?) AND status IN ('pending', 'overdue')
) AS open
GROUP BY credit_account_id`, pgdialect.Array(accountIDs)).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("read credit aging: %w", err)
	}
	out := make(map[uuid.UUID]Aging, len(accountIDs))
	for _, id := range accountIDs {
		out[id] = Aging{Current: decimal.Zero, Days1To30: decimal.Zero, Days31To60: decimal.Zero, Days61To90: decimal.Zero, Over90: decimal.Zero}
	}
	for _, r := range rows {
		out[r.AccountID] = r.Aging
	}
	return out, nil
}

// PageOf is one account's position in a batched list read: which account, and where its
// page starts.
type PageOf struct {
	AccountID uuid.UUID
	After     Cursor
}

// UsagePage is one page of an account's usages, newest first.
type UsagePage struct {
	Usages      []models.CreditUsage
	HasNextPage bool
	TotalCount  int // usages of the account matching the status filter, on every page
}

// PaymentPage is one page of an account's payments, newest first.
type PaymentPage struct {
	Payments    []models.CreditPayment
	HasNextPage bool
	TotalCount  int
}

// UsagesOf reads one page of usages for each of pages (first of each, filtered by status
// when it is not empty), in one statement for all of them plus, when count, one counting them: each
// account's page is a LATERAL keyset scan of first+1 rows (the extra one says whether there
// is a next page). The status filter and the status reported are effective (§5): OVERDUE
// includes pending usages past due, PENDING excludes them. Results are in the order of pages.
func (s *Service) UsagesOf(ctx context.Context, first int, status models.CreditUsageStatus, count bool, pages []PageOf) ([]UsagePage, error) {
	filter, err := usageFilter(status)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Ord                int `bun:"ord"`
		models.CreditUsage `bun:",extend"`
	}
	var counts map[uuid.UUID]int
	err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		accounts, ats, ids := pageArrays(pages)
		if err := tx.NewRaw(`
SELECT k.ord, u.*
FROM unnest(?::uuid[], ?::timestamptz[], ?::uuid[]) WITH ORDINALITY AS k(account_id, after_at, after_id, ord)
CROSS JOIN LATERAL (
  SELECT cu.usage_id, cu.organization_id, cu.credit_account_id, cu.order_id, cu.amount, cu.amount_paid,
         `+effectiveStatus+` AS status, cu.due_date, cu.created_at, cu.updated_at
  FROM credit_usage AS cu
  WHERE cu.credit_account_id = k.account_id AND `+filter+`
    AND (k.after_id = ?::uuid OR (cu.created_at, cu.usage_id) < (k.after_at, k.after_id))
  ORDER BY cu.created_at DESC, cu.usage_id DESC
  LIMIT ?
) AS u
ORDER BY k.ord, u.created_at DESC, u.usage_id DESC`,
			accounts, ats, ids, uuid.Nil, first+1).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read credit usages: %w", err)
		}
		if !count {
			return nil
		}
		counts, err = countByAccount(ctx, tx, "credit_usage", "cu", filter, accounts)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]UsagePage, len(pages))
	for _, r := range rows {
		p := &out[r.Ord-1]
		if len(p.Usages) == first {
			p.HasNextPage = true
			continue
		}
		p.Usages = append(p.Usages, r.CreditUsage)
	}
	for i, pg := range pages {
		out[i].TotalCount = counts[pg.AccountID]
	}
	return out, nil
}

// PaymentsOf reads one page of payments for each of pages, as UsagesOf does usages.
func (s *Service) PaymentsOf(ctx context.Context, first int, pages []PageOf) ([]PaymentPage, error) {
	var rows []struct {
		Ord                  int `bun:"ord"`
		models.CreditPayment `bun:",extend"`
	}
	var counts map[uuid.UUID]int
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		accounts, ats, ids := pageArrays(pages)
		if err := tx.NewRaw(`
SELECT k.ord, p.*
FROM unnest(?::uuid[], ?::timestamptz[], ?::uuid[]) WITH ORDINALITY AS k(account_id, after_at, after_id, ord)
CROSS JOIN LATERAL (
  SELECT cp.* FROM credit_payments AS cp
  WHERE cp.credit_account_id = k.account_id
    AND (k.after_id = ?::uuid OR (cp.created_at, cp.payment_id) < (k.after_at, k.after_id))
  ORDER BY cp.created_at DESC, cp.payment_id DESC
  LIMIT ?
) AS p
ORDER BY k.ord, p.created_at DESC, p.payment_id DESC`,
			accounts, ats, ids, uuid.Nil, first+1).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read credit payments: %w", err)
		}
		var err error
		counts, err = countByAccount(ctx, tx, "credit_payments", "cp", "true", accounts)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]PaymentPage, len(pages))
	for _, r := range rows {
		p := &out[r.Ord-1]
		if len(p.Payments) == first {
			p.HasNextPage = true
			continue
		}
		p.Payments = append(p.Payments, r.CreditPayment)
	}
	for i, pg := range pages {
		out[i].TotalCount = counts[pg.AccountID]
	}
	return out, nil
}

// pageArrays are the parallel arrays unnest() reads: account ids, cursor times and ids
// (uuid.Nil: from the start).
func pageArrays(pages []PageOf) (accounts, ats, ids any) {
	a := make([]uuid.UUID, len(pages))
	t := make([]time.Time, len(pages))
	i := make([]uuid.UUID, len(pages))
	for n, p := range pages {
		a[n], t[n], i[n] = p.AccountID, p.After.createdAt(), p.After.ID
	}
	return pgdialect.Array(a), pgdialect.Array(t), pgdialect.Array(i)
}

// countByAccount counts the rows of table matching filter (written on alias) for each
// account, in one statement.
func countByAccount(ctx context.Context, tx bun.Tx, table, alias, filter string, accounts any) (map[uuid.UUID]int, error) {
	var rows []struct {
		AccountID uuid.UUID `bun:"credit_account_id"`
		N         int       `bun:"n"`
	}
	err := tx.NewRaw(`SELECT credit_account_id, count(*) AS n FROM `+table+` AS `+alias+`
WHERE credit_account_id = ANY(?) AND `+filter+` GROUP BY credit_account_id`, accounts).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", table, err)
	}
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.AccountID] = r.N
	}
	return out, nil
}

// usageFilter is the SQL condition (on alias cu) of a status filter, by effective status.
func usageFilter(status models.CreditUsageStatus) (string, error) {
	switch status {
	case "":
		return "true", nil
	case models.UsagePending:
		return "(cu.status = 'pending' AND cu.due_date >= " + today + ")", nil
	case models.UsageOverdue:
		return "(cu.status = 'overdue' OR (cu.status = 'pending' AND cu.due_date < " + today + "))", nil
	case models.UsagePaid:
		return "cu.status = 'paid'", nil
	case models.UsageCancelled:
		return "cu.status = 'cancelled'", nil
	}
	return "", apperr.OnField(apperr.Invalid, []string{"status"}, "unknown usage status %q", status)
}

// UsagesArgs are the arguments of one `usages` field: the page, the status filter ("" all)
// and whether totalCount is asked for.
type UsagesArgs struct {
	Page   Page
	Status models.CreditUsageStatus
	Count  bool
}

// usageColumns are what a usage page reads, status being the effective one (§5).
var usageColumns = []string{"usage_id", "organization_id", "credit_account_id", "order_id", "amount", "amount_paid",
	"status", "due_date", "created_at", "updated_at"}

// UsageRowsSQL is the page a asks for of the credit account aliased `ca`, as SQL for the
// Customer 360 read to embed: rows, a subquery of the page's usages (every column of
// usageColumns, status the effective one, aliased u by the caller) newest first, First+1 of
// them; count, a scalar subquery of how many match in all. The same rows, statuses and
// order as UsagesOf.
func UsageRowsSQL(a UsagesArgs) (rows, count string, err error) {
	filter, err := usageFilter(a.Status)
	if err != nil {
		return "", "", err
	}
	after := ""
	if a.Page.After != (Cursor{}) {
		after = fmt.Sprintf(" AND (cu.created_at, cu.usage_id) < ('%s'::timestamptz, '%s'::uuid)",
			a.Page.After.createdAt().Format(time.RFC3339Nano), a.Page.After.ID)
	}
	rows = fmt.Sprintf(`SELECT cu.usage_id, cu.organization_id, cu.credit_account_id, cu.order_id, cu.amount, cu.amount_paid,
                 %s AS status, cu.due_date, cu.created_at, cu.updated_at
          FROM credit_usage AS cu WHERE cu.credit_account_id = ca.credit_account_id AND %s%s
          ORDER BY cu.created_at DESC, cu.usage_id DESC LIMIT %d`, effectiveStatus, filter, after, a.Page.First+1)
	count = "(SELECT count(*) FROM credit_usage AS cu WHERE cu.credit_account_id = ca.credit_account_id AND " + filter + ")"
	return rows, count, nil
}

// UsagePageSQL is UsageRowsSQL as a scalar subquery of a JSON array [rows, count]: the rows
// as db.JSONRow, count NULL unless asked for; DecodeUsagePage reads it.
func UsagePageSQL(a UsagesArgs) (string, error) {
	rows, count, err := UsageRowsSQL(a)
	if err != nil {
		return "", err
	}
	if !a.Count {
		count = "NULL"
	}
	return fmt.Sprintf(`json_build_array((SELECT json_agg(%s ORDER BY u.created_at DESC, u.usage_id DESC)
    FROM (%s) u), %s)`, db.JSONRow("u", usageColumns), rows, count), nil
}

// DecodeUsagePage reads what UsagePageSQL returned.
func DecodeUsagePage(pool *bun.DB, page db.Nested, a UsagesArgs) (UsagePage, error) {
	if page.Kind != db.NestedArray || len(page.Items) != 2 {
		return UsagePage{}, errors.New("decode credit usages: not a [rows, count] pair")
	}
	rows := page.Items[0].Items
	p := UsagePage{Usages: make([]models.CreditUsage, 0, min(len(rows), a.Page.First))}
	for _, r := range rows {
		if len(p.Usages) == a.Page.First {
			p.HasNextPage = true
			break
		}
		var u models.CreditUsage
		if err := db.ScanNested(pool, &u, usageColumns, r); err != nil {
			return UsagePage{}, err
		}
		p.Usages = append(p.Usages, u)
	}
	if a.Count {
		n, err := strconv.Atoi(string(page.Items[1].Text))
		if err != nil {
			return UsagePage{}, fmt.Errorf("decode credit usages count: %w", err)
		}
		p.TotalCount = n
	}
	return p, nil
}
