package graph_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

// Real goroutines over HTTP against one account: the row lock serializes the checks, so
// exactly floor(1000 / 30) = 33 redemptions succeed and the rest are INSUFFICIENT_POINTS.
func TestRedeemPoints_FiftyConcurrentRedemptionsNeverOverdraw(t *testing.T) {
	t.Parallel()
	fiftyConcurrentRedemptionsNeverOverdraw(t, apitest.New(t))
}

// fiftyConcurrentRedemptionsNeverOverdraw is the scenario on srv (also run through PgBouncer).
func fiftyConcurrentRedemptionsNeverOverdraw(t *testing.T, srv *apitest.Server) {
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	for range 4 {
		loyBonus(t, team.Agent, customer, 250) // four lots
	}
	var ok, insufficient atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			p := loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 30,
				"referenceType": "order", "referenceId": fmt.Sprint("C-", i)})
			switch {
			case len(p.UserErrors) == 0 && p.LoyaltyAccount.PointsBalance >= 0:
				ok.Add(1)
			case len(p.UserErrors) == 1 && p.UserErrors[0].Code == "INSUFFICIENT_POINTS":
				insufficient.Add(1)
			default:
				t.Errorf("unexpected result %+v", p)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 33 || insufficient.Load() != 17 {
		t.Fatalf("%d succeeded, %d insufficient; want 33 and 17", ok.Load(), insufficient.Load())
	}
	a := loyAccountOf(t, team.Viewer, customer)
	if a.PointsBalance != 10 || a.PointsRedeemed != 990 {
		t.Fatalf("account = %+v", a)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'redeem'", team.Org); n != 33 {
		t.Fatalf("%d redeem transactions", n)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.redeem"); n != 33 {
		t.Fatalf("%d audit rows", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

// The same key sent by ten goroutines at once is one redemption: every caller gets it.
func TestRedeemPoints_ConcurrentRetriesOfOneKeyRedeemOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00")
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			p := loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 7,
				"referenceType": "order", "referenceId": "SAME"})
			if len(p.UserErrors) != 0 {
				t.Errorf("retry %d: %+v", i, p.UserErrors)
				return
			}
			ids[i] = p.Transaction.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("retries got different transactions: %v", ids)
		}
	}
	if a := loyAccountOf(t, team.Viewer, customer); a.PointsBalance != 93 {
		t.Fatalf("balance %d", a.PointsBalance)
	}
	loyCheckBooks(t, srv, team.Org)
}

// Purchases, redemptions, bonuses, refunds and retried purchases of a few customers, all at
// once: every update lands, and the books balance for every account.
func TestLoyalty_ConcurrentPurchasesAndRedemptionsKeepTheBooks(t *testing.T) {
	t.Parallel()
	concurrentPurchasesAndRedemptionsKeepTheBooks(t, apitest.New(t))
}

// concurrentPurchasesAndRedemptionsKeepTheBooks is the scenario on srv (also run through PgBouncer).
func concurrentPurchasesAndRedemptionsKeepTheBooks(t *testing.T, srv *apitest.Server) {
	team := newLoyTeam(t, srv)
	customers := make([]uuid.UUID, 4)
	firstOrders := make([]string, 4)
	for i := range customers {
		customers[i] = loyCustomer(t, srv, team.Org)
		firstOrders[i] = loyBuy(t, team.Agent, customers[i], "100.00").Purchase.OrderID // 100 points each
	}
	type tally struct{ purchases, redeemed, refunds, reversed atomic.Int64 }
	tallies := make([]tally, len(customers))
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Go(func() {
			for i := range 10 {
				ci := (g + i) % len(customers)
				c := customers[ci]
				switch (g + i) % 4 {
				case 0, 1:
					order := fmt.Sprintf("G%d-%d", g, i)
					in := map[string]any{"customerId": c, "orderId": order, "amount": "10.00"}
					if p := loyCall(t, team.Agent, "recordPurchase", in); len(p.UserErrors) != 0 {
						t.Errorf("purchase: %+v", p.UserErrors)
						continue
					}
					tallies[ci].purchases.Add(1)
					// A retry of the same order changes nothing.
					if p := loyCall(t, team.Agent, "recordPurchase", in); len(p.UserErrors) != 0 {
						t.Errorf("purchase retry: %+v", p.UserErrors)
					}
				case 2:
					p := loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": c, "points": 13,
						"referenceType": "order", "referenceId": fmt.Sprintf("G%d-%d", g, i)})
					switch {
					case len(p.UserErrors) == 0:
						tallies[ci].redeemed.Add(13)
					case p.UserErrors[0].Code != "INSUFFICIENT_POINTS":
						t.Errorf("redeem: %+v", p.UserErrors)
					}
				case 3:
					// Refund 1.00 of the customer's first purchase: reverses 1 point while the balance allows.
					p := loyCall(t, team.Agent, "recordRefund", map[string]any{"orderId": firstOrders[ci], "amount": "1.00", "refundId": uuid.NewString()})
					if len(p.UserErrors) != 0 {
						t.Errorf("refund: %+v", p.UserErrors)
						continue
					}
					tallies[ci].refunds.Add(1)
					if p.Transaction != nil {
						tallies[ci].reversed.Add(int64(-p.Transaction.Points))
					}
				}
			}
		})
	}
	wg.Wait()
	for i, c := range customers {
		a := loyAccountOf(t, team.Viewer, c)
		purchases, redeemed := int(tallies[i].purchases.Load()), int(tallies[i].redeemed.Load())
		refunds, reversed := int(tallies[i].refunds.Load()), int(tallies[i].reversed.Load())
		if a.PointsBalance != 100+10*purchases-redeemed-reversed || a.TotalPurchases != 1+purchases || a.PointsRedeemed != redeemed ||
			a.TotalSpent != fmt.Sprintf("%d.00", 100+10*purchases-refunds) || a.LifetimePoints != 100+10*purchases-reversed {
			t.Errorf("customer %d: %+v, want %d purchases, %d redeemed, %d refunds reversing %d", i, a, purchases, redeemed, refunds, reversed)
		}
	}
	if n := loyCheckBooks(t, srv, team.Org); n != len(customers) {
		t.Fatalf("checked %d accounts", n)
	}
}

// §13 under concurrency. While purchases are pending, concurrent refunds cancel pending
// points only and concurrent redemptions draw on the spendable balance only: exactly
// floor(500 / 60) = 8 redemptions succeed, whatever the interleaving. Once the pending lots
// are due, the vesting job and redemptions (which vest their account first) race: every
// lot vests exactly once, and every redemption sees the vested points.
func TestLoyalty_ConcurrentPendingRefundsRedemptionsAndVestingKeepTheBooks(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team, customer := loyPendingSetup(t, srv, 500) // 500 spendable
	for i := range 10 {
		loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": fmt.Sprint("P-", i), "amount": "100.00"})
	}
	var ok, insufficient atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			p := loyCall(t, team.Agent, "recordRefund", map[string]any{"orderId": fmt.Sprint("P-", i), "refundId": fmt.Sprint("R-", i), "amount": "50.00"})
			if len(p.UserErrors) != 0 || p.Transaction == nil || p.Transaction.Points != -50 {
				t.Errorf("refund %d: %+v %+v", i, p.UserErrors, p.Transaction)
			}
		})
		wg.Go(func() {
			p := loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 60,
				"referenceType": "order", "referenceId": fmt.Sprint("X-", i)})
			switch {
			case len(p.UserErrors) == 0:
				ok.Add(1)
			case len(p.UserErrors) == 1 && p.UserErrors[0].Code == "INSUFFICIENT_POINTS":
				insufficient.Add(1)
			default:
				t.Errorf("redemption %d: %+v", i, p.UserErrors)
			}
		})
		if i < 5 {
			wg.Go(func() {
				loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": fmt.Sprint("N-", i), "amount": "100.00"})
			})
		}
	}
	wg.Wait()
	if ok.Load() != 8 || insufficient.Load() != 2 {
		t.Fatalf("%d redemptions succeeded, %d insufficient; want 8 and 2", ok.Load(), insufficient.Load())
	}
	got := loyPendingOf(t, team.Viewer, customer)
	if got.PointsBalance != 20 || got.PendingPoints != 1000 || len(got.PendingLots) != 15 || got.LifetimePoints != 500 {
		t.Fatalf("after the pending round: %+v", got)
	}
	loyCheckBooks(t, srv, team.Org)

	// Every lot due now; the job and ten redemptions of 30 at once.
	loyExec(t, srv, "UPDATE loyalty_transactions SET vests_at = now() - interval '1 second' WHERE organization_id = ? AND pending", team.Org)
	wg.Go(func() {
		if _, _, err := loyalty.VestPoints(t.Context(), srv.App, team.Org, time.Now()); err != nil {
			t.Errorf("job: %v", err)
		}
	})
	for i := range 10 {
		wg.Go(func() {
			loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 30,
				"referenceType": "order", "referenceId": fmt.Sprint("Y-", i)})
		})
	}
	wg.Wait()
	got = loyPendingOf(t, team.Viewer, customer)
	if got.PointsBalance != 720 || got.PendingPoints != 0 || got.LifetimePoints != 1500 {
		t.Fatalf("after vesting: %+v", got)
	}
	if n := loyInt(t, srv, "SELECT COALESCE(sum(points), 0) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'vest'", team.Org); n != 1000 {
		t.Fatalf("Σ vest = %d, want 1000 (each lot once)", n)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND pending", team.Org); n != 0 {
		t.Fatalf("%d lots still pending", n)
	}
	loyCheckBooks(t, srv, team.Org)
}
