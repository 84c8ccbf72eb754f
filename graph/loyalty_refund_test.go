package graph_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

func TestRecordRefund_ReversesThePointsOfThePartThenTheWhole(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "R-1", "amount": "100.00"})

	p := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "R-1", "amount": "30.00", "refundId": "RF-1"})
	if p.Purchase.RefundedAmount != "30.00" || p.LoyaltyAccount.PointsBalance != 70 || p.LoyaltyAccount.TotalSpent != "70.00" ||
		p.LoyaltyAccount.LifetimePoints != 70 || p.LoyaltyAccount.TotalPurchases != 1 {
		t.Fatalf("after 30.00: %+v %+v", p.Purchase, p.LoyaltyAccount)
	}
	if tx := p.Transaction; tx.Type != "ADJUST" || tx.Points != -30 || tx.BalanceAfter != 70 || *tx.ReferenceType != "refund" || *tx.ReferenceID != "RF-1" {
		t.Fatalf("reversal = %+v", tx)
	}
	p = loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "R-1", "amount": "70.00", "refundId": "RF-2"})
	if p.Purchase.RefundedAmount != "100.00" || p.LoyaltyAccount.PointsBalance != 0 || p.LoyaltyAccount.TotalSpent != "0.00" ||
		p.Transaction.Points != -70 {
		t.Fatalf("after the rest: %+v %+v %+v", p.Purchase, p.LoyaltyAccount, p.Transaction)
	}
	if n := loyInt(t, srv, "SELECT points_reversed FROM purchases WHERE order_id = 'R-1' AND organization_id = ?", team.Org); n != 100 {
		t.Fatalf("points_reversed = %d", n)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.refund"); n != 2 {
		t.Fatalf("%d audit rows", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRecordRefund_ReversesCumulativelyWithoutRoundingDrift(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	// 10.00 earns 10; three refunds of a third each reverse 3, 3 and 4 (the floors of the
	// cumulative share: 3, 6, 10), never 3 + 3 + 3.
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "T-1", "amount": "10.00"})
	var reversed []int
	for i, amount := range []string{"3.33", "3.33", "3.34"} {
		p := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "T-1", "amount": amount, "refundId": uuid.NewString()})
		reversed = append(reversed, -p.Transaction.Points)
		if i == 2 && p.LoyaltyAccount.PointsBalance != 0 {
			t.Fatalf("balance %d after the full refund", p.LoyaltyAccount.PointsBalance)
		}
	}
	if loyJSON(reversed) != "[3,3,4]" {
		t.Fatalf("reversed %v", reversed)
	}
}

func TestRecordRefund_RejectsMoreThanRemains(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "O-1", "amount": "100.00"})
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "100.01", "refundId": "X-1"}, "INVALID", "input", "amount")
	loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "60.00", "refundId": "X-2"})
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "40.01", "refundId": "X-3"}, "INVALID", "input", "amount")
	loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "40.00", "refundId": "X-4"})
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "0.01", "refundId": "X-5"}, "INVALID", "input", "amount")
	for _, bad := range []string{"0", "-5.00", "1.001"} {
		loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": bad, "refundId": "X-6"}, "INVALID", "input", "amount")
	}
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "O-1", "amount": "1.00", "refundId": ""}, "INVALID", "input", "refundId")
	if n := loyInt(t, srv, "SELECT count(*) FROM purchase_refunds WHERE organization_id = ?", team.Org); n != 2 {
		t.Fatalf("%d refunds stored", n)
	}
}

func TestRecordRefund_ReversalIsCappedAtAZeroBalance(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "Z-1", "amount": "100.00"})
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 80, "referenceType": "reward", "referenceId": "RW-1"})
	p := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "Z-1", "amount": "100.00", "refundId": "Z-R1"})
	if p.LoyaltyAccount.PointsBalance != 0 || p.Transaction.Points != -20 || p.Transaction.BalanceAfter != 0 || p.Purchase.RefundedAmount != "100.00" {
		t.Fatalf("capped refund: %+v %+v", p.LoyaltyAccount, p.Transaction)
	}
	if n := loyInt(t, srv, "SELECT points_reversed FROM purchases WHERE order_id = 'Z-1' AND organization_id = ?", team.Org); n != 20 {
		t.Fatalf("points_reversed = %d", n)
	}
	// With a zero balance nothing more can be reversed: no transaction.
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "Z-2", "amount": "10.00"})
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 10, "referenceType": "reward", "referenceId": "RW-2"})
	p = loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "Z-2", "amount": "10.00", "refundId": "Z-R2"})
	if p.Transaction != nil || p.LoyaltyAccount.PointsBalance != 0 || p.LoyaltyAccount.TotalSpent != "0.00" {
		t.Fatalf("refund at zero balance: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRecordRefund_ReplayReturnsTheOriginalAndOtherContentConflicts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "P-1", "amount": "50.00"})
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "P-2", "amount": "50.00"})
	in := map[string]any{"orderId": "P-1", "amount": "20.00", "refundId": "RR-1"}
	first := loyOK(t, team.Agent, "recordRefund", in)
	again := loyOK(t, team.Agent, "recordRefund", in)
	if again.Transaction.ID != first.Transaction.ID || again.Purchase.RefundedAmount != "20.00" || again.LoyaltyAccount.PointsBalance != 80 {
		t.Fatalf("replay = %+v %+v", again.Purchase, again.LoyaltyAccount)
	}
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "P-1", "amount": "20.01", "refundId": "RR-1"},
		"IDEMPOTENCY_CONFLICT", "input", "refundId")
	loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": "P-2", "amount": "20.00", "refundId": "RR-1"},
		"IDEMPOTENCY_CONFLICT", "input", "refundId")
	if n := loyInt(t, srv, `SELECT (SELECT count(*) FROM purchase_refunds WHERE organization_id = ?) * 10 +
		(SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.refund')`, team.Org, team.Org); n != 11 {
		t.Fatalf("refunds/audit rows = %d, want 1/1", n)
	}
}

func TestRecordRefund_UnknownOrAnotherOrganizationsOrderIsNotFound(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	other := newLoyTeam(t, srv)
	loyOK(t, other.Agent, "recordPurchase", map[string]any{"customerId": loyCustomer(t, srv, other.Org), "orderId": "THEIRS", "amount": "10.00"})
	for _, order := range []string{"THEIRS", "MISSING"} {
		loyWantError(t, team.Agent, "recordRefund", map[string]any{"orderId": order, "amount": "1.00", "refundId": uuid.NewString()},
			"NOT_FOUND", "input", "orderId")
	}
}

// loyBackdateEarn moves the earn of an order months into the past (its lot keeps its
// expiry: only its place in the qualification window changes).
func loyBackdateEarn(t *testing.T, srv *apitest.Server, org uuid.UUID, orderID string, months int) {
	t.Helper()
	loyExec(t, srv, `UPDATE loyalty_transactions SET created_at = now() - make_interval(months => ?)
		WHERE organization_id = ? AND transaction_type = 'earn' AND reference_type = 'order' AND reference_id = ?`, months, org, orderID)
	loyRebuildQualifyingDays(t, srv, org)
}

// §4: tiers qualify on the points earned in the last 12 months; a refund's reversal counts
// at the time of the earn it reverses, so refunding an order earned before the window
// changes nothing in it.
func TestRecordRefund_OfAnOrderEarnedBeforeTheWindowLeavesTheTierAlone(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "OLD", "amount": "1000.00"})
	loyBackdateEarn(t, srv, team.Org, "OLD", 13)
	// Silver (×1.25): 800.00 earns 1000, the window's only qualifying points.
	a := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "NEW", "amount": "800.00"}).LoyaltyAccount
	if a.Tier != "SILVER" || a.PointsBalance != 2000 || *a.PointsToNextTier != 4000 {
		t.Fatalf("before the refund: %s", loyJSON(a))
	}

	p := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "OLD", "amount": "1000.00", "refundId": "RF-OLD"})
	if a := p.LoyaltyAccount; p.Transaction.Points != -1000 || a.PointsBalance != 1000 || a.LifetimePoints != 1000 ||
		a.Tier != "SILVER" || *a.NextTier != "GOLD" || *a.PointsToNextTier != 4000 {
		t.Fatalf("after refunding the old order: %s %s", loyJSON(a), loyJSON(p.Transaction))
	}
	if a := loyAccountOf(t, team.Viewer, customer); *a.PointsToNextTier != 4000 {
		t.Fatalf("read after the refund: %s", loyJSON(a))
	}
	// The tier job counts the same: the window still holds 1000, so silver stays.
	loyExec(t, srv, "UPDATE loyalty_accounts SET tier_expires_at = current_date - 1 WHERE customer_id = ?", customer)
	if evaluated, changed, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || evaluated != 1 || changed != 0 {
		t.Fatalf("tier job: evaluated %d, changed %d, %v", evaluated, changed, err)
	}
	if a := loyAccountOf(t, team.Viewer, customer); a.Tier != "SILVER" || *a.TierExpiresAt != loyToday(t, srv, 12) {
		t.Fatalf("after the tier job: %s", loyJSON(a))
	}
	// And so do upgrades: 3200.00 at silver earns 4000, which with the window's 1000 is gold.
	if a := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "MORE", "amount": "3200.00"}).LoyaltyAccount; a.Tier != "GOLD" || a.PointsBalance != 5000 || *a.PointsToNextTier != 10000 {
		t.Fatalf("after 4000 more points: %s", loyJSON(a))
	}
	loyCheckBooks(t, srv, team.Org)
}

// A refund of an order earned inside the window takes its reversal from the window's
// qualifying points, exactly; when that earn leaves the window, its reversal leaves with it.
func TestRecordRefund_OfARecentOrderLowersQualifyingPointsUntilItsEarnLeavesTheWindow(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "A", "amount": "1000.00"}) // silver: 1000
	a := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "B", "amount": "400.00"}).LoyaltyAccount
	if a.Tier != "SILVER" || *a.PointsToNextTier != 3500 { // 1000 + 500 of the 5000 of gold
		t.Fatalf("before the refund: %s", loyJSON(a))
	}
	// Half of B: floor(500 × 200 / 400) = 250 points back, from the window too.
	p := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "B", "amount": "200.00", "refundId": "RF-B"})
	if a := p.LoyaltyAccount; p.Transaction.Points != -250 || a.PointsBalance != 1250 || *a.PointsToNextTier != 3750 {
		t.Fatalf("after refunding half of B: %s %s", loyJSON(a), loyJSON(p.Transaction))
	}
	loyBackdateEarn(t, srv, team.Org, "B", 13)
	if a := loyAccountOf(t, team.Viewer, customer); *a.PointsToNextTier != 4000 || a.PointsBalance != 1250 {
		t.Fatalf("once B's earn left the window (with its reversal): %s", loyJSON(a))
	}
}
