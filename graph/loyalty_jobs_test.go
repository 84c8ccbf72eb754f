package graph_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

func TestExpirePoints_ExpiresALotPastItsDateButNotTomorrows(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	today := loyBonus(t, team.Agent, customer, 30).Transaction
	tomorrow := loyBonus(t, team.Agent, customer, 20).Transaction
	old := loyBonus(t, team.Agent, customer, 5).Transaction
	// The job runs at now (3 hours ahead of the clock): the old lot and today's lot have
	// passed their date by then, tomorrow's has not. The old lot expires first, so the
	// redemption below spends it: nothing of it is left to expire.
	now := time.Now().Add(3 * time.Hour)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '1 hour' WHERE transaction_id = ?", old.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '2 hours' WHERE transaction_id = ?", today.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '27 hours' WHERE transaction_id = ?", tomorrow.ID)
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 5, "referenceType": "o", "referenceId": "1"})

	accounts, points, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now)
	if err != nil || accounts != 1 || points != 30 {
		t.Fatalf("expired %d accounts, %d points, %v", accounts, points, err)
	}
	var out struct {
		Customer struct {
			LoyaltyAccount struct {
				PointsBalance int
				Transactions  struct{ Nodes []loyTx }
			}
		}
	}
	team.Viewer.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount { pointsBalance
		transactions(first: 1, type: EXPIRE) { nodes { `+loyTxFields+` } } } } }`, map[string]any{"id": customer}, &out)
	a := out.Customer.LoyaltyAccount
	if a.PointsBalance != 20 || len(a.Transactions.Nodes) != 1 || a.Transactions.Nodes[0].Points != -30 || a.Transactions.Nodes[0].BalanceAfter != 20 {
		t.Fatalf("after expiry: %+v", a)
	}
	// Twice is safe: nothing more is due.
	if accounts, points, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now); err != nil || accounts != 0 || points != 0 {
		t.Fatalf("second run expired %d accounts, %d points, %v", accounts, points, err)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'expire'", team.Org); n != 1 {
		t.Fatalf("%d expire transactions", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestExpirePoints_WritesOneTransactionPerAccountAndConcurrentRunsDoNotDoubleExpire(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	const n = 20
	for range n {
		id := loyCustomer(t, srv, team.Org)
		loyEnroll(t, team.Agent, id)
		loyBonus(t, team.Agent, id, 7)
		loyBonus(t, team.Agent, id, 3)
		loyBonus(t, team.Agent, id, 100) // stays
	}
	loyExec(t, srv, `UPDATE loyalty_transactions SET expires_at = now() - interval '1 hour'
		WHERE organization_id = ? AND points < 100`, team.Org)
	now := time.Now()
	var mu sync.Mutex
	var accounts, points int
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			a, p, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			accounts, points = accounts+a, points+p
			mu.Unlock()
		})
	}
	wg.Wait()
	if accounts != n || points != n*10 {
		t.Fatalf("four concurrent runs expired %d accounts and %d points, want %d and %d", accounts, points, n, n*10)
	}
	if bad := loyInt(t, srv, `SELECT count(*) FROM (SELECT loyalty_account_id FROM loyalty_transactions
		WHERE organization_id = ? AND transaction_type = 'expire' GROUP BY 1 HAVING count(*) <> 1 OR sum(points) <> -10) x`, team.Org); bad != 0 {
		t.Fatalf("%d accounts without exactly one expire transaction of -10", bad)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'expire'", team.Org); n != 20 {
		t.Fatalf("%d expire transactions", n)
	}
	if checked := loyCheckBooks(t, srv, team.Org); checked != n {
		t.Fatalf("checked %d accounts", checked)
	}
}

func TestExpirePoints_AMutationExpiresItsAccountsDueLotsFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	lot := loyBonus(t, team.Agent, customer, 60).Transaction
	loyBonus(t, team.Agent, customer, 40)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() - interval '1 second' WHERE transaction_id = ?", lot.ID)
	// The balance still shows 100 until something expires the lot; a redemption does so first.
	loyWantError(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 100, "referenceType": "o", "referenceId": "1"},
		"INSUFFICIENT_POINTS", "input", "points")
	p := loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 40, "referenceType": "o", "referenceId": "2"})
	if p.LoyaltyAccount.PointsBalance != 0 {
		t.Fatalf("balance %d", p.LoyaltyAccount.PointsBalance)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'expire' AND points = -60", team.Org); n != 1 {
		t.Fatalf("%d expire transactions", n)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestReevaluateTiers_DropsATierWhoseWindowNoLongerQualifies(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	lapsed, kept, fresh := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	for _, id := range []uuid.UUID{lapsed, kept, fresh} {
		if a := loyBuy(t, team.Agent, id, "1000.00").LoyaltyAccount; a.Tier != "SILVER" {
			t.Fatalf("not silver: %+v", a)
		}
	}
	// lapsed: its points were earned 13 months ago; kept: 11 months ago; both tiers passed
	// their date yesterday. fresh's tier has not expired.
	for id, months := range map[uuid.UUID]int{lapsed: 13, kept: 11} {
		loyExec(t, srv, `UPDATE loyalty_transactions t SET created_at = now() - make_interval(months => ?)
			FROM loyalty_accounts a WHERE a.organization_id = t.organization_id AND a.loyalty_account_id = t.loyalty_account_id AND a.customer_id = ?`, months, id)
		loyExec(t, srv, `UPDATE loyalty_accounts SET tier_since = current_date - 400, tier_expires_at = current_date - 1
			WHERE customer_id = ?`, id)
	}
	loyRebuildQualifyingDays(t, srv, team.Org)
	evaluated, changed, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now())
	if err != nil || evaluated != 2 || changed != 1 {
		t.Fatalf("evaluated %d, changed %d, %v", evaluated, changed, err)
	}
	if a := loyAccountOf(t, team.Viewer, lapsed); a.Tier != "BRONZE" || a.TierExpiresAt != nil || a.TierSince != loyToday(t, srv, 0) ||
		*a.NextTier != "SILVER" || *a.PointsToNextTier != 1000 || a.PointsBalance != 1000 {
		t.Fatalf("lapsed = %+v", a)
	}
	if a := loyAccountOf(t, team.Viewer, kept); a.Tier != "SILVER" || a.TierSince == loyToday(t, srv, 0) || *a.TierExpiresAt != loyToday(t, srv, 12) {
		t.Fatalf("kept = %+v", a)
	}
	if a := loyAccountOf(t, team.Viewer, fresh); a.Tier != "SILVER" || a.TierSince != loyToday(t, srv, 0) {
		t.Fatalf("fresh = %+v", a)
	}
	if evaluated, changed, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || evaluated != 0 || changed != 0 {
		t.Fatalf("second run: %d, %d, %v", evaluated, changed, err)
	}
	// A purchase never downgrades: lapsed earns again from bronze.
	if a := loyBuy(t, team.Agent, lapsed, "10.00").LoyaltyAccount; a.Tier != "BRONZE" || a.PointsBalance != 1010 {
		t.Fatalf("after buying again: %+v", a)
	}
}

// TestRunJobs_VisitsEveryOrganization is not parallel: RunJobs sweeps every organization of
// the shared test database, and the parallel tests of this package count what their own
// calls expire. Go runs the sequential tests before it releases the parallel ones.
func TestRunJobs_VisitsEveryOrganization(t *testing.T) {
	srv := apitest.New(t)
	teams := []loyTeam{newLoyTeam(t, srv), newLoyTeam(t, srv)}
	for _, team := range teams {
		customer := loyCustomer(t, srv, team.Org)
		loyEnroll(t, team.Agent, customer)
		loyBonus(t, team.Agent, customer, 25)
		loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() - interval '1 day' WHERE organization_id = ?", team.Org)
	}
	counts, err := loyalty.RunJobs(t.Context(), srv.App, time.Now())
	if err != nil || counts.Organizations < 2 || counts.ExpiredAccounts < 2 || counts.ExpiredPoints < 50 {
		t.Fatalf("counts %+v, %v", counts, err)
	}
	for _, team := range teams {
		if n := loyInt(t, srv, "SELECT points_balance FROM loyalty_accounts WHERE organization_id = ?", team.Org); n != 0 {
			t.Fatalf("balance %d after the run", n)
		}
		loyCheckBooks(t, srv, team.Org)
	}
}

// §4 "a lot expiring today": a lot whose expires_at is the job's now exactly has expired
// (expires_at <= now, in the lock of ExpirePoints and in expireDue); one a microsecond later
// has not, until a run at that microsecond.
func TestExpirePoints_ALotExpiringAtTheJobsNowExactlyExpires(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	at := loyBonus(t, team.Agent, customer, 30).Transaction
	after := loyBonus(t, team.Agent, customer, 20).Transaction
	loyBonus(t, team.Agent, customer, 7) // expires in 12 months
	// An hour ahead, so no mutation or read expires them before the job; PostgreSQL keeps
	// microseconds, so the job's now is exactly the stored expires_at.
	now := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = ? WHERE transaction_id = ?", now, at.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = ? WHERE transaction_id = ?", now.Add(time.Microsecond), after.ID)

	if accounts, points, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now.Add(-time.Microsecond)); err != nil || accounts != 0 || points != 0 {
		t.Fatalf("a microsecond before: expired %d accounts, %d points, %v", accounts, points, err)
	}
	if accounts, points, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now); err != nil || accounts != 1 || points != 30 {
		t.Fatalf("at its expires_at: expired %d accounts, %d points, %v; want 1 and 30", accounts, points, err)
	}
	if n := loyInt(t, srv, "SELECT points_balance FROM loyalty_accounts WHERE customer_id = ?", customer); n != 27 {
		t.Fatalf("balance %d, want 27", n)
	}
	if accounts, points, err := loyalty.ExpirePoints(t.Context(), srv.App, team.Org, now.Add(time.Microsecond)); err != nil || accounts != 1 || points != 20 {
		t.Fatalf("a microsecond later: expired %d accounts, %d points, %v; want 1 and 20", accounts, points, err)
	}
	if n := loyInt(t, srv, "SELECT points_balance FROM loyalty_accounts WHERE customer_id = ?", customer); n != 7 {
		t.Fatalf("balance %d, want 7", n)
	}
}
