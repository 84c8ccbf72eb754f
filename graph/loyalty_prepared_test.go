package graph_test

import (
	"context"
	"strings"
	"testing"

	"customerservice/db"
	"customerservice/internal/testkit/apitest"
)

// The reads a write of points decides with — the customer's and the account's locked reads,
// the program, the tier check, the idempotency key's row — and the account's update are fixed
// texts whose values are bind parameters, kept prepared on the connection (db.ScanPrepared):
// PostgreSQL plans each once per connection instead of on every write, where planning cost
// several times what running them does (docs/decisions-writes.md). The server here has one
// connection, so the statements it keeps are that connection's: each is one text there,
// whatever the round.
func TestLoyaltyWrites_DecidingReadsKeptPrepared(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{DB: db.Options{MaxConns: 1}})
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	for _, round := range []string{"1", "2"} {
		loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "prep-" + round, "amount": "50.00"})
		loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "prep-" + round, "refundId": "prep-r" + round, "amount": "5.00"})
		loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 3,
			"referenceType": "prep", "referenceId": "prep-" + round})
	}
	var prepared []string
	if err := srv.App.NewRaw("SELECT statement FROM pg_prepared_statements").Scan(context.Background(), &prepared); err != nil {
		t.Fatal(err)
	}
	for read, fragment := range map[string]string{
		"the account's locked read":  "FOR UPDATE OF la",
		"the customer's locked read": `AS "c" WHERE (c.organization_id = $1::uuid) AND (c.customer_id = $2::uuid) FOR NO KEY UPDATE`,
		"the program":                `FROM "loyalty_programs"`,
		"the tier check":             "$5::timestamptz",
		"the purchase by its order":  `(p.order_id = $2::text)`,
		"the refund by its id":       `(pr.refund_id = $2::text)`,
		"the redemption by its key":  `(lt.reference_id = $3::text)`,
		"the account's update":       "total_spent = total_spent + $7::numeric WHERE",
	} {
		n := 0
		for _, s := range prepared {
			if strings.Contains(s, fragment) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s (%q): %d statements kept on the connection, want one", read, fragment, n)
		}
	}
}
