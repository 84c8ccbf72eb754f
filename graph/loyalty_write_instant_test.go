package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// §13, asOf: a write decides what is due at the instant it stamps its rows, taken after the
// account's lock. A redemption whose transaction starts before a lot's expiry and that gets
// the account's lock only after it must expire the lot first and spend from the next one: its
// row comes after the expiry, so asOf — which counts the expiry at the lot's date — agrees with
// the balance at every instant. Deciding at the transaction's start would spend from the
// expired lot.
//
// Deterministic: the owner holds the account's row lock while the redemption's transaction
// starts and waits, and releases it only once the database's clock has passed the expiry.
func TestLoyaltyWrite_DecidesWhatIsDueAtItsRowsInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	soon := loyBonus(t, team.Agent, customer, 50).Transaction
	later := loyBonus(t, team.Agent, customer, 100).Transaction
	ctx := context.Background()

	// The first lot expires three seconds from now (the database's clock).
	var expiresAt time.Time
	if err := srv.Owner.NewRaw("SELECT date_trunc('milliseconds', clock_timestamp()) + interval '3 seconds'").Scan(ctx, &expiresAt); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Owner.ExecContext(ctx, "UPDATE loyalty_transactions SET expires_at = ? WHERE organization_id = ? AND transaction_id = ?",
		expiresAt, team.Org, soon.ID); err != nil {
		t.Fatal(err)
	}
	lock, err := srv.Owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck // committed below; a failed test ends it here
	if _, err := lock.ExecContext(ctx, `SELECT FROM loyalty_accounts WHERE organization_id = ? AND customer_id = ? FOR UPDATE`,
		team.Org, customer); err != nil {
		t.Fatal(err)
	}
	// The holder's backend (on Citus its global pid, which Citus's lock waits name): the wait
	// below is for a backend it blocks, not any test's in the shared database.
	var holder int64
	holderSQL, blockedSQL := "SELECT pg_backend_pid()",
		"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pg_blocking_pids(pid) @> ARRAY[?::int])"
	if testdb.OnCitus() {
		holderSQL, blockedSQL = "SELECT citus_backend_gpid()", "SELECT EXISTS (SELECT FROM citus_lock_waits WHERE blocking_gpid = ?)"
	}
	if err := lock.QueryRowContext(ctx, holderSQL).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	done := make(chan loyPayload, 1)
	go func() {
		done <- loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 30,
			"referenceType": "order", "referenceId": "instant-1"})
	}()
	// The redemption's transaction waits for the holder's lock before the expiry, so it
	// started before it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting struct {
			Waiting bool `bun:"waiting"`
			Before  bool `bun:"before"`
		}
		if err := srv.Owner.NewRaw(`SELECT (`+blockedSQL+`) AS waiting, clock_timestamp() < ? AS before`,
			holder, expiresAt).Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting.Waiting {
			if !waiting.Before {
				t.Fatalf("the redemption waited for the lock only after the lot's expiry %s: the machine was too slow for the test", expiresAt)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redemption never waited for the account's lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		var past bool
		if err := srv.Owner.NewRaw("SELECT clock_timestamp() > ?", expiresAt).Scan(ctx, &past); err != nil {
			t.Fatal(err)
		}
		if past {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	var res loyPayload
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the redemption did not answer")
	}
	if len(res.UserErrors) > 0 || res.Transaction == nil {
		t.Fatalf("redeemPoints: %+v", res)
	}
	if res.LoyaltyAccount.PointsBalance != 70 || res.Transaction.BalanceAfter != 70 {
		t.Fatalf("balance %d, the redemption's balance after %d; want 70 (150 − 50 expired − 30)",
			res.LoyaltyAccount.PointsBalance, res.Transaction.BalanceAfter)
	}

	// The ledger: the expiry (50, balance 100) written before the redemption, the expired lot
	// untouched by it, the later lot 30 points lighter.
	var rows []struct {
		Type      string    `bun:"transaction_type"`
		Points    int       `bun:"points"`
		Balance   int       `bun:"balance_after"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := srv.Owner.NewRaw(`SELECT t.transaction_type, t.points, t.balance_after, t.created_at FROM loyalty_transactions t
		JOIN loyalty_accounts a USING (organization_id, loyalty_account_id)
		WHERE t.organization_id = ? AND a.customer_id = ? AND t.transaction_type IN ('expire', 'redeem') ORDER BY t.created_at, t.transaction_id`,
		team.Org, customer).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Type != "expire" || rows[0].Points != -50 || rows[0].Balance != 100 ||
		rows[1].Type != "redeem" || rows[1].Points != -30 || rows[1].Balance != 70 || !rows[0].CreatedAt.Before(rows[1].CreatedAt) {
		t.Fatalf("ledger %+v; want the expiry of 50 (balance 100), then the redemption of 30 (balance 70)", rows)
	}
	if !rows[0].CreatedAt.After(expiresAt) {
		t.Fatalf("the expiry row at %s, before the lot's date %s", rows[0].CreatedAt, expiresAt)
	}
	for id, want := range map[any]int{soon.ID: 0, later.ID: 70} {
		var remaining int
		if err := srv.Owner.NewRaw("SELECT points_remaining FROM loyalty_transactions WHERE organization_id = ? AND transaction_id = ?",
			team.Org, id).Scan(ctx, &remaining); err != nil {
			t.Fatal(err)
		}
		if remaining != want {
			t.Errorf("lot %v holds %d points, want %d", id, remaining, want)
		}
	}
	loyCheckBooks(t, srv, team.Org)

	// asOf agrees with the model at each instant: 150 before the lot's date, 100 from it,
	// 70 from the redemption's row.
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{expiresAt.Add(-time.Microsecond), 150}, {expiresAt, 100},
		{rows[1].CreatedAt.Add(-time.Microsecond), 100}, {rows[1].CreatedAt, 70},
	} {
		var out struct {
			Customer struct {
				LoyaltyAccount struct{ AsOf struct{ Balance int } }
			}
		}
		team.Viewer.Must(t, `query($id: UUID!, $at: DateTime!) { customer(id: $id) { loyaltyAccount { asOf(at: $at) { balance } } } }`,
			map[string]any{"id": customer, "at": c.at.UTC().Format(time.RFC3339Nano)}, &out)
		if got := out.Customer.LoyaltyAccount.AsOf.Balance; got != c.want {
			t.Errorf("asOf %s: balance %d, want %d", c.at.UTC().Format(time.RFC3339Nano), got, c.want)
		}
	}
}

// §13, asOf: a write that moves no points of its own — here the refund of a purchase whose
// points expired as they were earned, which reverses nothing — still vests its account's due
// lots first, and an upgrade that vesting brings is part of the same write: its tier change
// is recorded at the write's next instant, one microsecond after the vest row, and the tier's
// term starts on the UTC day of that instant. asOf then reads bronze up to the vest row and
// silver from the tier change on, as the refund's payload says.
func TestLoyaltyWrite_AnUpgradeFromVestingIsRecordedAtTheWritesInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	// 10 bonus points and 1000 pending ones (silver's threshold: 1010 once they vest), then a
	// purchase older than the points' lifetime: earned and expired at once.
	team, customer := loyPendingSetup(t, srv, 10)
	pending := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "PENDING", "amount": "1000.00"})
	if pending.Transaction.VestsAt == nil || pending.LoyaltyAccount.Tier != "BRONZE" {
		t.Fatalf("pending purchase: %+v %+v", pending.Transaction, pending.LoyaltyAccount)
	}
	old := loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "OLD", "amount": "50.00",
		"occurredAt": time.Now().AddDate(0, -14, 0).UTC().Format(time.RFC3339Nano)})
	if old.LoyaltyAccount.PointsBalance != 10 {
		t.Fatalf("old purchase: %+v", old.LoyaltyAccount)
	}
	// The pending lot's date has come (a minute ago); no job has vested it.
	loyExec(t, srv, `UPDATE loyalty_transactions SET vests_at = now() - interval '1 minute'
		WHERE organization_id = ? AND pending`, team.Org)

	res := loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "OLD", "refundId": "F-OLD", "amount": "10.00"})
	if res.Transaction != nil {
		t.Fatalf("the refund reversed points: %+v", res.Transaction)
	}
	if a := res.LoyaltyAccount; a.PointsBalance != 1010 || a.Tier != "SILVER" {
		t.Fatalf("account after the refund: %s; want 1010 points, silver", loyJSON(a))
	}

	vest := loyWantUpgradeAfterVest(t, srv, team.Org)
	if a := res.LoyaltyAccount; a.TierSince != vest.Day || a.TierExpiresAt == nil || *a.TierExpiresAt != vest.InAYear {
		t.Fatalf("tier since %s until %v; want %s until %s (the write's instant's UTC day)", a.TierSince, loyJSON(a.TierExpiresAt), vest.Day, vest.InAYear)
	}
	for _, c := range []struct {
		at   time.Time
		tier string
	}{
		{vest.CreatedAt, "BRONZE"}, {vest.CreatedAt.Add(time.Microsecond), "SILVER"}, {time.Now(), "SILVER"},
	} {
		var out struct {
			Customer struct {
				LoyaltyAccount struct {
					AsOf struct {
						Balance int
						Tier    string
					}
				}
			}
		}
		team.Viewer.Must(t, `query($id: UUID!, $at: DateTime!) { customer(id: $id) { loyaltyAccount { asOf(at: $at) { balance tier } } } }`,
			map[string]any{"id": customer, "at": c.at.UTC().Format(time.RFC3339Nano)}, &out)
		if got := out.Customer.LoyaltyAccount.AsOf; got.Tier != c.tier || got.Balance != 1010 {
			t.Errorf("asOf %s: %+v; want 1010 points, %s", c.at.UTC().Format(time.RFC3339Nano), got, c.tier)
		}
	}
	loyCheckBooks(t, srv, team.Org)
}

// §10, §13: a merge is a loyalty write like the others: it reads one instant once all the
// accounts are locked, vests what is due at it, and the upgrade that vesting brings is recorded
// the microsecond after the vest row, its term starting on that instant's UTC day.
func TestMerge_AnUpgradeFromVestingIsRecordedAtTheMergesInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	loySetPendingDays(t, team.Admin, 30)
	survivor, merged := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, survivor)
	loyEnroll(t, team.Agent, merged)
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": survivor, "orderId": "PENDING", "amount": "1000.00"})
	loyBonus(t, team.Agent, merged, 10)
	loyExec(t, srv, `UPDATE loyalty_transactions SET vests_at = now() - interval '1 minute'
		WHERE organization_id = ? AND pending`, team.Org)

	res := mgMerge(t, team.Manager, survivor, []uuid.UUID{merged}, nil, "mg-instant")
	if len(res.UserErrors) > 0 {
		t.Fatal(res.codes())
	}
	plan := mgDecode(t, res.Merge).Loyalty
	vest := loyWantUpgradeAfterVest(t, srv, team.Org)
	if plan == nil || plan.Tier != "SILVER" || plan.PointsBalance != 1010 || plan.TierSince != vest.Day ||
		plan.TierExpiresAt == nil || *plan.TierExpiresAt != vest.InAYear {
		t.Fatalf("merged account %+v; want 1010 points, silver from %s until %s", plan, vest.Day, vest.InAYear)
	}
	// (A merged ledger's balance_after chain is each account's own, so not loyCheckBooks.)
	if b := mgReadBooks(t, srv, team.Org); b.Balance != 1010 || b.LotPoints != 1010 || b.Lifetime != 1010 {
		t.Fatalf("books %+v; want 1010 points in the balance, the open lots and the lifetime points", b)
	}
	loyCheckQualifyingDays(t, srv, team.Org)
}

// loyVest is the organization's one vest row: its instant, and that instant's UTC day and
// the day twelve months later (a tier's term from it).
type loyVest struct {
	CreatedAt time.Time `bun:"created_at"`
	Day       string    `bun:"day"`
	InAYear   string    `bun:"in_a_year"`
}

// loyWantUpgradeAfterVest reads the organization's one vest row and fails unless its tier
// history is one change, to silver, the microsecond after that row (the write's next stamp).
func loyWantUpgradeAfterVest(t *testing.T, srv *apitest.Server, org uuid.UUID) loyVest {
	t.Helper()
	var vest loyVest
	if err := srv.Owner.NewRaw(`SELECT created_at, (created_at AT TIME ZONE 'UTC')::date::text AS day,
			((created_at AT TIME ZONE 'UTC')::date + interval '12 months')::date::text AS in_a_year
		FROM loyalty_transactions WHERE organization_id = ? AND transaction_type = 'vest'`, org).Scan(t.Context(), &vest); err != nil {
		t.Fatal(err)
	}
	var changes []struct {
		Tier string    `bun:"tier"`
		At   time.Time `bun:"changed_at"`
	}
	if err := srv.Owner.NewRaw(`SELECT tier, changed_at FROM loyalty_tier_changes WHERE organization_id = ? ORDER BY changed_at`,
		org).Scan(t.Context(), &changes); err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Tier != "silver" || !changes[0].At.Equal(vest.CreatedAt.Add(time.Microsecond)) {
		t.Fatalf("tier changes %+v; want one to silver at %s, the microsecond after the vest row",
			changes, vest.CreatedAt.Add(time.Microsecond).UTC().Format(time.RFC3339Nano))
	}
	return vest
}
