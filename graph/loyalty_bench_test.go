package graph_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/db"
	"customerservice/internal/apitest"
)

// The throughput of the loyalty writes under 32 concurrent clients, through the HTTP
// handler (token checked, GraphQL parsed, one short transaction each) against the test
// PostgreSQL, then the invariant check of every account:
//
//	go test ./graph/ -run XXX -bench 'RecordPurchase|RedeemPoints' -benchtime 3s
const loyBenchClients = 32

// loyParallelism makes b.RunParallel run loyBenchClients goroutines whatever GOMAXPROCS is.
func loyParallelism() int {
	procs := runtime.GOMAXPROCS(0)
	return (loyBenchClients + procs - 1) / procs
}

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
	var seq atomic.Int64
	b.SetParallelism(loyParallelism())
	b.ResetTimer()
	start, statements := time.Now(), db.StatementsSent(srv.App)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			var out struct {
				RecordPurchase struct{ UserErrors []struct{ Code string } }
			}
			team.Agent.Must(b, doc, map[string]any{"input": map[string]any{
				"customerId": customers[n%int64(len(customers))], "orderId": fmt.Sprint("BENCH-", n), "amount": "12.34",
			}}, &out)
			if len(out.RecordPurchase.UserErrors) != 0 {
				b.Errorf("user errors %+v", out.RecordPurchase.UserErrors)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(db.StatementsSent(srv.App)-statements)/float64(b.N), "stmts/op")
	if checked := loyCheckBooks(b, srv, team.Org); checked != len(customers) {
		b.Fatalf("checked %d accounts", checked)
	}
	if n := loyInt(b, srv, "SELECT count(*) FROM purchases WHERE organization_id = ?", team.Org); n != int(seq.Load()) {
		b.Fatalf("%d purchases for %d requests", n, seq.Load())
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
	var seq atomic.Int64
	b.SetParallelism(loyParallelism())
	b.ResetTimer()
	start, statements := time.Now(), db.StatementsSent(srv.App)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			var out struct {
				RedeemPoints struct{ UserErrors []struct{ Code string } }
			}
			team.Agent.Must(b, doc, map[string]any{"input": map[string]any{
				"customerId": customers[n%int64(len(customers))], "points": 1,
				"referenceType": "bench", "referenceId": fmt.Sprint("R-", n),
			}}, &out)
			if len(out.RedeemPoints.UserErrors) != 0 {
				b.Errorf("user errors %+v", out.RedeemPoints.UserErrors)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(db.StatementsSent(srv.App)-statements)/float64(b.N), "stmts/op")
	if checked := loyCheckBooks(b, srv, team.Org); checked != len(customers) {
		b.Fatalf("checked %d accounts", checked)
	}
	if n := loyInt(b, srv, "SELECT sum(points_redeemed) FROM loyalty_accounts WHERE organization_id = ?", team.Org); n != int(seq.Load()) {
		b.Fatalf("%d points redeemed for %d requests", n, seq.Load())
	}
}
