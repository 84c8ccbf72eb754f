package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

// loyLedgerQualifyingSQL is the qualifying points of §4 summed over the whole ledger, as
// before issue 17 kept them per day: the model the kept totals must equal. ?0 organization,
// ?1 account, ?2 since (excluded), ?3 until (included).
const loyLedgerQualifyingSQL = `SELECT COALESCE((SELECT sum(t.points) FROM loyalty_transactions t
	WHERE t.organization_id = ?0 AND t.loyalty_account_id = ?1
		AND CASE WHEN t.transaction_type IN ('earn', 'bonus') THEN COALESCE(t.vests_at, t.occurred_at, t.created_at)
			WHEN t.transaction_type = 'adjust' AND t.reference_type = 'refund' THEN
				(SELECT COALESCE(e.vests_at, e.occurred_at, e.created_at) FROM loyalty_transactions e
					WHERE e.organization_id = ?0 AND e.transaction_type = 'earn'
						AND e.reference_type = 'order' AND e.reference_id = t.metadata->>'order_id'
						AND e.loyalty_account_id = t.loyalty_account_id)
			END BETWEEN ?2::timestamptz + interval '1 microsecond' AND ?3::timestamptz), 0)::int`

// Issue 17: the qualifying points read from the kept day totals (loyalty.QualifyingSQL) equal
// the sum over the ledger, for random histories of purchases — now and back-dated up to two
// years, pending and vested (also vesting ahead of time by the job), refunds partial and
// whole (of pending, vested and expired-at-once points) — redemptions, bonuses, adjustments
// and expiry, at every window edge that matters: each earn's own instant (excluded) and the
// microsecond before it (included), now, and instants ahead of now. The kept totals equal the
// ledger's day by day too (loyCheckBooks).
func TestQualifyingPoints_KeptTotalsEqualTheLedgerAfterRandomHistories(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			team := newLoyTeam(t, srv)
			rng := rand.New(rand.NewPCG(seed, 17))
			customers := make([]uuid.UUID, 3)
			for i := range customers {
				customers[i] = loyCustomer(t, srv, team.Org)
				loyEnroll(t, team.Agent, customers[i])
			}
			type order struct {
				id     string
				amount int
			}
			var orders []order
			loySetPendingDays(t, team.Admin, 2) // a return window from the start: refunds cancel pending points
			for step := range 70 {
				c := customers[rng.IntN(len(customers))]
				switch op := rng.IntN(10); {
				case op < 4: // a purchase: now, or back-dated up to two years
					in := map[string]any{"customerId": c, "orderId": fmt.Sprint("O", step), "amount": fmt.Sprint(50+rng.IntN(900), ".00")}
					if rng.IntN(2) == 0 {
						in["occurredAt"] = time.Now().Add(-time.Duration(rng.IntN(730*24)) * time.Hour).UTC().Format(time.RFC3339Nano)
					}
					loyOK(t, team.Agent, "recordPurchase", in)
					orders = append(orders, order{fmt.Sprint("O", step), 0})
				case op < 6 && len(orders) > 0: // a refund of 10.00 (refused when nothing remains)
					o := &orders[len(orders)-1] // the latest one half of the time: its points may be pending
					if rng.IntN(2) == 0 {
						o = &orders[rng.IntN(len(orders))]
					}
					loyCall(t, team.Agent, "recordRefund", map[string]any{"orderId": o.id, "refundId": fmt.Sprint("F", step), "amount": "10.00"})
				case op == 6:
					loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": c, "points": 1 + rng.IntN(300),
						"referenceType": "model", "referenceId": fmt.Sprint("R", step)})
				case op == 7:
					loyBonus(t, team.Agent, c, 1+rng.IntN(500))
				case op == 8:
					loyCall(t, team.Manager, "adjustPoints", map[string]any{"customerId": c, "points": rng.IntN(200) - 100,
						"reason": "model", "idempotencyKey": fmt.Sprint("A", step)})
				default: // the program's return window changes, or the jobs run (vesting up to 5 days ahead)
					if rng.IntN(2) == 0 {
						loySetPendingDays(t, team.Admin, rng.IntN(4))
					} else if _, err := loyalty.RunJobsFor(t.Context(), srv.App, team.Org, time.Now().Add(time.Duration(rng.IntN(5*24))*time.Hour)); err != nil {
						t.Fatal(err)
					}
				}
			}
			loyCheckBooks(t, srv, team.Org)

			var instants []time.Time
			if err := srv.Owner.NewRaw(`SELECT COALESCE(vests_at, occurred_at, created_at) FROM loyalty_transactions
				WHERE organization_id = ? AND transaction_type IN ('earn', 'bonus') ORDER BY 1`, team.Org).Scan(context.Background(), &instants); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			windows := [][2]time.Time{{now.AddDate(-1, 0, 0), now}, {now.AddDate(-1, 0, 0), now.Add(5 * 24 * time.Hour)}, {now.AddDate(-2, 0, 0), now.AddDate(0, 0, -200)}}
			for _, at := range instants {
				windows = append(windows, [2]time.Time{at, now}, [2]time.Time{at.Add(-time.Microsecond), now}, [2]time.Time{now.AddDate(-3, 0, 0), at})
			}
			kept := `SELECT ` + loyalty.QualifyingSQL("?0::uuid", "?1::uuid", "?2::timestamptz", "?3::timestamptz")
			var accounts []uuid.UUID
			if err := srv.Owner.NewRaw("SELECT loyalty_account_id FROM loyalty_accounts WHERE organization_id = ?", team.Org).Scan(context.Background(), &accounts); err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, a := range accounts {
				for _, w := range windows {
					if !w[0].Before(w[1]) { // a window is never empty (since = until − months)
						continue
					}
					var got, want int
					if err := srv.Owner.NewRaw(kept, team.Org, a, w[0], w[1]).Scan(context.Background(), &got); err != nil {
						t.Fatal(err)
					}
					if err := srv.Owner.NewRaw(loyLedgerQualifyingSQL, team.Org, a, w[0], w[1]).Scan(context.Background(), &want); err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("account %s, window (%s, %s]: kept totals say %d, the ledger %d", a, w[0].Format(time.RFC3339Nano), w[1].Format(time.RFC3339Nano), got, want)
					}
					checked++
				}
			}
			var kinds struct {
				Reversals, Cancellations, Vested, Expired, BackDated int
			}
			if err := srv.Owner.NewRaw(`SELECT
					count(*) FILTER (WHERE reference_type = 'refund' AND vests_at IS NULL) AS reversals,
					count(*) FILTER (WHERE reference_type = 'refund' AND vests_at IS NOT NULL) AS cancellations,
					count(*) FILTER (WHERE transaction_type = 'vest') AS vested,
					count(*) FILTER (WHERE transaction_type = 'expire') AS expired,
					count(*) FILTER (WHERE occurred_at IS NOT NULL) AS back_dated
				FROM loyalty_transactions WHERE organization_id = ?`, team.Org).Scan(context.Background(), &kinds); err != nil {
				t.Fatal(err)
			}
			if len(instants) < 10 || checked < len(instants) || kinds.Reversals == 0 || kinds.Cancellations == 0 || kinds.Vested == 0 || kinds.Expired == 0 || kinds.BackDated == 0 {
				t.Fatalf("a thin history: %d earns, %d windows checked, %+v", len(instants), checked, kinds)
			}
			t.Logf("%d earns and bonuses, %d windows checked, %+v", len(instants), checked, kinds)
		})
	}
}
