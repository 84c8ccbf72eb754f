package graph_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

// The §13 pending points as the Customer 360 shows them.
type loyPending struct {
	PointsBalance      int
	PendingPoints      int
	LifetimePoints     int
	Tier               string
	PointsToNextTier   *int
	PointsExpiringSoon int
	PendingLots        []struct {
		Points      int
		VestsAt     string
		ExpiresAt   string
		ReferenceID *string
	}
}

func loyPendingOf(t testing.TB, c *apitest.Client, customerID uuid.UUID) loyPending {
	t.Helper()
	var out struct {
		Customer struct{ LoyaltyAccount loyPending }
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount {
		pointsBalance pendingPoints lifetimePoints tier pointsToNextTier pointsExpiringSoon(days: 365)
		pendingLots { points vestsAt expiresAt referenceId } } } }`, map[string]any{"id": customerID}, &out)
	return out.Customer.LoyaltyAccount
}

// loyPendingSetup is an organization with 30 pending days and an enrolled customer holding
// bonus (spendable) points.
func loyPendingSetup(t testing.TB, srv *apitest.Server, bonus int) (loyTeam, uuid.UUID) {
	t.Helper()
	team := newLoyTeam(t, srv)
	loySetPendingDays(t, team.Admin, 30)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	loyBonus(t, team.Agent, customer, bonus)
	return team, customer
}

func loySetPendingDays(t testing.TB, c *apitest.Client, days int) {
	t.Helper()
	if p := loyOK(t, c, "updateLoyaltyProgram", map[string]any{"pendingDays": days}); p.LoyaltyProgram == nil {
		t.Fatal("no program")
	}
}

func TestUpdateLoyaltyProgram_PendingDaysIs0To365(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	var out struct{ LoyaltyProgram struct{ PendingDays int } }
	team.Viewer.Must(t, `{ loyaltyProgram { pendingDays } }`, nil, &out)
	if out.LoyaltyProgram.PendingDays != 0 {
		t.Fatalf("default pendingDays = %d, want 0 (off)", out.LoyaltyProgram.PendingDays)
	}
	for _, bad := range []int{-1, 366} {
		loyWantError(t, team.Admin, "updateLoyaltyProgram", map[string]any{"pendingDays": bad}, "INVALID", "input", "pendingDays")
	}
	for _, ok := range []int{365, 0, 30} {
		loySetPendingDays(t, team.Admin, ok)
		team.Viewer.Must(t, `{ loyaltyProgram { pendingDays } }`, nil, &out)
		if out.LoyaltyProgram.PendingDays != ok {
			t.Fatalf("pendingDays = %d, want %d", out.LoyaltyProgram.PendingDays, ok)
		}
	}
	if res := team.Manager.Do(t, loyMutations["updateLoyaltyProgram"], map[string]any{"input": map[string]any{"pendingDays": 1}}); res.ErrorCode(t) != "FORBIDDEN" {
		t.Fatalf("manager: %s", res.Body)
	}
}

// Pending points are shown with their date, are not spendable, do not qualify, do not
// expire "soon" while pending; a back-dated purchase whose window has passed vests at once,
// one whose window is still open stays pending until occurredAt + pendingDays.
func TestPendingPoints_AreNotSpendableNorQualifyUntilTheyVest(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	loySetPendingDays(t, team.Admin, 30)
	customer := loyCustomer(t, srv, team.Org)
	now := time.Now().UTC()
	p := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "NOW", "amount": "1000.00",
		"occurredAt": now.Format(time.RFC3339Nano)})
	wantVest := now.Truncate(time.Microsecond).AddDate(0, 0, 30)
	if tx := p.Transaction; tx.Type != "EARN" || tx.Points != 1000 || tx.BalanceAfter != 0 {
		t.Fatalf("pending earn = %+v", tx)
	}
	if a := p.LoyaltyAccount; a.PointsBalance != 0 || a.LifetimePoints != 0 || a.Tier != "BRONZE" || *a.PointsToNextTier != 1000 {
		t.Fatalf("account = %+v", a)
	}
	got := loyPendingOf(t, team.Viewer, customer)
	if got.PendingPoints != 1000 || got.PointsBalance != 0 || got.PointsExpiringSoon != 0 || len(got.PendingLots) != 1 ||
		got.PendingLots[0].Points != 1000 || *got.PendingLots[0].ReferenceID != "NOW" {
		t.Fatalf("read = %+v", got)
	}
	if v, _ := time.Parse(time.RFC3339Nano, got.PendingLots[0].VestsAt); !v.Equal(wantVest) {
		t.Fatalf("vestsAt = %s, want %s", got.PendingLots[0].VestsAt, wantVest)
	}
	loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1, "referenceType": "o", "referenceId": "R1"},
		"INSUFFICIENT_POINTS", "input", "points")
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": -1, "reason": "x", "idempotencyKey": "A1"},
		"INSUFFICIENT_POINTS", "input", "points")

	// 31 days ago: the window has passed, spendable at once. 29 days ago: pending one more day.
	p = loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "D31", "amount": "500.00",
		"occurredAt": now.AddDate(0, 0, -31).Format(time.RFC3339Nano)})
	if p.Transaction.BalanceAfter != 500 || p.LoyaltyAccount.PointsBalance != 500 || p.LoyaltyAccount.LifetimePoints != 500 {
		t.Fatalf("31 days ago: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	p = loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "D29", "amount": "600.00",
		"occurredAt": now.AddDate(0, 0, -29).Format(time.RFC3339Nano)})
	if p.LoyaltyAccount.PointsBalance != 500 || p.LoyaltyAccount.Tier != "BRONZE" || *p.LoyaltyAccount.PointsToNextTier != 500 {
		t.Fatalf("29 days ago: %+v", p.LoyaltyAccount)
	}
	got = loyPendingOf(t, team.Viewer, customer)
	if got.PendingPoints != 1600 || len(got.PendingLots) != 2 || *got.PendingLots[0].ReferenceID != "D29" || got.PendingLots[0].Points != 600 {
		t.Fatalf("read = %+v", got)
	}

	// The 29-day lot's date comes (moved to a second ago): the read counts it at once, before
	// any job — balance, lifetime and the points to the next tier — while the tier itself
	// moves with the next change or the job.
	loyExec(t, srv, `UPDATE loyalty_transactions SET vests_at = now() - interval '1 second'
		WHERE organization_id = ? AND reference_id = 'D29' AND transaction_type = 'earn'`, team.Org)
	got = loyPendingOf(t, team.Viewer, customer)
	if got.PointsBalance != 1100 || got.PendingPoints != 1000 || got.LifetimePoints != 1100 || *got.PointsToNextTier != 0 || len(got.PendingLots) != 1 {
		t.Fatalf("read after the date, before the job: %+v", got)
	}
	// A redemption vests it first (one VEST transaction), which qualifies silver.
	p = loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1100, "referenceType": "o", "referenceId": "R2"})
	if p.LoyaltyAccount.PointsBalance != 0 || p.LoyaltyAccount.Tier != "SILVER" || p.LoyaltyAccount.LifetimePoints != 1100 {
		t.Fatalf("after redeeming the vested points: %+v", p.LoyaltyAccount)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'vest' AND points = 600", team.Org); n != 1 {
		t.Fatalf("%d vest transactions", n)
	}
	loyCheckBooks(t, srv, team.Org)

	// The job vests the last lot when its date has come (the job's time, 31 days on).
	later := now.AddDate(0, 0, 31)
	counts, err := loyalty.RunJobsFor(t.Context(), srv.App, team.Org, later)
	if err != nil || counts.VestedAccounts != 1 || counts.VestedPoints != 1000 {
		t.Fatalf("job: %+v %v", counts, err)
	}
	if c, err := loyalty.RunJobsFor(t.Context(), srv.App, team.Org, later); err != nil || c.VestedAccounts != 0 {
		t.Fatalf("second run: %+v %v", c, err)
	}
	got = loyPendingOf(t, team.Viewer, customer)
	if got.PointsBalance != 1000 || got.PendingPoints != 0 || len(got.PendingLots) != 0 || got.LifetimePoints != 2100 || got.Tier != "SILVER" {
		t.Fatalf("after the job: %+v", got)
	}
	loyCheckBooks(t, srv, team.Org)
}

// A refund within the window cancels the purchase's pending points (not the balance, not
// the lifetime points); after the window it reverses from the balance as §4 says.
func TestRecordRefund_WithinThePendingWindowCancelsPendingPointsFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team, customer := loyPendingSetup(t, srv, 50)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "P", "amount": "100.00"})
	in := map[string]any{"orderId": "P", "refundId": "R1", "amount": "40.00"}
	p := loyOK(t, team.Agent, "recordRefund", in)
	if tx := p.Transaction; tx.Type != "ADJUST" || tx.Points != -40 || tx.BalanceAfter != 50 {
		t.Fatalf("cancellation = %+v", tx)
	}
	if a := p.LoyaltyAccount; a.PointsBalance != 50 || a.LifetimePoints != 50 || a.TotalSpent != "60.00" {
		t.Fatalf("account = %+v", a)
	}
	if again := loyOK(t, team.Agent, "recordRefund", in); again.Transaction.ID != p.Transaction.ID {
		t.Fatal("replay wrote another cancellation")
	}
	got := loyPendingOf(t, team.Viewer, customer)
	if got.PendingPoints != 60 || len(got.PendingLots) != 1 || got.PendingLots[0].Points != 60 || got.PointsBalance != 50 {
		t.Fatalf("read = %+v", got)
	}
	// The rest of the order: nothing pending is left, and the lot does not show.
	loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "P", "refundId": "R2", "amount": "60.00"})
	if got = loyPendingOf(t, team.Viewer, customer); got.PendingPoints != 0 || len(got.PendingLots) != 0 || got.PointsBalance != 50 {
		t.Fatalf("after the whole refund: %+v", got)
	}
	// Another order, vested (its window passed), then refunded: reversed from the balance.
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "Q", "amount": "100.00"})
	loyExec(t, srv, `UPDATE loyalty_transactions SET vests_at = now() - interval '1 second'
		WHERE organization_id = ? AND reference_id = 'Q' AND transaction_type = 'earn'`, team.Org)
	p = loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "Q", "refundId": "R3", "amount": "25.00"})
	if p.Transaction.Points != -25 || p.Transaction.BalanceAfter != 125 || p.LoyaltyAccount.PointsBalance != 125 || p.LoyaltyAccount.LifetimePoints != 125 {
		t.Fatalf("refund after vesting: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	// The job finds nothing left to vest: the cancelled lot had no points, the other vested.
	if c, err := loyalty.RunJobsFor(t.Context(), srv.App, team.Org, time.Now().AddDate(0, 0, 31)); err != nil || c.VestedPoints != 0 {
		t.Fatalf("job: %+v %v", c, err)
	}
	loyCheckBooks(t, srv, team.Org)
}
