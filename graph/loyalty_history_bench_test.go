package graph_test

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// The loyalty writes with 10 and with 10,000 prior transactions on every account (issue 17:
// a write's cost must not grow with the customer's history), 32 concurrent clients through
// the HTTP handler, one account per client:
//
//	go test ./graph/ -run '^$' -bench LoyaltyWritesHistory -benchtime 1000x
//
// (b.N requests on each history.)
//
// The history (SQL, as the owner; the kept qualifying totals rebuilt from it) spreads over
// the last two years: earns of 100 points for purchases of 100.00 (those older than a year
// spent by a redemption each, the others open lots), a bonus of 10 between the recent ones,
// and a lot of 1,000,000 points to redeem from. The tier thresholds are out of reach, so
// every purchase sums its qualifying points (a platinum account skips that).
func BenchmarkLoyaltyWritesHistory(b *testing.B) {
	srv := apitest.New(b)
	const accounts = benchClients
	type history struct {
		team      loyTeam
		customers []uuid.UUID
		earns     int // orders H-<customer index>-<k>, k odd in 1 … 2 × earns
	}
	histories := map[int]history{}
	for _, prior := range []int{10, 10_000} {
		h := history{team: newLoyTeam(b, srv), earns: prior / 2}
		loyOK(b, h.team.Admin, "updateLoyaltyProgram", map[string]any{
			"thresholdSilver": 900_000_000, "thresholdGold": 950_000_000, "thresholdPlatinum": 1_000_000_000})
		for i := range accounts {
			c := loyCustomer(b, srv, h.team.Org)
			loyEnroll(b, h.team.Agent, c)
			h.customers = append(h.customers, c)
			loyBenchHistory(b, srv, h.team.Org, c, i, prior)
		}
		loyExec(b, srv, `INSERT INTO loyalty_qualifying_days (organization_id, loyalty_account_id, day, points)
			SELECT ?0, loyalty_account_id, day::date, points FROM (`+loyLedgerDaysSQL+`) d`, h.team.Org)
		loyExec(b, srv, "ANALYZE loyalty_transactions")
		loyExec(b, srv, "ANALYZE loyalty_qualifying_days")
		loyCheckBooks(b, srv, h.team.Org)
		histories[prior] = h
	}
	var seq atomic.Int64
	mutations := []struct {
		name, doc string
		input     func(h history, client int, rng *rand.Rand) map[string]any
	}{
		{"recordPurchase", `mutation($input: RecordPurchaseInput!) { recordPurchase(input: $input) {
			purchase { id } loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }`,
			func(h history, client int, _ *rand.Rand) map[string]any {
				return map[string]any{"customerId": h.customers[client], "orderId": fmt.Sprint("N-", seq.Add(1)), "amount": "12.34"}
			}},
		{"recordRefund", `mutation($input: RecordRefundInput!) { recordRefund(input: $input) {
			purchase { id } loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }`,
			func(h history, client int, rng *rand.Rand) map[string]any {
				return map[string]any{"orderId": fmt.Sprintf("H-%d-%d", client, 2*rng.IntN(h.earns)+1), "amount": "1.00",
					"refundId": fmt.Sprint("F-", seq.Add(1))}
			}},
		{"redeemPoints", `mutation($input: RedeemPointsInput!) { redeemPoints(input: $input) {
			loyaltyAccount { pointsBalance } transaction { id } userErrors { code } } }`,
			func(h history, client int, _ *rand.Rand) map[string]any {
				return map[string]any{"customerId": h.customers[client], "points": 1, "referenceType": "bench", "referenceId": fmt.Sprint("R-", seq.Add(1))}
			}},
	}
	// Each mutation runs on both histories in alternating rounds (10 first, then 10,000 first),
	// so that a change of the machine's load during the run falls on both alike; each history's
	// rate is its requests over the time its rounds took.
	const rounds = 10
	for _, m := range mutations {
		b.Run(m.name, func(b *testing.B) {
			rngs := make([]*rand.Rand, benchClients)
			for i := range rngs {
				rngs[i] = rand.New(rand.NewPCG(uint64(i), 17))
			}
			var failed atomic.Int64
			elapsed := map[int]time.Duration{}
			done := map[int]int64{}
			statements := srv.Statements.Count()
			b.ResetTimer()
			for r := range rounds {
				n := int64(b.N) / rounds
				if r < b.N%rounds {
					n++
				}
				order := []int{10, 10_000}
				if r%2 == 1 {
					order = []int{10_000, 10}
				}
				for _, prior := range order {
					h := histories[prior]
					start := time.Now()
					spread(benchClients, n, func(client int, _ int64) {
						err := benchMutation(srv.URL, h.team.Agent.Token, m.doc, map[string]any{"input": m.input(h, client, rngs[client])})
						if err != nil && failed.Add(1) == 1 {
							b.Error(err)
						}
					})
					elapsed[prior] += time.Since(start)
					done[prior] += n
				}
			}
			b.StopTimer()
			if f := failed.Load(); f > 0 {
				b.Fatalf("%d of %d requests failed", f, 2*b.N)
			}
			short, long := float64(done[10])/elapsed[10].Seconds(), float64(done[10_000])/elapsed[10_000].Seconds()
			b.ReportMetric(short, "ops/s@10")
			b.ReportMetric(long, "ops/s@10000")
			b.ReportMetric(long/short, "ratio")
			b.ReportMetric(float64(srv.Statements.Count()-statements)/float64(2*b.N), "stmts/op")
			for _, h := range histories {
				loyCheckBooks(b, srv, h.team.Org)
			}
		})
	}
}

// loyBenchHistory writes prior ledger rows for the customer's account (SQL, as the owner),
// spread evenly over the last two years up to an hour ago, each balance_after the running
// balance: odd k an earn of 100 points with its purchase H-<index>-<k> of 100.00 (spent when
// older than a year: a redemption of 100 follows it), even k that redemption, or a bonus of 10
// for recent ones; then a lot of 1,000,000 points (a manual adjustment). The account's
// counters are set to match.
func loyBenchHistory(b testing.TB, srv *apitest.Server, org, customer uuid.UUID, index, prior int) {
	b.Helper()
	loyExec(b, srv, `WITH a AS (SELECT loyalty_account_id FROM loyalty_accounts WHERE organization_id = ?0 AND customer_id = ?1),
		k AS (SELECT k, now() - interval '730 days' + k * (interval '730 days' - interval '1 hour') / ?2 AS at,
				-- an earn (odd k) and the row after it are old when the earn is older than a year
				now() - interval '730 days' + (k - 1 + k % 2) * (interval '730 days' - interval '1 hour') / ?2 < now() - interval '12 months' AS old
			FROM generate_series(1, ?2) k),
		p AS (INSERT INTO purchases (organization_id, customer_id, order_id, amount, points_earned, occurred_at, created_at)
			SELECT ?0, ?1, 'H-' || ?3 || '-' || k, 100, 100, at, at FROM k WHERE k % 2 = 1 RETURNING order_id, purchase_id),
		rows AS (SELECT k.k, k.at, k.old,
				CASE WHEN k % 2 = 1 THEN 'earn' WHEN old THEN 'redeem' ELSE 'bonus' END AS typ,
				CASE WHEN k % 2 = 1 THEN 100 WHEN old THEN -100 ELSE 10 END AS points
			FROM k)
		INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
			reference_type, reference_id, metadata, points_remaining, expires_at, created_at)
		SELECT ?0, a.loyalty_account_id, r.typ, r.points, sum(r.points) OVER (ORDER BY r.k),
			CASE r.typ WHEN 'earn' THEN 'order' WHEN 'redeem' THEN 'history' ELSE 'bonus' END,
			CASE WHEN r.typ = 'earn' THEN 'H-' || ?3 || '-' || r.k ELSE 'h-' || ?3 || '-' || r.k END,
			CASE WHEN r.typ = 'earn' THEN jsonb_build_object('purchase_id', p.purchase_id) ELSE '{}' END,
			CASE WHEN r.typ = 'redeem' THEN NULL WHEN r.old THEN 0 ELSE r.points END,
			CASE WHEN r.typ = 'redeem' THEN NULL ELSE r.at + interval '12 months' END, r.at
		FROM rows r CROSS JOIN a LEFT JOIN p ON p.order_id = 'H-' || ?3 || '-' || r.k`, org, customer, prior, index)
	loyExec(b, srv, `WITH a AS (SELECT loyalty_account_id, (SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t
				WHERE t.organization_id = ?0 AND t.loyalty_account_id = la.loyalty_account_id) AS balance
			FROM loyalty_accounts la WHERE organization_id = ?0 AND customer_id = ?1)
		INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
			reference_type, reference_id, description, points_remaining, expires_at, created_at)
		SELECT ?0, loyalty_account_id, 'adjust', 1000000, balance + 1000000, 'manual', 'bench-' || loyalty_account_id, 'Benchmark points',
			1000000, now() + interval '11 months', clock_timestamp() FROM a`, org, customer)
	loyExec(b, srv, `UPDATE loyalty_accounts la SET
			points_balance = (SELECT sum(points) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = la.loyalty_account_id),
			lifetime_points = (SELECT sum(points) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = la.loyalty_account_id
				AND t.transaction_type IN ('earn', 'bonus')),
			points_redeemed = (SELECT COALESCE(-sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = la.loyalty_account_id
				AND t.transaction_type = 'redeem'),
			total_purchases = (SELECT count(*) FROM purchases p WHERE p.organization_id = ?0 AND p.customer_id = ?1),
			total_spent = (SELECT COALESCE(sum(amount), 0) FROM purchases p WHERE p.organization_id = ?0 AND p.customer_id = ?1)
		WHERE organization_id = ?0 AND customer_id = ?1`, org, customer)
}
