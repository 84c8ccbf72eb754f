package graph_test

import (
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// timelineHistory gives a new customer of org 10,000 events as the owner: 3,000 purchases
// with their 3,000 earns, 500 refunds, 1,000 redemptions, 1,000 credit charges, 1,000
// payments, 500 profile changes (audit rows) — and the audit rows of the ledger actions the
// timeline skips (one per movement, charge and payment, as the mutations write them).
func timelineHistory(t testing.TB, srv *apitest.Server, org uuid.UUID) uuid.UUID {
	t.Helper()
	customer := uuid.New()
	for _, q := range []string{
		`INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name) VALUES (?1, ?0, 'b2b', 'Ana', 'Historia')`,
		`INSERT INTO loyalty_accounts (organization_id, customer_id) VALUES (?0, ?1)`,
		`INSERT INTO credit_accounts (organization_id, customer_id, credit_limit, credit_used, status) VALUES (?0, ?1, 10000000, 0, 'approved')`,
		`INSERT INTO purchases (organization_id, customer_id, order_id, amount, points_earned, occurred_at, actor_id)
			SELECT ?0, ?1, 'o-' || i, 10 + i % 90, 10, now() - make_interval(mins => i * 3), ?0 FROM generate_series(1, 3000) i`,
		`INSERT INTO purchase_refunds (organization_id, refund_id, purchase_id, amount, created_at, actor_id)
			SELECT ?0, 'r-' || p.order_id, p.purchase_id, 1, p.occurred_at + interval '1 minute', ?0
			FROM purchases p WHERE p.organization_id = ?0 AND p.customer_id = ?1 AND p.order_id ~ '[05]$' LIMIT 500`,
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
				reference_type, reference_id, points_remaining, expires_at, created_at, actor_id)
			SELECT ?0, la.loyalty_account_id, 'earn', 10, i * 10, 'order', 'o-' || i, 10, now() + interval '1 year',
				now() - make_interval(mins => i * 3), ?0
			FROM generate_series(1, 3000) i, loyalty_accounts la WHERE la.organization_id = ?0 AND la.customer_id = ?1`,
		`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
				reference_type, reference_id, created_at, actor_id)
			SELECT ?0, la.loyalty_account_id, 'redeem', -1, 0, 'o', 'x-' || i, now() - make_interval(mins => i * 7), ?0
			FROM generate_series(1, 1000) i, loyalty_accounts la WHERE la.organization_id = ?0 AND la.customer_id = ?1`,
		`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, due_date, created_at, actor_id)
			SELECT ?0, ca.credit_account_id, 'c-' || i, 5, current_date + 30, now() - make_interval(mins => i * 5), ?0
			FROM generate_series(1, 1000) i, credit_accounts ca WHERE ca.organization_id = ?0 AND ca.customer_id = ?1`,
		`INSERT INTO credit_payments (organization_id, credit_account_id, amount, payment_reference, payment_date, created_at, actor_id)
			SELECT ?0, ca.credit_account_id, 1, 'p-' || i, current_date, now() - make_interval(mins => i * 5 + 1), ?0
			FROM generate_series(1, 1000) i, credit_accounts ca WHERE ca.organization_id = ?0 AND ca.customer_id = ?1`,
		`INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, created_at)
			SELECT ?0, ?0, 'customer.update', 'customer', ?1, '{notes}', now() - make_interval(mins => i * 11) FROM generate_series(1, 500) i`,
		`INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, created_at)
			SELECT ?0, ?0, CASE WHEN i <= 1000 THEN 'credit.charge' ELSE 'credit.payment' END, 'credit_account', ca.credit_account_id,
				now() - make_interval(mins => i * 5)
			FROM generate_series(1, 2000) i, credit_accounts ca WHERE ca.organization_id = ?0 AND ca.customer_id = ?1`,
		`ANALYZE`,
	} {
		if _, err := srv.Owner.NewRaw(q, org, customer).Exec(t.Context()); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return customer
}

// BenchmarkTimelinePage is a page of 50 of the timeline of a customer with 10,000 events,
// through the HTTP handler: the first page, and a page deep in the history (after a cursor).
//
//	go test ./graph/ -run '^$' -bench TimelinePage -benchtime 200x
func BenchmarkTimelinePage(b *testing.B) {
	srv := apitest.New(b)
	c := srv.NewOrg(b, auth.Viewer)
	customer := timelineHistory(b, srv, c.Org)
	first := tlRead(b, c, customer, map[string]any{"first": 50})
	if first.TotalCount != 10000 || len(first.Nodes) != 50 {
		b.Fatalf("%d events, %d on the page", first.TotalCount, len(first.Nodes))
	}
	// A cursor 5,000 events deep.
	deep := *first.PageInfo.EndCursor
	for range 99 {
		deep = *tlRead(b, c, customer, map[string]any{"first": 50, "after": deep}).PageInfo.EndCursor
	}
	const q = `query($id: UUID!, $after: String) { customer(id: $id) { timeline(first: 50, after: $after) {
		nodes { ` + tlEventFields + ` } pageInfo { hasNextPage endCursor } } } }`
	// For scale, in the same run: the customer alone, and a page of 50 of its purchases (one
	// table, one index).
	const plain = `query($id: UUID!) { customer(id: $id) { id } }`
	const purchases = `query($id: UUID!, $after: String) { customer(id: $id) { purchases(first: 50, after: $after) {
		nodes { id orderId amount pointsEarned occurredAt } pageInfo { hasNextPage endCursor } } } }`
	for _, bc := range []struct {
		name, query string
		after       any
	}{{"customer-only", plain, nil}, {"purchases-50", purchases, nil}, {"first", q, nil}, {"deep", q, deep}} {
		b.Run(bc.name, func(b *testing.B) {
			q := bc.query
			vars := map[string]any{"id": customer}
			if q != plain {
				vars["after"] = bc.after
			}
			before, n := srv.Statements.Count(), 0
			for b.Loop() {
				c.Must(b, q, vars, nil)
				n++
			}
			b.ReportMetric(float64(srv.Statements.Count()-before)/float64(n), "stmts/op")
		})
	}
}
