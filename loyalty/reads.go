package loyalty

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
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/models"
)

// The batched reads of §4 behind the per-request loaders: each call serves many customers
// (their purchases, or their loyalty accounts' transactions, expiring points and tier
// progress) with a fixed number of statements, in its own short read transaction.
// Keys that share their arguments are read together: `unnest` of the ids and a LATERAL
// subquery that takes each one's newest page through the (account, created_at DESC, id DESC)
// index, with keyset cursors (no OFFSET).

// Page is a validated page request: 1 ≤ First ≤ 100 and an opaque After cursor ("" none).
type Page struct {
	First int
	After string
}

const (
	defaultFirst = 20
	maxFirst     = 100
)

// NewPage validates `first` (1–100, default 20) and `after`; errors are INVALID on the
// argument (BAD_USER_INPUT for a query).
func NewPage(first *int, after *string) (Page, error) {
	p := Page{First: defaultFirst}
	if first != nil {
		if *first < 1 || *first > maxFirst {
			return p, apperr.OnField(apperr.Invalid, []string{"first"}, "first must be between 1 and %d", maxFirst)
		}
		p.First = *first
	}
	if after != nil {
		if _, err := decodeCursor(*after); err != nil {
			return p, err
		}
		p.After = *after
	}
	return p, nil
}

// cursor is a position in a newest-first list: the row's time and id.
type cursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

func encodeCursor(at time.Time, id uuid.UUID) string {
	b, _ := json.Marshal(cursor{At: at.UTC(), ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, error) {
	bad := apperr.OnField(apperr.Invalid, []string{"after"}, "after is not a cursor of this list")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() || c.ID == uuid.Nil || c.At.IsZero() {
		return nil, bad
	}
	return &c, nil
}

// TransactionCursor is the cursor of a transaction in its account's list.
func TransactionCursor(t *models.LoyaltyTransaction) string { return encodeCursor(t.CreatedAt, t.ID) }

// PurchaseCursor is the cursor of a purchase in its customer's list.
func PurchaseCursor(p *models.Purchase) string { return encodeCursor(p.OccurredAt, p.ID) }

// TransactionsKey asks for one page of the transactions of a customer's loyalty account,
// newest first, of one type ("" all); Count also counts all that match. The loaders key
// the account's reads by customer so that the keys of a list of customers are known before
// their accounts are.
type TransactionsKey struct {
	CustomerID uuid.UUID
	Page       Page
	Type       models.LoyaltyTransactionType
	Count      bool
}

// TransactionPage is one page; Total is -1 when not counted.
type TransactionPage struct {
	Items   []models.LoyaltyTransaction
	HasNext bool
	Total   int
}

// TransactionPages reads the pages of many accounts: one statement per distinct arguments
// (plus one count), whatever the number of accounts. Pages come back in key order.
func (s *Service) TransactionPages(ctx context.Context, keys []TransactionsKey) ([]TransactionPage, error) {
	out := make([]TransactionPage, len(keys))
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		type args struct {
			page  Page
			typ   models.LoyaltyTransactionType
			count bool
		}
		groups := map[args][]int{}
		for i, k := range keys {
			a := args{k.Page, k.Type, k.Count}
			groups[a] = append(groups[a], i)
		}
		for a, idx := range groups {
			ids := make([]uuid.UUID, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].CustomerID
			}
			filter, fargs, err := pageFilter(a.page, "t.created_at", "t.transaction_id")
			if err != nil {
				return err
			}
			if a.typ != "" {
				filter += " AND t.transaction_type = ?"
				fargs = append(fargs, a.typ)
			}
			var rows []struct {
				models.LoyaltyTransaction `bun:",extend"`
				CustomerID                uuid.UUID `bun:"customer_id,type:uuid"`
			}
			qargs := append([]any{pgdialect.Array(ids)}, fargs...)
			qargs = append(qargs, a.page.First+1)
			if err := tx.NewRaw(`SELECT lt.*, a.customer_id FROM unnest(?::uuid[]) AS k(id)
				JOIN loyalty_accounts a ON a.customer_id = k.id
				CROSS JOIN LATERAL (SELECT t.* FROM loyalty_transactions t
					WHERE t.loyalty_account_id = a.loyalty_account_id`+filter+`
					ORDER BY t.created_at DESC, t.transaction_id DESC LIMIT ?) lt`, qargs...).Scan(ctx, &rows); err != nil {
				return fmt.Errorf("read transactions: %w", err)
			}
			pages := map[uuid.UUID]*TransactionPage{}
			for _, i := range idx {
				out[i].Total = -1
				pages[keys[i].CustomerID] = &out[i]
			}
			for _, r := range rows {
				p := pages[r.CustomerID]
				if len(p.Items) == a.page.First {
					p.HasNext = true
					continue
				}
				p.Items = append(p.Items, r.LoyaltyTransaction)
			}
			if a.count {
				counts, err := countTransactions(ctx, tx, ids, a.typ)
				if err != nil {
					return err
				}
				for _, i := range idx {
					out[i].Total = counts[keys[i].CustomerID]
				}
			}
		}
		return nil
	})
	return out, err
}

// PurchasesKey asks for one page of a customer's purchases, newest first.
type PurchasesKey struct {
	CustomerID uuid.UUID
	Page       Page
	Count      bool
}

// PurchasePage is one page; Total is -1 when not counted.
type PurchasePage struct {
	Items   []models.Purchase
	HasNext bool
	Total   int
}

// PurchasePages reads the pages of many customers, as TransactionPages.
func (s *Service) PurchasePages(ctx context.Context, keys []PurchasesKey) ([]PurchasePage, error) {
	out := make([]PurchasePage, len(keys))
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		type args struct {
			page  Page
			count bool
		}
		groups := map[args][]int{}
		for i, k := range keys {
			a := args{k.Page, k.Count}
			groups[a] = append(groups[a], i)
		}
		for a, idx := range groups {
			ids := make([]uuid.UUID, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].CustomerID
			}
			filter, fargs, err := pageFilter(a.page, "p.occurred_at", "p.purchase_id")
			if err != nil {
				return err
			}
			var rows []models.Purchase
			qargs := append([]any{pgdialect.Array(ids)}, fargs...)
			qargs = append(qargs, a.page.First+1)
			if err := tx.NewRaw(`SELECT x.* FROM unnest(?::uuid[]) AS k(id)
				CROSS JOIN LATERAL (SELECT p.* FROM purchases p
					WHERE p.customer_id = k.id`+filter+`
					ORDER BY p.occurred_at DESC, p.purchase_id DESC LIMIT ?) x`, qargs...).Scan(ctx, &rows); err != nil {
				return fmt.Errorf("read purchases: %w", err)
			}
			pages := map[uuid.UUID]*PurchasePage{}
			for _, i := range idx {
				out[i].Total = -1
				pages[keys[i].CustomerID] = &out[i]
			}
			for _, r := range rows {
				p := pages[r.CustomerID]
				if len(p.Items) == a.page.First {
					p.HasNext = true
					continue
				}
				p.Items = append(p.Items, r)
			}
			if a.count {
				counts, err := countPurchases(ctx, tx, ids)
				if err != nil {
					return err
				}
				for _, i := range idx {
					out[i].Total = counts[keys[i].CustomerID]
				}
			}
		}
		return nil
	})
	return out, err
}

// pageFilter is the keyset condition of a page after its cursor.
func pageFilter(p Page, atCol, idCol string) (string, []any, error) {
	if p.After == "" {
		return "", nil, nil
	}
	c, err := decodeCursor(p.After)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf(" AND (%s, %s) < (?, ?)", atCol, idCol), []any{c.At, c.ID}, nil
}

// countTransactions counts the transactions (of one type, "" all) of many customers'
// accounts in one statement.
func countTransactions(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID, typ models.LoyaltyTransactionType) (map[uuid.UUID]int, error) {
	q := tx.NewSelect().TableExpr("loyalty_transactions AS t").
		Join("JOIN loyalty_accounts AS a ON a.loyalty_account_id = t.loyalty_account_id").
		ColumnExpr("a.customer_id AS id").ColumnExpr("count(*)::int AS n").
		Where("a.customer_id = ANY(?)", pgdialect.Array(customerIDs)).GroupExpr("a.customer_id")
	if typ != "" {
		q = q.Where("t.transaction_type = ?", typ)
	}
	return scanCounts(ctx, q, "transactions")
}

// countPurchases counts the purchases of many customers in one statement.
func countPurchases(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID) (map[uuid.UUID]int, error) {
	q := tx.NewSelect().TableExpr("purchases AS p").ColumnExpr("p.customer_id AS id").ColumnExpr("count(*)::int AS n").
		Where("p.customer_id = ANY(?)", pgdialect.Array(customerIDs)).GroupExpr("p.customer_id")
	return scanCounts(ctx, q, "purchases")
}

func scanCounts(ctx context.Context, q *bun.SelectQuery, what string) (map[uuid.UUID]int, error) {
	var rows []struct {
		ID uuid.UUID `bun:"id,type:uuid"`
		N  int       `bun:"n"`
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count %s: %w", what, err)
	}
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.N
	}
	return out, nil
}

// ExpiringKey asks for the points of a customer's account expiring within Days days.
type ExpiringKey struct {
	CustomerID uuid.UUID
	Days       int
}

// ValidDays checks the horizon of pointsExpiringSoon: 1–365 days.
func ValidDays(days int) error {
	if days < 1 || days > 365 {
		return apperr.OnField(apperr.Invalid, []string{"days"}, "days must be between 1 and 365")
	}
	return nil
}

// PointsExpiring sums, per key, what remains in the account's lots expiring within the
// days from now — including lots already past their date that the job has not expired
// yet (they are still in the balance and will be gone at the next run). One statement per
// distinct horizon.
func (s *Service) PointsExpiring(ctx context.Context, keys []ExpiringKey) ([]int, error) {
	out := make([]int, len(keys))
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		groups := map[int][]int{}
		for i, k := range keys {
			groups[k.Days] = append(groups[k.Days], i)
		}
		for days, idx := range groups {
			ids := make([]uuid.UUID, len(idx))
			for j, i := range idx {
				ids[j] = keys[i].CustomerID
			}
			var rows []struct {
				ID     uuid.UUID `bun:"id,type:uuid"`
				Points int       `bun:"points"`
			}
			if err := tx.NewRaw(`SELECT a.customer_id AS id, sum(t.points_remaining)::int AS points
				FROM loyalty_accounts a JOIN loyalty_transactions t ON t.loyalty_account_id = a.loyalty_account_id
				WHERE a.customer_id = ANY(?) AND t.points_remaining > 0
					AND t.expires_at <= now() + make_interval(days => ?)
				GROUP BY a.customer_id`, pgdialect.Array(ids), days).Scan(ctx, &rows); err != nil {
				return fmt.Errorf("read expiring points: %w", err)
			}
			sums := make(map[uuid.UUID]int, len(rows))
			for _, r := range rows {
				sums[r.ID] = r.Points
			}
			for _, i := range idx {
				out[i] = sums[keys[i].CustomerID]
			}
		}
		return nil
	})
	return out, err
}

// TierProgress is where an account stands toward the next tier.
type TierProgress struct {
	Qualifying int  // qualifying points of the window (§4)
	ToNext     *int // points still needed for the next tier; nil at platinum
}

// TierProgresses reads the tier progress of many customers' accounts: the program's
// settings and one statement, in one transaction. A customer without an account has a zero
// progress.
func (s *Service) TierProgresses(ctx context.Context, customerIDs []uuid.UUID) ([]TierProgress, error) {
	out, err := s.tierProgresses(ctx, customerIDs)
	if err == nil && out == nil {
		// The organization has no program yet: create it (a write), then read again.
		if _, err = s.Program(ctx); err == nil {
			out, err = s.tierProgresses(ctx, customerIDs)
		}
	}
	return out, err
}

// tierProgresses returns nil when the organization has no program yet.
func (s *Service) tierProgresses(ctx context.Context, customerIDs []uuid.UUID) ([]TierProgress, error) {
	var out []TierProgress
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		prog, err := findProgram(ctx, tx)
		if err != nil || prog == nil {
			return err
		}
		var rows []struct {
			ID         uuid.UUID   `bun:"id,type:uuid"`
			Tier       models.Tier `bun:"tier"`
			Qualifying int         `bun:"qualifying"`
		}
		if err := tx.NewRaw(`SELECT a.customer_id AS id, a.tier, `+qualifyingSum("a.loyalty_account_id")+` AS qualifying
			FROM loyalty_accounts a WHERE a.customer_id = ANY(?)`,
			dbNow, prog.QualificationMonths, pgdialect.Array(customerIDs)).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read tier progress: %w", err)
		}
		out = make([]TierProgress, len(customerIDs))
		byID := make(map[uuid.UUID]int, len(rows))
		for i, r := range rows {
			byID[r.ID] = i
		}
		for i, id := range customerIDs {
			j, ok := byID[id]
			if !ok {
				continue
			}
			r := rows[j]
			out[i].Qualifying = r.Qualifying
			if next := NextTier(r.Tier); next != nil {
				out[i].ToNext = ptr(max(0, threshold(prog, *next)-r.Qualifying))
			}
		}
		return nil
	})
	return out, err
}

// TransactionsArgs are the arguments of one `transactions` field: the page, the type filter
// ("" all) and whether totalCount is asked for. Key gives the loader key of one customer's.
type TransactionsArgs struct {
	Page  Page
	Type  models.LoyaltyTransactionType
	Count bool
}

// Key is the loader key of these arguments for the account of customerID.
func (a TransactionsArgs) Key(customerID uuid.UUID) TransactionsKey {
	return TransactionsKey{CustomerID: customerID, Page: a.Page, Type: a.Type, Count: a.Count}
}

// transactionColumns are what a transaction page reads (metadata is not part of the API).
var transactionColumns = []string{"transaction_id", "organization_id", "loyalty_account_id", "transaction_type", "points",
	"balance_after", "reference_type", "reference_id", "description", "points_remaining", "expires_at", "created_at"}

// TransactionRowsSQL is the page a asks for of the loyalty account aliased `la`, as SQL
// for the Customer 360 read to embed: rows, a subquery of the page's transactions (every
// column, aliased t by the caller) newest first, First+1 of them (the extra one tells
// HasNext); count, a scalar subquery of how many match in all. The same rows and order as
// TransactionPages.
func TransactionRowsSQL(a TransactionsArgs) (rows, count string, err error) {
	switch a.Type {
	case "", models.TxEarn, models.TxRedeem, models.TxExpire, models.TxAdjust, models.TxBonus:
	default:
		return "", "", fmt.Errorf("loyalty: unknown transaction type %q", a.Type)
	}
	typeFilter := ""
	if a.Type != "" {
		typeFilter = " AND t.transaction_type = '" + string(a.Type) + "'"
	}
	after := ""
	if a.Page.After != "" {
		c, err := decodeCursor(a.Page.After)
		if err != nil {
			return "", "", err
		}
		after = fmt.Sprintf(" AND (t.created_at, t.transaction_id) < ('%s'::timestamptz, '%s'::uuid)",
			c.At.UTC().Format(time.RFC3339Nano), c.ID)
	}
	rows = fmt.Sprintf(`SELECT * FROM loyalty_transactions t WHERE t.loyalty_account_id = la.loyalty_account_id%s%s
          ORDER BY t.created_at DESC, t.transaction_id DESC LIMIT %d`, typeFilter, after, a.Page.First+1)
	count = "(SELECT count(*) FROM loyalty_transactions t WHERE t.loyalty_account_id = la.loyalty_account_id" + typeFilter + ")"
	return rows, count, nil
}

// TransactionPageSQL is TransactionRowsSQL as a scalar subquery of a JSON array [rows,
// count]: the rows as db.JSONRow, count NULL unless asked for; DecodeTransactionPage reads it.
func TransactionPageSQL(a TransactionsArgs) (string, error) {
	rows, count, err := TransactionRowsSQL(a)
	if err != nil {
		return "", err
	}
	if !a.Count {
		count = "NULL"
	}
	return fmt.Sprintf(`json_build_array((SELECT json_agg(%s ORDER BY t.created_at DESC, t.transaction_id DESC)
    FROM (%s) t), %s)`, db.JSONRow("t", transactionColumns), rows, count), nil
}

// DecodeTransactionPage reads what TransactionPageSQL returned.
func DecodeTransactionPage(pool *bun.DB, page db.Nested, a TransactionsArgs) (TransactionPage, error) {
	if page.Kind != db.NestedArray || len(page.Items) != 2 {
		return TransactionPage{}, errors.New("decode transactions: not a [rows, count] pair")
	}
	rows := page.Items[0].Items
	p := TransactionPage{Total: -1, Items: make([]models.LoyaltyTransaction, 0, min(len(rows), a.Page.First))}
	for _, r := range rows {
		if len(p.Items) == a.Page.First {
			p.HasNext = true
			break
		}
		var t models.LoyaltyTransaction
		if err := db.ScanNested(pool, &t, transactionColumns, r); err != nil {
			return TransactionPage{}, err
		}
		p.Items = append(p.Items, t)
	}
	if a.Count {
		n, err := strconv.Atoi(string(page.Items[1].Text))
		if err != nil {
			return TransactionPage{}, fmt.Errorf("decode transactions count: %w", err)
		}
		p.Total = n
	}
	return p, nil
}
