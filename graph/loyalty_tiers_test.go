package graph_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/loyalty"
)

// §4 tiers: "When tier_expires_at passes, the tier is re-evaluated on the same rule (it may
// drop)" — by the nightly job, and by any mutation of the account before the job has run.

// loyUTCDate is the SQL of the database's UTC date plus days (the loyalty rules' today).
func loyUTCDate(days int) string {
	return fmt.Sprintf("((now() AT TIME ZONE 'UTC')::date + %d)", days)
}

// loySilverFixture makes a customer silver through the API (1000.00 earns 1000 points),
// then moves that earn monthsAgo into the past and gives the tier the dates given (days
// from today; tier_since 400 days ago). It returns the customer and its tier_since.
func loySilverFixture(t *testing.T, srv *apitest.Server, team loyTeam, monthsAgo, expiresInDays int) (uuid.UUID, string) {
	t.Helper()
	customer := loyCustomer(t, srv, team.Org)
	orderID := uuid.NewString()
	a := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": orderID, "amount": "1000.00"}).LoyaltyAccount
	if a.Tier != "SILVER" {
		t.Fatalf("not silver: %s", loyJSON(a))
	}
	loyBackdateEarn(t, srv, team.Org, orderID, monthsAgo)
	loyExec(t, srv, `UPDATE loyalty_accounts SET tier_since = `+loyUTCDate(-400)+`, tier_expires_at = `+loyUTCDate(expiresInDays)+`
		WHERE customer_id = ?`, customer)
	return customer, loyDay(t, srv, -400)
}

// loyDay is the database's UTC date plus days, as the API writes dates.
func loyDay(t *testing.T, srv *apitest.Server, days int) string {
	t.Helper()
	var s string
	if err := srv.Owner.NewRaw("SELECT "+loyUTCDate(days)+"::text").Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecordPurchase_AnExpiredTierIsReevaluatedBeforeItEarns(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	today, inAYear := loyToday(t, srv, 0), loyToday(t, srv, 12)
	// lapsed: silver expired yesterday, its 1000 points earned 13 months ago (outside the
	// window). kept: expired yesterday, earned 11 months ago (still qualifies). notYet:
	// expires today — not passed yet — with its points outside the window.
	lapsed, _ := loySilverFixture(t, srv, team, 13, -1)
	kept, keptSince := loySilverFixture(t, srv, team, 11, -1)
	notYet, notYetSince := loySilverFixture(t, srv, team, 13, 0)
	// climber: lapsed too, but this purchase alone qualifies again.
	climber, _ := loySilverFixture(t, srv, team, 13, -1)

	for _, c := range []struct {
		name                    string
		customer                uuid.UUID
		amount                  string
		earned, balance, toNext int
		tier, since             string
		expires                 *string
	}{
		// Bronze ×1.0: 100, not silver's 125; the window holds only these 100 of silver's 1000.
		{"lapsed", lapsed, "100.00", 100, 1100, 900, "BRONZE", today, nil},
		// Silver stays (1000 in the window): ×1.25, tier_since kept, a new term from today.
		{"kept", kept, "100.00", 125, 1125, 5000 - 1125, "SILVER", keptSince, &inAYear},
		{"notYet", notYet, "100.00", 125, 1125, 5000 - 125, "SILVER", notYetSince, &today},
		// Dropped to bronze, then the purchase's 1000 points (×1.0) upgrade it again at once.
		{"climber", climber, "1000.00", 1000, 2000, 5000 - 1000, "SILVER", today, &inAYear},
	} {
		p := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": c.customer, "orderId": uuid.NewString(), "amount": c.amount})
		a := p.LoyaltyAccount
		if p.Transaction.Points != c.earned || p.Purchase.PointsEarned != c.earned || a.PointsBalance != c.balance ||
			a.Tier != c.tier || a.TierSince != c.since || loyJSON(a.TierExpiresAt) != loyJSON(c.expires) || *a.PointsToNextTier != c.toNext {
			t.Errorf("%s: earned %d, account %s; want %d earned, balance %d, %s since %s until %v, %d to next",
				c.name, p.Transaction.Points, loyJSON(a), c.earned, c.balance, c.tier, c.since, loyJSON(c.expires), c.toNext)
		}
	}
	// Nothing left for the job: the purchases re-evaluated their accounts, notYet's term has
	// not passed.
	if evaluated, changed, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || evaluated != 0 || changed != 0 {
		t.Fatalf("the job evaluated %d, changed %d, %v", evaluated, changed, err)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRedeemPoints_AnExpiredTierIsReevaluatedFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer, _ := loySilverFixture(t, srv, team, 13, -1)
	p := loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1, "referenceType": "o", "referenceId": "1"})
	if a := p.LoyaltyAccount; a.Tier != "BRONZE" || a.TierSince != loyToday(t, srv, 0) || a.TierExpiresAt != nil ||
		a.PointsBalance != 999 || *a.NextTier != "SILVER" || *a.PointsToNextTier != 1000 {
		t.Fatalf("after the redemption: %s", loyJSON(a))
	}
	// The fixture's purchase upgraded the tier (the caller's row); the re-evaluation is the
	// rule's, as the job's would be: its row is SYSTEM's (§12); then the redemption's.
	var rows []struct {
		Action  string    `bun:"action"`
		ActorID uuid.UUID `bun:"actor_id"`
	}
	if err := srv.Owner.NewRaw(`SELECT action, actor_id FROM audit_log WHERE organization_id = ? AND action <> 'loyalty.purchase'
		ORDER BY audit_id`, team.Org).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Action != "loyalty.tier_change" || rows[0].ActorID != team.Agent.User ||
		rows[1].Action != "loyalty.tier_change" || rows[1].ActorID != uuid.Nil ||
		rows[2].Action != "loyalty.redeem" || rows[2].ActorID != team.Agent.User {
		t.Fatalf("audit rows besides the purchase: %+v", rows)
	}
}

// loyTierFixtures makes accounts whose tiers passed their date yesterday: drop (silver with
// its points earned 13 months ago: becomes bronze), stay (silver earned 11 months ago), and
// rise (5000 points earned now, stored as silver: becomes gold).
func loyTierFixtures(t *testing.T, srv *apitest.Server, team loyTeam, drop, stay, rise int) (drops, stays, rises []uuid.UUID, staySince string) {
	t.Helper()
	for range drop {
		id, _ := loySilverFixture(t, srv, team, 13, -1)
		drops = append(drops, id)
	}
	for range stay {
		var id uuid.UUID
		id, staySince = loySilverFixture(t, srv, team, 11, -1)
		stays = append(stays, id)
	}
	for range rise {
		id := loyCustomer(t, srv, team.Org)
		if a := loyBuy(t, team.Agent, id, "5000.00").LoyaltyAccount; a.Tier != "GOLD" {
			t.Fatalf("not gold: %s", loyJSON(a))
		}
		loyExec(t, srv, `UPDATE loyalty_accounts SET tier = 'silver', tier_since = `+loyUTCDate(-400)+`,
			tier_expires_at = `+loyUTCDate(-1)+` WHERE customer_id = ?`, id)
		rises = append(rises, id)
	}
	return drops, stays, rises, staySince
}

// loyWantTiers checks the tier and dates of each account after a re-evaluation today.
func loyWantTiers(t *testing.T, srv *apitest.Server, team loyTeam, drops, stays, rises []uuid.UUID, staySince string) {
	t.Helper()
	today, inAYear := loyToday(t, srv, 0), loyToday(t, srv, 12)
	check := func(ids []uuid.UUID, tier, since string, expires *string) {
		for _, id := range ids {
			if a := loyAccountOf(t, team.Viewer, id); a.Tier != tier || a.TierSince != since || loyJSON(a.TierExpiresAt) != loyJSON(expires) {
				t.Errorf("account of %s = %s, want %s since %s until %s", id, loyJSON(a), tier, since, loyJSON(expires))
			}
		}
	}
	check(drops, "BRONZE", today, nil)
	check(stays, "SILVER", staySince, &inAYear)
	check(rises, "GOLD", today, &inAYear)
}

func TestReevaluateTiers_ConcurrentRunsEvaluateEachAccountOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	drops, stays, rises, staySince := loyTierFixtures(t, srv, team, 8, 8, 4)

	var mu sync.Mutex
	var evaluated, changed int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			<-start
			e, c, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			evaluated, changed = evaluated+e, changed+c
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if evaluated != 20 || changed != 12 {
		t.Fatalf("four concurrent runs evaluated %d and changed %d, want 20 and 12 (8 drops + 4 rises)", evaluated, changed)
	}
	loyWantTiers(t, srv, team, drops, stays, rises, staySince)
	if e, c, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || e != 0 || c != 0 {
		t.Fatalf("a fifth run evaluated %d, changed %d, %v", e, c, err)
	}
}

func TestReevaluateTiers_SkipsAnAccountLockedByAMutationAndTheNextRunTakesIt(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	drops, stays, rises, staySince := loyTierFixtures(t, srv, team, 2, 2, 1)
	busy := drops[0]

	// A transaction holds the busy account's row, as a mutation in flight would.
	ctx := context.Background()
	holder, err := srv.Owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck // released below; this is the test failing early
	if _, err := holder.NewRaw("SELECT 1 FROM loyalty_accounts WHERE organization_id = ? AND customer_id = ? FOR UPDATE", team.Org, busy).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if e, c, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || e != 4 || c != 2 {
		t.Fatalf("with one account locked: evaluated %d, changed %d, %v; want 4 and 2", e, c, err)
	}
	if a := loyAccountOf(t, team.Viewer, busy); a.Tier != "SILVER" || *a.TierExpiresAt != loyDay(t, srv, -1) {
		t.Fatalf("the locked account changed: %s", loyJSON(a))
	}
	loyWantTiers(t, srv, team, drops[1:], stays, rises, staySince)

	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	if e, c, err := loyalty.ReevaluateTiers(t.Context(), srv.App, team.Org, time.Now()); err != nil || e != 1 || c != 1 {
		t.Fatalf("the next run evaluated %d, changed %d, %v; want 1 and 1", e, c, err)
	}
	loyWantTiers(t, srv, team, drops, stays, rises, staySince)
}
