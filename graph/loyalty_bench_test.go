package graph_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// The throughput of the loyalty writes under exactly benchClients (32) concurrent clients,
// whatever GOMAXPROCS is, through the HTTP handler (token checked, GraphQL parsed, one short
// transaction each) against the test PostgreSQL, then the invariant check of every account:
//
//	go test ./graph/ -run XXX -bench 'RecordPurchase|RedeemPoints' -benchtime 3s
func BenchmarkRecordPurchase(b *testing.B) {
	srv := apitest.New(b)
	team := newLoyTeam(b, srv)
	customers := make([]uuid.UUID, 64)
	for i := range customers {
		customers[i] = loyCustomer(b, srv, team.Org)
		loyEnroll(b, team.Agent, customers[i])
	}
	const doc = `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
		purchase { id } loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }`
	var failed atomic.Int64
	statements := srv.Statements.Count()
	elapsed := runClients(b, benchClients, func(_ int, i int64) {
		err := benchMutation(srv.URL, team.Agent.Token, doc, map[string]any{"input": map[string]any{
			"customerId": customers[i%int64(len(customers))], "orderId": fmt.Sprint("BENCH-", i), "amount": "12.34",
		}})
		if err != nil && failed.Add(1) == 1 {
			b.Error(err)
		}
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(srv.Statements.Count()-statements)/float64(b.N), "stmts/op")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	if checked := loyCheckBooks(b, srv, team.Org); checked != len(customers) {
		b.Fatalf("checked %d accounts", checked)
	}
	if n := loyInt(b, srv, "SELECT count(*) FROM purchases WHERE organization_id = ?", team.Org); n != b.N {
		b.Fatalf("%d purchases for %d requests", n, b.N)
	}
}

func BenchmarkRedeemPoints(b *testing.B) {
	srv := apitest.New(b)
	team := newLoyTeam(b, srv)
	customers := make([]uuid.UUID, 64)
	const initial = 1_000_000
	for i := range customers {
		customers[i] = loyCustomer(b, srv, team.Org)
		loyEnroll(b, team.Agent, customers[i])
		for range 4 { // several lots to consume from
			loyBonus(b, team.Agent, customers[i], initial/4)
		}
	}
	const doc = `mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) {
		loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }`
	var failed atomic.Int64
	statements := srv.Statements.Count()
	elapsed := runClients(b, benchClients, func(_ int, i int64) {
		err := benchMutation(srv.URL, team.Agent.Token, doc, map[string]any{"input": map[string]any{
			"customerId": customers[i%int64(len(customers))], "points": 1,
			"referenceType": "bench", "referenceId": fmt.Sprint("R-", i),
		}})
		if err != nil && failed.Add(1) == 1 {
			b.Error(err)
		}
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(srv.Statements.Count()-statements)/float64(b.N), "stmts/op")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	if checked := loyCheckBooks(b, srv, team.Org); checked != len(customers) {
		b.Fatalf("checked %d accounts", checked)
	}
	if n := loyInt(b, srv, "SELECT sum(points_redeemed) FROM loyalty_accounts WHERE organization_id = ?", team.Org); n != b.N {
		b.Fatalf("%d points redeemed for %d requests", n, b.N)
	}
}
