package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// mgLedgerPair is a survivor enrolled with one bonus and a customer to merge into it whose
// account holds n ledger rows (bonus lots of 10,000/n points, each still open: 10,000 in
// all, whatever n), inserted as the owner in one multi-row INSERT.
func mgLedgerPair(t testing.TB, srv *apitest.Server, tm loyTeam, n int) (survivor, merged uuid.UUID) {
	per := 10_000 / n
	t.Helper()
	survivor, merged = loyCustomer(t, srv, tm.Org), loyCustomer(t, srv, tm.Org)
	loyEnroll(t, tm.Agent, survivor)
	loyBonus(t, tm.Agent, survivor, 50)
	account := uuid.New()
	loyExec(t, srv, `INSERT INTO loyalty_accounts (loyalty_account_id, organization_id, customer_id, points_balance, lifetime_points)
		VALUES (?, ?, ?, ?, ?)`, account, tm.Org, merged, per*n, per*n)
	values := make([]string, n)
	args := make([]any, 0, 7*n)
	for i := range n {
		values[i] = "(?::uuid, ?::uuid, 'bonus', ?::int, ?::int, ?, ?::int, now() + interval '6 months', now() - make_interval(mins => ?))"
		args = append(args, tm.Org, account, per, per*(i+1), fmt.Sprintf("bench-%d", i), per, n-i)
	}
	loyExec(t, srv, `INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
		reference_id, points_remaining, expires_at, created_at) VALUES `+strings.Join(values, ", "), args...)
	return survivor, merged
}

// mgStatements merges merged into survivor through the API and returns how many statements
// the server sent for it: the request's transaction, the payload's read and the segments'
// recalculation after it, which runs in the background and is waited for (it has committed
// when the survivor's segment is newer than the request).
func mgStatements(t testing.TB, srv *apitest.Server, tm loyTeam, survivor, merged uuid.UUID) int64 {
	t.Helper()
	var asked time.Time
	if err := srv.Owner.NewRaw(`SELECT clock_timestamp()`).Scan(t.Context(), &asked); err != nil {
		t.Fatal(err)
	}
	before := srv.Statements.Count()
	if r := mgMerge(t, tm.Manager, survivor, []uuid.UUID{merged}, nil, "mg-"+merged.String()); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	const segmented = `SELECT count(*) FROM customer_segments WHERE organization_id = ? AND customer_id = ? AND calculated_at > ?`
	for deadline := time.Now().Add(10 * time.Second); loyInt(t, srv, segmented, tm.Org, survivor, asked) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the segments were not recalculated after the merge")
		}
	}
	return srv.Statements.Count() - before
}

// §10: a merge moves a ledger with set-based statements — merging 1,000 ledger rows sends
// exactly as many statements as merging 10 (of the same points, so the same tier change) —
// and moves every row and point.
func TestMerge_StatementsDoNotGrowWithTheLedger(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newLoyTeam(t, srv)
	s10, m10 := mgLedgerPair(t, srv, tm, 10)
	s1000, m1000 := mgLedgerPair(t, srv, tm, 1000)
	small := mgStatements(t, srv, tm, s10, m10)
	large := mgStatements(t, srv, tm, s1000, m1000)
	if small != large || large > 60 {
		t.Errorf("a merge of 10 ledger rows sent %d statements, of 1,000 rows %d", small, large)
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM loyalty_transactions t JOIN loyalty_accounts a ON a.organization_id = t.organization_id
		AND a.loyalty_account_id = t.loyalty_account_id WHERE t.organization_id = ? AND a.customer_id = ?`, tm.Org, s1000); n != 1001 {
		t.Errorf("the survivor's ledger has %d rows, want 1,001", n)
	}
	if b := loyInt(t, srv, "SELECT points_balance FROM loyalty_accounts WHERE organization_id = ? AND customer_id = ?", tm.Org, s1000); b != 10050 {
		t.Errorf("the survivor's balance is %d, want 10,050", b)
	}
	t.Logf("statements per merge: %d (10 rows), %d (1,000 rows)", small, large)
}

// BenchmarkMergeCustomers measures mergeCustomers of a customer whose loyalty account has
// 1,000 ledger rows into an enrolled survivor (and, for the ratio, 10 rows of the same
// points), through the HTTP handler, one merge at a time (a fresh pair each, set up outside
// the timer): time and statements per merge.
//
//	go test ./graph/ -run XXX -bench MergeCustomers -benchtime 20x
func BenchmarkMergeCustomers(b *testing.B) {
	for _, rows := range []int{10, 1000} {
		b.Run(fmt.Sprintf("ledger_%d", rows), func(b *testing.B) {
			srv := apitest.New(b)
			tm := newLoyTeam(b, srv)
			var statements int64
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				survivor, merged := mgLedgerPair(b, srv, tm, rows)
				b.StartTimer()
				start := time.Now()
				statements += mgStatements(b, srv, tm, survivor, merged)
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(statements)/float64(b.N), "stmts/op")
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/merge")
		})
	}
}
