package graph_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

func TestEnrollLoyalty_IsIdempotentAndAudited(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	first := loyEnroll(t, team.Agent, customer)
	a := first.LoyaltyAccount
	if len(first.UserErrors) != 0 || a.Tier != "BRONZE" || a.PointsBalance != 0 || a.TierSince != loyToday(t, srv, 0) ||
		a.TierExpiresAt != nil || *a.NextTier != "SILVER" || *a.PointsToNextTier != 1000 {
		t.Fatalf("enrolled = %+v", first)
	}
	if again := loyEnroll(t, team.Agent, customer); again.LoyaltyAccount.ID != a.ID {
		t.Fatalf("second enrollment = %+v", again)
	}
	// §8: both calls are audited; the second, which changed nothing, with no changed fields.
	if got := loyAuditChanges(t, srv, team.Org, "loyalty.enroll"); loyJSON(got) != `[["loyalty_account"],[]]` {
		t.Fatalf("audit rows' changed fields = %s", loyJSON(got))
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.enroll'
		AND entity_id = ? AND actor_id = ? AND details->>'customer_id' = ?`, team.Org, a.ID, team.Agent.User, customer.String()); n != 2 {
		t.Fatalf("%d audit rows name the account, the agent and the customer", n)
	}
	other := newLoyTeam(t, srv)
	for _, id := range []uuid.UUID{loyCustomer(t, srv, other.Org), uuid.New()} {
		p := loyEnroll(t, team.Agent, id)
		if p.LoyaltyAccount != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" || loyJSON(p.UserErrors[0].Field) != `["customerId"]` {
			t.Fatalf("enroll %s: %+v", id, p)
		}
	}
}

func TestRedeemPoints_TheWholeBalanceButNotOneMore(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00")
	in := func(points int, ref string) map[string]any {
		return map[string]any{"customerId": customer, "points": points, "referenceType": "order", "referenceId": ref, "description": "  checkout  "}
	}
	loyWantError(t, team.Agent, "redeemPoints", in(101, "A"), "INSUFFICIENT_POINTS", "input", "points")
	p := loyOK(t, team.Agent, "redeemPoints", in(100, "B"))
	if p.LoyaltyAccount.PointsBalance != 0 || p.LoyaltyAccount.PointsRedeemed != 100 || p.Transaction.Type != "REDEEM" ||
		p.Transaction.Points != -100 || p.Transaction.BalanceAfter != 0 || *p.Transaction.Description != "checkout" ||
		*p.Transaction.ReferenceType != "order" || *p.Transaction.ReferenceID != "B" || p.Transaction.ExpiresAt != nil {
		t.Fatalf("redeemed all: %+v %+v", p.LoyaltyAccount, p.Transaction)
	}
	loyWantError(t, team.Agent, "redeemPoints", in(1, "C"), "INSUFFICIENT_POINTS", "input", "points")
	for _, pts := range []int{0, -5} {
		loyWantError(t, team.Agent, "redeemPoints", in(pts, "D"), "INVALID", "input", "points")
	}
	loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1, "referenceType": "",
		"referenceId": "E"}, "INVALID", "input", "referenceType")
	loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1, "referenceType": "order",
		"referenceId": strings.Repeat("r", 256)}, "INVALID", "input", "referenceId")
	if n := loyAudit(t, srv, team.Org, "loyalty.redeem"); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRedeemPoints_ConsumesTheOldestLotsFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	a := loyBonus(t, team.Agent, customer, 50).Transaction
	b := loyBonus(t, team.Agent, customer, 30).Transaction
	c := loyBonus(t, team.Agent, customer, 20).Transaction
	// Expiry order b, a, c: b was given last but expires first.
	for id, days := range map[string]int{b.ID: 10, a.ID: 20, c.ID: 30} {
		loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + make_interval(days => ?) WHERE transaction_id = ?", days, id)
	}
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 60, "referenceType": "reward", "referenceId": "R"})
	remaining := func(id string) int {
		return loyInt(t, srv, "SELECT points_remaining FROM loyalty_transactions WHERE transaction_id = ?", id)
	}
	if ra, rb, rc := remaining(a.ID), remaining(b.ID), remaining(c.ID); ra != 20 || rb != 0 || rc != 20 {
		t.Fatalf("lots a/b/c hold %d/%d/%d, want 20/0/20", ra, rb, rc)
	}
	// A negative adjustment takes from the oldest too.
	loyOK(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": -25, "reason": "correction", "idempotencyKey": uuid.NewString()})
	if ra, rc := remaining(a.ID), remaining(c.ID); ra != 0 || rc != 15 {
		t.Fatalf("after the adjustment a/c hold %d/%d, want 0/15", ra, rc)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRedeemPoints_ReplayReturnsTheOriginalAndOtherContentConflicts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer, other := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00")
	loyBuy(t, team.Agent, other, "100.00")
	in := map[string]any{"customerId": customer, "points": 10, "referenceType": "order", "referenceId": "K-1"}
	first := loyOK(t, team.Agent, "redeemPoints", in)
	again := loyOK(t, team.Agent, "redeemPoints", in)
	if again.Transaction.ID != first.Transaction.ID || again.LoyaltyAccount.PointsBalance != 90 {
		t.Fatalf("replay = %+v %+v", again.Transaction, again.LoyaltyAccount)
	}
	for name, bad := range map[string]map[string]any{
		"points":      {"customerId": customer, "points": 11, "referenceType": "order", "referenceId": "K-1"},
		"customer":    {"customerId": other, "points": 10, "referenceType": "order", "referenceId": "K-1"},
		"description": {"customerId": customer, "points": 10, "referenceType": "order", "referenceId": "K-1", "description": "other"},
	} {
		t.Run(name, func(t *testing.T) {
			loyWantError(t, team.Agent, "redeemPoints", bad, "IDEMPOTENCY_CONFLICT", "input", "referenceId")
		})
	}
	// The key is the pair: another reference type with the same id is another redemption.
	if p := loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 10, "referenceType": "reward", "referenceId": "K-1"}); p.Transaction.ID == first.Transaction.ID {
		t.Fatal("another referenceType replayed the first redemption")
	}
	// A replay is answered even once the balance could not pay it again.
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 80, "referenceType": "order", "referenceId": "K-2"})
	if p := loyOK(t, team.Agent, "redeemPoints", in); p.Transaction.ID != first.Transaction.ID || p.LoyaltyAccount.PointsBalance != 0 {
		t.Fatalf("late replay = %+v", p)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.redeem"); n != 3 {
		t.Fatalf("%d audit rows, want 3 (replays are not audited)", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestPointMovements_BlockedCustomerCanOnlyLosePoints(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00")
	loyExec(t, srv, "UPDATE customers SET status = 'blocked' WHERE customer_id = ?", customer)
	loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1, "referenceType": "order", "referenceId": "B"},
		"CUSTOMER_BLOCKED", "input", "customerId")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": customer, "points": 1, "reason": "birthday", "referenceId": "B"},
		"CUSTOMER_BLOCKED", "input", "customerId")
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": 5, "reason": "goodwill", "idempotencyKey": uuid.NewString()},
		"CUSTOMER_BLOCKED", "input", "customerId")
	if p := loyOK(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": -5, "reason": "fraud", "idempotencyKey": uuid.NewString()}); p.LoyaltyAccount.PointsBalance != 95 {
		t.Fatalf("balance %d", p.LoyaltyAccount.PointsBalance)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestPointMovements_NeedAnEnrolledCustomerOfTheOrganization(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	other := newLoyTeam(t, srv)
	notEnrolled := loyCustomer(t, srv, team.Org)
	theirs := loyCustomer(t, srv, other.Org)
	loyBuy(t, other.Agent, theirs, "10.00")
	for _, tc := range []struct {
		customer uuid.UUID
		code     string
	}{{notEnrolled, "INVALID_STATE"}, {theirs, "NOT_FOUND"}, {uuid.New(), "NOT_FOUND"}} {
		loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": tc.customer, "points": 1, "referenceType": "o", "referenceId": uuid.NewString()},
			tc.code, "input", "customerId")
		loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": tc.customer, "points": 1, "reason": "r", "referenceId": uuid.NewString()},
			tc.code, "input", "customerId")
		loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": tc.customer, "points": 1, "reason": "r", "idempotencyKey": uuid.NewString()},
			tc.code, "input", "customerId")
	}
	if n := loyInt(t, srv, "SELECT points_balance FROM loyalty_accounts WHERE customer_id = ?", theirs); n != 10 {
		t.Fatalf("the other organization's balance changed: %d", n)
	}
}

func TestAwardBonusPoints_CountsTowardTiersAndRewardsEachCustomerOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	ana, ben := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, ana)
	loyEnroll(t, team.Agent, ben)
	in := map[string]any{"customerId": ana, "points": 1000, "reason": "campaign", "referenceId": "CAMPAIGN-1"}
	first := loyOK(t, team.Agent, "awardBonusPoints", in)
	if tx := first.Transaction; tx.Type != "BONUS" || tx.Points != 1000 || tx.ExpiresAt == nil || *tx.Description != "campaign" ||
		first.LoyaltyAccount.Tier != "SILVER" || first.LoyaltyAccount.LifetimePoints != 1000 {
		t.Fatalf("bonus = %+v %+v", tx, first.LoyaltyAccount)
	}
	if again := loyOK(t, team.Agent, "awardBonusPoints", in); again.Transaction.ID != first.Transaction.ID || again.LoyaltyAccount.PointsBalance != 1000 {
		t.Fatalf("replay = %+v", again)
	}
	// The same campaign rewards another customer.
	if p := loyOK(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ben, "points": 1000, "reason": "campaign", "referenceId": "CAMPAIGN-1"}); p.LoyaltyAccount.PointsBalance != 1000 {
		t.Fatalf("second customer: %+v", p.LoyaltyAccount)
	}
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 999, "reason": "campaign", "referenceId": "CAMPAIGN-1"},
		"IDEMPOTENCY_CONFLICT", "input", "referenceId")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 1000, "reason": "birthday", "referenceId": "CAMPAIGN-1"},
		"IDEMPOTENCY_CONFLICT", "input", "referenceId")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 0, "reason": "x", "referenceId": "Z"}, "INVALID", "input", "points")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 1, "reason": "  ", "referenceId": "Z"}, "INVALID", "input", "reason")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 1, "reason": strings.Repeat("r", 501), "referenceId": "Z"}, "INVALID", "input", "reason")
	loyWantError(t, team.Agent, "awardBonusPoints", map[string]any{"customerId": ana, "points": 1 << 31, "reason": "x", "referenceId": "Z"}, "INVALID", "input", "points")
	if n := loyAudit(t, srv, team.Org, "loyalty.bonus"); n != 2 {
		t.Fatalf("%d audit rows", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestAdjustPoints_IsForManagersAndNeverGoesNegative(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00")
	res := team.Agent.Do(t, loyMutations["adjustPoints"], map[string]any{"input": map[string]any{"customerId": customer, "points": 5, "reason": "x", "idempotencyKey": uuid.NewString()}})
	if res.ErrorCode(t) != "FORBIDDEN" {
		t.Fatalf("agent: %s", res.Body)
	}
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": -101, "reason": "x", "idempotencyKey": uuid.NewString()}, "INSUFFICIENT_POINTS", "input", "points")
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": 0, "reason": "x", "idempotencyKey": uuid.NewString()}, "INVALID", "input", "points")
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": 5, "reason": "", "idempotencyKey": uuid.NewString()}, "INVALID", "input", "reason")
	p := loyOK(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": -100, "reason": "audit finding", "idempotencyKey": uuid.NewString()})
	if p.LoyaltyAccount.PointsBalance != 0 || p.Transaction.Type != "ADJUST" || p.Transaction.Points != -100 || *p.Transaction.Description != "audit finding" {
		t.Fatalf("down: %+v %+v", p.LoyaltyAccount, p.Transaction)
	}
	p = loyOK(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": 40, "reason": "goodwill", "idempotencyKey": uuid.NewString()})
	if p.LoyaltyAccount.PointsBalance != 40 || p.Transaction.ExpiresAt == nil || p.LoyaltyAccount.LifetimePoints != 100 || p.LoyaltyAccount.Tier != "BRONZE" {
		t.Fatalf("up: %+v %+v", p.LoyaltyAccount, p.Transaction)
	}
	// Adjustments do not qualify for tiers.
	if *p.LoyaltyAccount.PointsToNextTier != 900 {
		t.Fatalf("pointsToNextTier = %d", *p.LoyaltyAccount.PointsToNextTier)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.adjust"); n != 2 {
		t.Fatalf("%d audit rows", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestLoyaltyMutations_ViewersAreForbidden(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	inputs := map[string]map[string]any{
		"recordPurchase":   {"customerId": customer, "orderId": "V", "amount": "1.00"},
		"recordRefund":     {"orderId": "V", "amount": "1.00", "refundId": "V"},
		"redeemPoints":     {"customerId": customer, "points": 1, "referenceType": "o", "referenceId": "V"},
		"awardBonusPoints": {"customerId": customer, "points": 1, "reason": "r", "referenceId": "V"},
		"adjustPoints":     {"customerId": customer, "points": 1, "reason": "r", "idempotencyKey": uuid.NewString()},
	}
	for name, in := range inputs {
		if res := team.Viewer.Do(t, loyMutations[name], map[string]any{"input": in}); res.ErrorCode(t) != "FORBIDDEN" {
			t.Fatalf("%s: %s", name, res.Body)
		}
	}
	if res := team.Viewer.Do(t, loyEnrollMutation, map[string]any{"id": customer}); res.ErrorCode(t) != "FORBIDDEN" {
		t.Fatalf("enrollLoyalty: %s", res.Body)
	}
	if n := loyInt(t, srv, `SELECT (SELECT count(*) FROM purchases WHERE organization_id = ?) +
		(SELECT count(*) FROM loyalty_accounts WHERE organization_id = ?)`, team.Org, team.Org); n != 0 {
		t.Fatal("a viewer wrote")
	}
}
