package graph_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"customerservice/internal/testkit/apitest"
)

// §5: concurrent charges never push credit_used past the limit, concurrent payments never
// below zero; real goroutines over HTTP, then the books checked in SQL.

// outcomes counts the results of concurrent mutations by user error code ("" for success).
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) add(p creditPayload) {
	code := ""
	if len(p.UserErrors) > 0 {
		code = p.UserErrors[0].Code
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[code]++
}

func TestChargeCredit_TwentyConcurrentChargesNeverExceedTheLimit(t *testing.T) {
	t.Parallel()
	twentyConcurrentChargesNeverExceedTheLimit(t, apitest.New(t))
}

// twentyConcurrentChargesNeverExceedTheLimit is the scenario on srv (also run through PgBouncer).
func twentyConcurrentChargesNeverExceedTheLimit(t *testing.T, srv *apitest.Server) {
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	var (
		wg  sync.WaitGroup
		out outcomes
	)
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out.add(tm.charge(t, customerID, fmt.Sprintf("o-%d", i), "7.00"))
		}()
	}
	close(start)
	wg.Wait()
	// 100 fits 14 charges of 7 (98.00); the other 6 are refused.
	if out.n[""] != 14 || out.n["CREDIT_LIMIT_EXCEEDED"] != 6 {
		t.Fatalf("outcomes = %v", out.n)
	}
	used := creditSQL(t, srv, `SELECT credit_used::text FROM credit_accounts WHERE credit_account_id = ?`, acc.ID)
	if want := decimal.NewFromInt(int64(7 * out.n[""])).StringFixed(2); used != want {
		t.Fatalf("credit_used %s, want successes × amount = %s", used, want)
	}
	assertCreditBooks(t, srv, tm.org)
}

func TestChargeCredit_ConcurrentReplaysChargeOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]int{}
	)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := tm.charge(t, customerID, "same-order", "30")
			mu.Lock()
			defer mu.Unlock()
			if len(p.UserErrors) > 0 {
				ids[p.UserErrors[0].Code]++
				return
			}
			ids[p.Usage.ID]++
		}()
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("replays returned %v, want one usage", ids)
	}
	if used := creditSQL(t, srv, `SELECT credit_used::text FROM credit_accounts WHERE credit_account_id = ?`, acc.ID); used != "30.00" {
		t.Fatalf("credit_used = %s", used)
	}
	assertCreditBooks(t, srv, tm.org)
}

func TestCredit_ConcurrentChargesPaymentsAndCancellationsKeepTheBooks(t *testing.T) {
	t.Parallel()
	concurrentChargesPaymentsAndCancellationsKeepTheBooks(t, apitest.New(t))
}

// concurrentChargesPaymentsAndCancellationsKeepTheBooks is the scenario on srv (also run through PgBouncer).
func concurrentChargesPaymentsAndCancellationsKeepTheBooks(t *testing.T, srv *apitest.Server) {
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "300")
	var cancellable []string
	for i := 0; i < 5; i++ {
		cancellable = append(cancellable, creditOK(t, tm.charge(t, customerID, fmt.Sprintf("seed-%d", i), "20")).Usage.ID)
	}
	creditFixtureUsage(t, srv, acc.ID, "overdue", "40", "0", -10)
	var (
		wg                     sync.WaitGroup
		charges, pays, cancels outcomes
	)
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			charges.add(tm.charge(t, customerID, fmt.Sprintf("c-%d", i), "25.50"))
		}()
		go func() {
			defer wg.Done()
			<-start
			pays.add(tm.pay(t, customerID, fmt.Sprintf("p-%d", i), "13.25"))
		}()
	}
	for _, id := range cancellable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			cancels.add(creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": id}))
		}()
	}
	close(start)
	wg.Wait()
	for code := range charges.n {
		if code != "" && code != "CREDIT_LIMIT_EXCEEDED" {
			t.Fatalf("charges: %v", charges.n)
		}
	}
	for code := range pays.n {
		if code != "" && code != "INVALID" { // more than outstanding at that moment
			t.Fatalf("payments: %v", pays.n)
		}
	}
	for code := range cancels.n {
		if code != "" && code != "INVALID_STATE" { // paid meanwhile
			t.Fatalf("cancellations: %v", cancels.n)
		}
	}
	if charges.n[""] == 0 || pays.n[""] == 0 {
		t.Fatalf("nothing raced: charges %v payments %v", charges.n, pays.n)
	}
	t.Logf("charges %v, payments %v, cancellations %v", charges.n, pays.n, cancels.n)
	assertCreditBooks(t, srv, tm.org)
}

func TestRecordCreditPayment_ConcurrentPaymentsNeverGoBelowZero(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "1000")
	creditOK(t, tm.charge(t, customerID, "o-1", "60"))
	creditFixtureUsage(t, srv, acc.ID, "o-old", "40", "0", -20)
	var (
		wg  sync.WaitGroup
		out outcomes
	)
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out.add(tm.pay(t, customerID, fmt.Sprintf("p-%d", i), "10"))
		}()
	}
	close(start)
	wg.Wait()
	// 100 outstanding takes exactly 10 payments of 10; the others are more than what is left.
	if out.n[""] != 10 || out.n["INVALID"] != 10 {
		t.Fatalf("outcomes = %v", out.n)
	}
	if got := creditSQL(t, srv, `SELECT credit_used::text || ' ' || (SELECT count(*) FROM credit_usage WHERE credit_account_id = ? AND status = 'paid')
		FROM credit_accounts WHERE credit_account_id = ?`, acc.ID, acc.ID); got != "0.00 2" {
		t.Fatalf("credit_used and paid usages = %s", got)
	}
	assertCreditBooks(t, srv, tm.org)
}
