package graph_test

import (
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/apitest"
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
