package graph_test

import (
	"testing"

	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// Goal 1 of issue 17: a credit write reads in one round trip and writes in one (db.Later),
// besides its transaction control; its payload's account is one pipelined read more. A
// change that sends a statement more on its own fails here.
func TestCreditWrites_RoundTrips(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "100")
	measure := func(do func() creditPayload) (trips, stmts int64, p creditPayload) {
		tripsBefore, stmtsBefore := srv.Statements.RoundTrips(), srv.Statements.Count()
		p = do()
		return srv.Statements.RoundTrips() - tripsBefore, srv.Statements.Count() - stmtsBefore, p
	}
	for _, tc := range []struct {
		name         string
		do           func() creditPayload
		trips, stmts int64
	}{
		// BEGIN, the organization, the locked read, the usage + credit_used + audit row +
		// notification, COMMIT; then the payload's pipeline (the organization and the account).
		{"chargeCredit", func() creditPayload { return tm.charge(t, customerID, "o-1", "10") }, 6, 10},
		// A replay: the read finds the order's usage, then reads it; nothing is written.
		{"chargeCredit replayed", func() creditPayload { return tm.charge(t, customerID, "o-1", "10") }, 6, 7},
		// A refusal: the read, the rules, ROLLBACK; no payload read.
		{"chargeCredit refused", func() creditPayload { return tm.charge(t, customerID, "o-2", "1000") }, 4, 4},
		// BEGIN, the organization, the locked read, the payment + credit_used + the charge's
		// amount_paid + the allocation + audit row + notification, COMMIT; the payload's pipeline.
		{"recordCreditPayment", func() creditPayload { return tm.pay(t, customerID, "p-1", "4") }, 6, 12},
		{"recordCreditPayment replayed", func() creditPayload { return tm.pay(t, customerID, "p-1", "4") }, 6, 7},
	} {
		trips, stmts, p := measure(tc.do)
		if refused := len(p.UserErrors) > 0; refused != (tc.name == "chargeCredit refused") {
			t.Fatalf("%s: user errors %+v", tc.name, p.UserErrors)
		}
		t.Logf("%s: %d round trips, %d statements", tc.name, trips, stmts)
		wantStmts := tc.stmts
		if testdb.OnCitus() && tc.name != "chargeCredit refused" {
			// The payload's pipeline on Citus: BEGIN READ ONLY, the two SET LOCALs and the
			// planning setting before the read, COMMIT after it, where PostgreSQL has one
			// set_config before it (db.ReadInOrg): 4 statements more, still one round trip.
			wantStmts += 4
		}
		if trips != tc.trips || stmts != wantStmts {
			t.Errorf("%s: %d round trips and %d statements, want %d and %d", tc.name, trips, stmts, tc.trips, wantStmts)
		}
	}
	assertCreditBooks(t, srv, tm.org)
}
