package migrations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun/dialect/pgdialect"
)

const creditReviewMigration = "20261220000001_credit_review"

// The review migration backfills each account's limit history and opener from the audit
// log (history older than the first recorded limit only; a row at the migration where the
// history does not end with the current limit), stores that existing requests need a second
// approver, revokes UPDATE on organizations, and its down undoes the schema changes.
func TestMigrations_CreditReviewBackfillsLimitsAndOpeners(t *testing.T) {
	admin := openOwner(t, "postgres")
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE migrations_credit_review"); err != nil {
		t.Fatal(err)
	}
	conn := openOwner(t, "migrations_credit_review")
	upTo(t, conn, creditReviewMigration)
	org, m1, m2 := uuid.New(), uuid.New(), uuid.New()
	t1 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	t2 := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	t3 := time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)
	old := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	account := func(limit string) uuid.UUID {
		t.Helper()
		cust, acc := uuid.New(), uuid.New()
		exec("INSERT INTO customers (organization_id, customer_id, first_name, last_name, customer_type) VALUES (?, ?, 'A', 'B', 'b2b')", org, cust)
		exec("INSERT INTO credit_accounts (organization_id, credit_account_id, customer_id, credit_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
			org, acc, cust, limit, t1, old)
		return acc
	}
	audit := func(acc, actor uuid.UUID, action, details string, changed []string, at time.Time) {
		t.Helper()
		exec("INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details, created_at) VALUES (?, ?, ?, 'credit_account', ?, ?, ?::jsonb, ?)",
			org, actor, action, acc, pgdialect.Array(changed), details, at)
	}
	// a: opened by m1 at 100.00, raised by m2 to 200.00, all before limits were recorded.
	a := account("200.00")
	audit(a, m1, "credit.open", `{"credit_limit": "100.00"}`, []string{"credit_limit"}, t1)
	audit(a, m2, "credit.update_limit", `{"old_credit_limit": "100.00", "new_credit_limit": "200.00"}`, []string{"credit_limit"}, t2)
	audit(a, m2, "credit.update_limit", `{"old_credit_limit": "200.00", "new_credit_limit": "200.00"}`, []string{}, t2.Add(time.Hour))
	// b: no audit history (inserted outside the API).
	b := account("50.00")
	// c: opened at 10.00 before, raised to 20.00 after limits were recorded.
	c := account("20.00")
	audit(c, m1, "credit.open", `{"credit_limit": "10.00"}`, []string{"credit_limit"}, t1)
	audit(c, m2, "credit.update_limit", `{"old_credit_limit": "10.00", "new_credit_limit": "20.00"}`, []string{"credit_limit"}, t3)
	exec("INSERT INTO credit_limit_changes (organization_id, credit_account_id, credit_limit, changed_by, changed_at) VALUES (?, ?, '20.00', ?, ?)", org, c, m2, t3)

	before := time.Now()
	execFile(t, conn, creditReviewMigration+".tx.up.sql")

	type change struct {
		Limit string    `bun:"credit_limit"`
		By    uuid.UUID `bun:"changed_by"`
		At    time.Time `bun:"changed_at"`
	}
	history := func(acc uuid.UUID) []change {
		t.Helper()
		var out []change
		if err := conn.NewRaw("SELECT credit_limit::text, changed_by, changed_at FROM credit_limit_changes WHERE credit_account_id = ? ORDER BY changed_at", acc).
			Scan(ctx, &out); err != nil {
			t.Fatal(err)
		}
		for i := range out {
			out[i].At = out[i].At.UTC()
		}
		return out
	}
	if got, want := history(a), []change{{"100.00", m1, t1}, {"200.00", m2, t2}}; !slices.Equal(got, want) {
		t.Fatalf("a's history %v, want %v", got, want)
	}
	if got := history(b); len(got) != 1 || got[0].Limit != "50.00" || got[0].By != uuid.Nil || got[0].At.Before(before.Add(-time.Minute)) {
		t.Fatalf("b's history %v, want one row of 50.00 by no one at the migration", got)
	}
	if got, want := history(c), []change{{"10.00", m1, t1}, {"20.00", m2, t3}}; !slices.Equal(got, want) {
		t.Fatalf("c's history %v, want %v", got, want)
	}
	type acct struct {
		ID        uuid.UUID  `bun:"credit_account_id"`
		OpenedBy  *uuid.UUID `bun:"opened_by"`
		UpdatedAt time.Time  `bun:"updated_at"`
		Open      bool       `bun:"open_requires_second_approver"`
		Limit     bool       `bun:"limit_requires_second_approver"`
	}
	var accs []acct
	if err := conn.NewRaw("SELECT credit_account_id, opened_by, updated_at, open_requires_second_approver, limit_requires_second_approver FROM credit_accounts").
		Scan(ctx, &accs); err != nil {
		t.Fatal(err)
	}
	for _, x := range accs {
		wantBy := &m1
		if x.ID == b {
			wantBy = nil
		}
		if (x.OpenedBy == nil) != (wantBy == nil) || (wantBy != nil && *x.OpenedBy != *wantBy) || !x.UpdatedAt.Equal(old) || !x.Open || !x.Limit {
			t.Fatalf("account after up: %+v, want opened by %v, updated_at %v, both second approvers required", x, wantBy, old)
		}
	}
	var forced bool
	if err := conn.NewRaw("SELECT bool_and(relforcerowsecurity) FROM pg_class WHERE relname IN ('credit_accounts', 'credit_limit_changes', 'audit_log')").
		Scan(ctx, &forced); err != nil || !forced {
		t.Fatalf("FORCE row level security %v after the backfill (%v)", forced, err)
	}
	update := func() bool {
		t.Helper()
		var ok bool
		if err := conn.NewRaw("SELECT has_table_privilege('customer_service_app', 'organizations', 'UPDATE')").Scan(ctx, &ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if update() {
		t.Fatal("customer_service_app may still UPDATE organizations")
	}

	execFile(t, conn, creditReviewMigration+".tx.down.sql")
	if !update() {
		t.Fatal("down did not grant UPDATE on organizations back")
	}
	var cols int
	if err := conn.NewRaw("SELECT count(*) FROM information_schema.columns WHERE table_name = 'credit_accounts' AND column_name LIKE '%requires_second_approver'").
		Scan(ctx, &cols); err != nil || cols != 0 {
		t.Fatalf("%d requires_second_approver columns after down (%v)", cols, err)
	}
}
