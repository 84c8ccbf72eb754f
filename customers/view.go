package customers

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/credit"
	"customerservice/db"
	"customerservice/loyalty"
	"customerservice/models"
)

// The Customer 360 read: the customers a lookup or a list page selects and every relation
// the query asks for — addresses, loyalty account and pages of its transactions, credit
// account and pages of its usages, segment — in ONE statement, as correlated subqueries that
// return JSON (the shape a hand-written SQL 360 has), sent with the organization setting in
// one round trip (db.ReadInOrg). Each domain writes the SQL of its own pages
// (loyalty.TransactionPageSQL, credit.UsagePageSQL); this file puts them together.

// Include names what a read of customers fetches along with them, in its statement.
type Include struct {
	Addresses, LoyaltyAccounts, CreditAccounts, Segments bool
	// Transactions are pages of each customer's loyalty account (they imply LoyaltyAccounts),
	// Usages pages of each customer's credit account (they imply CreditAccounts): one per
	// distinct arguments the query asks with.
	Transactions []loyalty.TransactionsArgs
	Usages       []credit.UsagesArgs
	// Node, when set, replaces all of the above: an SQL expression over customers AS c that
	// builds each customer's whole JSON as the API answers it (package graph/json360 compiles
	// it from a query's selection); Related.Nodes holds what it built, in the read's order.
	Node string
}

func (inc *Include) loyalty() bool { return inc.LoyaltyAccounts || len(inc.Transactions) > 0 }
func (inc *Include) credit() bool  { return inc.CreditAccounts || len(inc.Usages) > 0 }

// Related holds the relations Include asked for, for the customers read; a customer without
// a row is absent from its map.
type Related struct {
	Addresses       map[uuid.UUID][]models.Address
	LoyaltyAccounts map[uuid.UUID]*models.LoyaltyAccount
	CreditAccounts  map[uuid.UUID]*models.CreditAccount
	Segments        map[uuid.UUID]*models.CustomerSegment
	// Transactions by arguments, then by customer id (customers with an account); Usages by
	// arguments, then by credit account id.
	Transactions map[loyalty.TransactionsArgs]map[uuid.UUID]loyalty.TransactionPage
	Usages       map[credit.UsagesArgs]map[uuid.UUID]credit.UsagePage
	// Nodes are the customers' JSON that Include.Node built, in the order of the customers read.
	Nodes [][]byte
}

var (
	addressColumns       = []string{"address_id", "organization_id", "customer_id", "address_type", "recipient_name", "address_line1", "address_line2", "city", "state", "postal_code", "country", "phone", "is_default", "is_active", "created_at", "updated_at"}
	loyaltyAccountColumn = []string{"loyalty_account_id", "organization_id", "customer_id", "points_balance", "lifetime_points", "points_redeemed", "tier", "tier_since", "tier_expires_at", "total_purchases", "total_spent", "created_at", "updated_at"}
	creditAccountColumns = []string{"credit_account_id", "organization_id", "customer_id", "credit_limit", "credit_used", "credit_available", "payment_term_days", "status", "approved_at", "approved_by", "approval_notes", "suspended_at", "suspension_reason", "cancelled_at", "cancellation_reason", "created_at", "updated_at"}
	segmentColumns       = []string{"segment_id", "organization_id", "customer_id", "segment_code", "rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_score", "lifetime_value", "average_order_value", "total_orders", "days_since_last_purchase", "is_vip", "is_at_risk", "calculated_at"}
)

// view360 is the relations part of one 360 read: the subqueries added to the customers'
// SELECT list, and how to read their values into Related.
type view360 struct {
	inc  Include
	cols []string // the SQL of each relation column, in the order of scan
}

func newView360(inc Include) (*view360, error) {
	v := &view360{inc: inc}
	if inc.Node != "" {
		v.cols = []string{inc.Node}
		return v, nil
	}
	if inc.Addresses {
		v.cols = append(v.cols, `(SELECT json_agg(`+db.JSONRow("a", addressColumns)+`
    ORDER BY a.is_active DESC, a.is_default DESC, a.created_at, a.address_id)
  FROM addresses AS a WHERE a.customer_id = c.customer_id)`)
	}
	if inc.loyalty() {
		parts := []string{db.JSONRow("la", loyaltyAccountColumn)}
		for _, a := range inc.Transactions {
			sql, err := loyalty.TransactionPageSQL(a)
			if err != nil {
				return nil, err
			}
			parts = append(parts, sql)
		}
		v.cols = append(v.cols, `(SELECT json_build_array(`+strings.Join(parts, ",\n  ")+`)
  FROM loyalty_accounts AS la WHERE la.customer_id = c.customer_id)`)
	}
	if inc.credit() {
		parts := []string{db.JSONRow("ca", creditAccountColumns)}
		for _, a := range inc.Usages {
			sql, err := credit.UsagePageSQL(a)
			if err != nil {
				return nil, err
			}
			parts = append(parts, sql)
		}
		v.cols = append(v.cols, `(SELECT json_build_array(`+strings.Join(parts, ",\n  ")+`)
  FROM credit_accounts AS ca WHERE ca.customer_id = c.customer_id)`)
	}
	if inc.Segments {
		v.cols = append(v.cols, `(SELECT `+db.JSONRow("s", segmentColumns)+`
  FROM customer_segments AS s WHERE s.customer_id = c.customer_id)`)
	}
	return v, nil
}

// addTo adds the relation columns to a select over customers AS c.
func (v *view360) addTo(q *bun.SelectQuery) *bun.SelectQuery {
	for i, col := range v.cols {
		q = q.ColumnExpr(fmt.Sprintf("%s AS rel_%d", col, i))
	}
	return q
}

// related starts the Related of a read.
func (v *view360) related() Related {
	var r Related
	if v.inc.Addresses {
		r.Addresses = map[uuid.UUID][]models.Address{}
	}
	if v.inc.loyalty() {
		r.LoyaltyAccounts = map[uuid.UUID]*models.LoyaltyAccount{}
	}
	if v.inc.credit() {
		r.CreditAccounts = map[uuid.UUID]*models.CreditAccount{}
	}
	if v.inc.Segments {
		r.Segments = map[uuid.UUID]*models.CustomerSegment{}
	}
	if len(v.inc.Transactions) > 0 {
		r.Transactions = map[loyalty.TransactionsArgs]map[uuid.UUID]loyalty.TransactionPage{}
		for _, a := range v.inc.Transactions {
			r.Transactions[a] = map[uuid.UUID]loyalty.TransactionPage{}
		}
	}
	if len(v.inc.Usages) > 0 {
		r.Usages = map[credit.UsagesArgs]map[uuid.UUID]credit.UsagePage{}
		for _, a := range v.inc.Usages {
			r.Usages[a] = map[uuid.UUID]credit.UsagePage{}
		}
	}
	return r
}

// scan reads the relation columns of one customer's row into r.
func (v *view360) scan(pool *bun.DB, customerID uuid.UUID, values [][]byte, r *Related) error {
	if v.inc.Node != "" {
		r.Nodes = append(r.Nodes, append([]byte(nil), values[0]...)) // the row's buffer is reused
		return nil
	}
	i := 0
	next := func() (db.Nested, error) { b := values[i]; i++; return db.ParseNested(b) }
	if v.inc.Addresses {
		rows, err := next()
		if err != nil {
			return err
		}
		for _, row := range rows.Items {
			var a models.Address
			if err := db.ScanNested(pool, &a, addressColumns, row); err != nil {
				return err
			}
			r.Addresses[customerID] = append(r.Addresses[customerID], a)
		}
	}
	if v.inc.loyalty() {
		col, err := next()
		if err != nil {
			return err
		}
		if col.Kind != db.NestedNull {
			if err := checkParts(col, 1+len(v.inc.Transactions)); err != nil {
				return err
			}
			acc := &models.LoyaltyAccount{}
			if err := db.ScanNested(pool, acc, loyaltyAccountColumn, col.Items[0]); err != nil {
				return err
			}
			r.LoyaltyAccounts[customerID] = acc
			for j, a := range v.inc.Transactions {
				p, err := loyalty.DecodeTransactionPage(pool, col.Items[1+j], a)
				if err != nil {
					return err
				}
				r.Transactions[a][customerID] = p
			}
		}
	}
	if v.inc.credit() {
		col, err := next()
		if err != nil {
			return err
		}
		if col.Kind != db.NestedNull {
			if err := checkParts(col, 1+len(v.inc.Usages)); err != nil {
				return err
			}
			acc := &models.CreditAccount{}
			if err := db.ScanNested(pool, acc, creditAccountColumns, col.Items[0]); err != nil {
				return err
			}
			r.CreditAccounts[customerID] = acc
			for j, a := range v.inc.Usages {
				p, err := credit.DecodeUsagePage(pool, col.Items[1+j], a)
				if err != nil {
					return err
				}
				r.Usages[a][acc.ID] = p
			}
		}
	}
	if v.inc.Segments {
		col, err := next()
		if err != nil {
			return err
		}
		if col.Kind != db.NestedNull {
			seg := &models.CustomerSegment{}
			if err := db.ScanNested(pool, seg, segmentColumns, col); err != nil {
				return err
			}
			r.Segments[customerID] = seg
		}
	}
	return nil
}

// checkParts checks that an account column is the array of its row and n-1 pages.
func checkParts(col db.Nested, n int) error {
	if col.Kind != db.NestedArray || len(col.Items) != n {
		return fmt.Errorf("customers: decode 360 relation (%d parts, want %d)", len(col.Items), n)
	}
	return nil
}

// scanJSONRow fills dest from one JSONRow column.
func scanJSONRow(pool *bun.DB, dest any, cols []string, raw []byte) error {
	row, err := db.ParseNested(raw)
	if err != nil {
		return err
	}
	return db.ScanNested(pool, dest, cols, row)
}

// customerRow is the column of a 360 read holding the customer's own columns (db.JSONRow):
// every column of the statement is text or json, so it reads the same prepared or not.
func customerRow(cols []string) string { return db.JSONRow("c", cols) + " AS customer" }

// read360 runs the customers select q (the customerRow of cols first, then an extra text
// column that extra reads, if any) with v's relations, and an optional count statement, in
// one round trip of the caller's organization; args are q's $n arguments, and prepare keeps
// the statement prepared (its text repeats). It returns the customers in the statement's
// order.
func (s *Service) read360(ctx context.Context, q *bun.SelectQuery, args []any, prepare bool, cols []string, v *view360,
	extra func(values [][]byte), count *bun.SelectQuery, total *int) ([]models.Customer, Related, error) {
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, Related{}, err
	}
	b, err := v.addTo(q).AppendQuery(s.db.QueryGen(), nil)
	if err != nil {
		return nil, Related{}, err
	}
	var out []models.Customer
	rel := v.related()
	stmts := []db.Stmt{{SQL: string(b), Args: args, Prepare: prepare, Row: func(values [][]byte) error {
		var c models.Customer
		if err := scanJSONRow(s.db.DB, &c, cols, values[0]); err != nil {
			return err
		}
		rest := values[1:]
		if extra != nil {
			extra(rest)
			rest = rest[1:]
		}
		out = append(out, c)
		return v.scan(s.db.DB, c.ID, rest, &rel)
	}}}
	if count != nil {
		cb, err := count.AppendQuery(s.db.QueryGen(), nil)
		if err != nil {
			return nil, Related{}, err
		}
		stmts = append(stmts, db.Stmt{SQL: string(cb), Row: func(values [][]byte) error {
			_, err := fmt.Sscan(string(values[0]), total)
			return err
		}})
	}
	if err := db.ReadInOrg(ctx, s.db, p.OrganizationID, stmts...); err != nil {
		return nil, Related{}, err
	}
	return out, rel, nil
}

// readRows runs one select in one round trip of the caller's organization (db.ReadInOrg),
// reading each row's text values with row.
func readRows[T any](ctx context.Context, s *Service, q *bun.SelectQuery, row func(values [][]byte) (T, error)) ([]T, error) {
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, err
	}
	b, err := q.AppendQuery(s.db.QueryGen(), nil)
	if err != nil {
		return nil, err
	}
	var out []T
	err = db.ReadInOrg(ctx, s.db, p.OrganizationID, db.Stmt{SQL: string(b), Row: func(values [][]byte) error {
		r, err := row(values)
		out = append(out, r)
		return err
	}})
	return out, err
}
