package graph_test

import (
	"context"
	"testing"
	"time"

	"customerservice/internal/testkit/apitest"
)

// §13, asOf: a write decides what is due at the instant it stamps its rows, taken after the
// account's lock. A redemption whose transaction starts before a lot's expiry and that gets
// the account's lock only after it must expire the lot first and spend from the next one: its
// row comes after the expiry, so asOf — which counts the expiry at the lot's date — agrees with
// the balance at every instant. (Deciding at the transaction's start spent from the expired
// lot: 30 of its 50 points, the balance 50 points above what the ledger's expiry says.)
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
	done := make(chan loyPayload, 1)
	go func() {
		done <- loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 30,
			"referenceType": "order", "referenceId": "instant-1"})
	}()
	// The redemption's transaction waits for the lock before the expiry (on Citus, for its
	// shard's answer), so it started before it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting struct {
			Waiting bool `bun:"waiting"`
			Before  bool `bun:"before"`
		}
		if err := srv.Owner.NewRaw(`SELECT EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active'
				AND wait_event_type IS NOT NULL AND query ILIKE '%FOR UPDATE OF la%') AS waiting,
			clock_timestamp() < ? AS before`, expiresAt).Scan(ctx, &waiting); err != nil {
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
