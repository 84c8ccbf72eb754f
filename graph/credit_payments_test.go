package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// §5 payments: at most what is outstanding, allocated to the open charges oldest due date
// first; retry-safe by paymentReference.

// usageState reads one usage's amount paid and stored status as the owner.
func usageState(t *testing.T, srv *apitest.Server, id uuid.UUID) string {
	t.Helper()
	return creditSQL(t, srv, `SELECT amount_paid::text || ' ' || status FROM credit_usage WHERE usage_id = ?`, id)
}

func TestRecordCreditPayment_AllocatesOldestDueFirstWithPartialAmounts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "1000")
	// Created newest-due first, so creation order is not what decides.
	late := creditFixtureUsage(t, srv, acc.ID, "due-in-10", "80", "0", 10)
	oldest := creditFixtureUsage(t, srv, acc.ID, "due-10-ago", "100", "0", -10)
	middle := creditFixtureUsage(t, srv, acc.ID, "due-5-ago", "50", "0", -5)
	tie := creditFixtureUsage(t, srv, acc.ID, "due-in-10-too", "40", "0", 10) // same due date as late, charged after it

	p := creditOK(t, tm.pay(t, customerID, "pay-1", "120.50"))
	if p.CreditAccount.CreditUsed != "149.50" || p.Payment.Amount != "120.50" || p.Payment.PaymentReference != "pay-1" {
		t.Fatalf("payment = %+v %+v", p.Payment, p.CreditAccount)
	}
	for id, want := range map[uuid.UUID]string{oldest: "100.00 paid", middle: "20.50 pending", late: "0.00 pending", tie: "0.00 pending"} {
		if got := usageState(t, srv, id); got != want {
			t.Fatalf("usage %s: %s, want %s", id, got, want)
		}
	}
	creditOK(t, tm.pay(t, customerID, "pay-2", "49.50")) // the rest of middle, 20 of late
	for id, want := range map[uuid.UUID]string{middle: "50.00 paid", late: "20.00 pending", tie: "0.00 pending"} {
		if got := usageState(t, srv, id); got != want {
			t.Fatalf("usage %s: %s, want %s", id, got, want)
		}
	}
	// 0.01 more than outstanding is refused, naming the amount; exactly outstanding pays all.
	e := wantCreditError(t, tm.pay(t, customerID, "pay-3", "100.01"), "INVALID", "input", "amount")
	if !strings.Contains(e.Message, "100.00") {
		t.Fatalf("message does not say what is outstanding: %q", e.Message)
	}
	p = creditOK(t, tm.pay(t, customerID, "pay-3", "100"))
	if p.CreditAccount.CreditUsed != "0.00" || p.CreditAccount.Outstanding != "0.00" || p.CreditAccount.CreditAvailable != "1000.00" {
		t.Fatalf("account = %+v", p.CreditAccount)
	}
	if n := creditSQL(t, srv, `SELECT count(*)::text FROM credit_usage WHERE credit_account_id = ? AND status <> 'paid'`, acc.ID); n != "0" {
		t.Fatalf("%s usages not paid", n)
	}
	wantCreditError(t, tm.pay(t, customerID, "pay-4", "0.01"), "INVALID", "input", "amount")

	rows := creditAuditRows(t, srv, tm.org, "credit.payment")
	if len(rows) != 3 || rows[0].Details["amount"] != "120.50" || rows[0].Details["payment_reference"] != "pay-1" ||
		len(rows[0].Details["allocations"].([]any)) != 2 || rows[0].ActorID != tm.agent.User {
		t.Fatalf("audit = %+v", rows)
	}
	assertCreditBooks(t, srv, tm.org)
}

func TestRecordCreditPayment_ValidatesAmountReferenceAndDate(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "1000")
	creditOK(t, tm.charge(t, customerID, "o-1", "500"))
	for _, tc := range []struct{ ref, amount, field string }{
		{"p", "0", "amount"},
		{"p", "-1", "amount"},
		{"p", "10.001", "amount"},
		{"", "10", "paymentReference"},
		{strings.Repeat("r", 101), "10", "paymentReference"},
	} {
		wantCreditError(t, tm.pay(t, customerID, tc.ref, tc.amount), "INVALID", "input", tc.field)
	}
	tomorrow := creditSQL(t, srv, `SELECT (`+creditToday+` + 1)::text`)
	wantCreditError(t, tm.pay(t, customerID, "p", "10", tomorrow), "INVALID", "input", "paymentDate")

	today := creditSQL(t, srv, `SELECT `+creditToday+`::text`)
	if p := creditOK(t, tm.pay(t, customerID, "p-today", "10")); p.Payment.PaymentDate != today {
		t.Fatalf("default date %s, want %s", p.Payment.PaymentDate, today)
	}
	mustExec(t, srv, `UPDATE credit_accounts SET created_at = '2026-01-01T12:00:00Z' WHERE customer_id = ?`, customerID)
	if p := creditOK(t, tm.pay(t, customerID, "p-past", "10", "2026-01-15")); p.Payment.PaymentDate != "2026-01-15" {
		t.Fatalf("date %s", p.Payment.PaymentDate)
	}
	wantCreditError(t, tm.pay(t, uuid.New(), "p", "10"), "NOT_FOUND", "input", "customerId")
	wantCreditError(t, tm.pay(t, newCreditCustomer(t, srv, tm.org, "b2b", "active"), "p", "10"), "NOT_FOUND", "input", "customerId")
	assertCreditBooks(t, srv, tm.org)
}

func TestRecordCreditPayment_OnSuspendedAccountsNotOnPendingOrCancelled(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	creditOK(t, tm.charge(t, customerID, "o-1", "60"))
	creditOK(t, creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}))
	mustExec(t, srv, `UPDATE customers SET status = 'blocked' WHERE customer_id = ?`, customerID)
	if p := creditOK(t, tm.pay(t, customerID, "p-1", "60")); p.CreditAccount.CreditUsed != "0.00" || p.CreditAccount.Status != "SUSPENDED" {
		t.Fatalf("payment on a suspended account = %+v", p.CreditAccount)
	}
	pending, _ := tm.open(t, "100", 30)
	if e := wantCreditError(t, tm.pay(t, pending, "p-1", "1"), "INVALID_STATE"); !strings.Contains(e.Message, "PENDING") {
		t.Fatalf("message = %q", e.Message)
	}
	creditOK(t, creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
	if e := wantCreditError(t, tm.pay(t, customerID, "p-2", "1"), "INVALID_STATE"); !strings.Contains(e.Message, "CANCELLED") {
		t.Fatalf("message = %q", e.Message)
	}
	assertCreditBooks(t, srv, tm.org)
}

// §8: a payment is unique by paymentReference per account.
func TestRecordCreditPayment_IsIdempotentByReference(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "1000")
	creditOK(t, tm.charge(t, customerID, "o-1", "300"))
	mustExec(t, srv, `UPDATE credit_accounts SET created_at = '2026-01-01T12:00:00Z' WHERE customer_id = ?`, customerID) // payable since
	first := creditOK(t, tm.pay(t, customerID, "ref-1", "100", "2026-01-10")).Payment

	for _, date := range [][]string{{"2026-01-10"}, nil} { // same date, or none given
		p := creditOK(t, tm.pay(t, customerID, "ref-1", "100.00", date...))
		if p.Payment.ID != first.ID || p.CreditAccount.CreditUsed != "200.00" {
			t.Fatalf("replay = %+v %+v", p.Payment, p.CreditAccount)
		}
	}
	wantCreditError(t, tm.pay(t, customerID, "ref-1", "101"), "IDEMPOTENCY_CONFLICT", "input", "paymentReference")
	wantCreditError(t, tm.pay(t, customerID, "ref-1", "100", "2026-01-11"), "IDEMPOTENCY_CONFLICT", "input", "paymentReference")
	// Paid off, a replay still returns the original rather than "more than outstanding".
	creditOK(t, tm.pay(t, customerID, "ref-2", "200"))
	if p := creditOK(t, tm.pay(t, customerID, "ref-1", "100")); p.Payment.ID != first.ID {
		t.Fatalf("replay after paying off = %+v", p.Payment)
	}
	if got := creditSQL(t, srv, `SELECT credit_used::text || ' ' || (SELECT count(*) FROM credit_payments WHERE credit_account_id = ?)
		FROM credit_accounts WHERE credit_account_id = ?`, acc.ID, acc.ID); got != "0.00 2" {
		t.Fatalf("credit_used and payments = %s", got)
	}
	if n := len(creditAuditRows(t, srv, tm.org, "credit.payment")); n != 2 {
		t.Fatalf("%d payment audit rows: replays must not write any", n)
	}
	assertCreditBooks(t, srv, tm.org)
}

// A payment date is from the day the account was opened (its created_at, as a UTC date) to
// today, both included: the day before opening and tomorrow are INVALID on paymentDate.
func TestRecordCreditPayment_DateBetweenTheAccountsOpeningAndToday(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "1000")
	creditOK(t, tm.charge(t, customerID, "o-1", "500"))
	// Opened ten days ago, late in the (UTC) day: the date, not the hour, is the bound.
	mustExec(t, srv, `UPDATE credit_accounts SET created_at = (`+creditToday+` - 10) + time '23:59:59' AT TIME ZONE 'UTC'
		WHERE credit_account_id = ?`, acc.ID)
	day := func(days int) string {
		return creditSQL(t, srv, fmt.Sprintf(`SELECT (%s + %d)::text`, creditToday, days))
	}
	opened := day(-10)
	for _, tc := range []struct {
		date string
		ok   bool
	}{
		{day(-11), false},
		{opened, true},
		{day(-1), true},
		{day(0), true},
		{day(1), false},
		{"1900-01-01", false},
	} {
		p := tm.pay(t, customerID, "p-"+tc.date, "1.00", tc.date)
		if !tc.ok {
			e := wantCreditError(t, p, "INVALID", "input", "paymentDate")
			if tc.date < opened && !strings.Contains(e.Message, opened) {
				t.Fatalf("%s: the message does not name the opening day: %q", tc.date, e.Message)
			}
			continue
		}
		if creditOK(t, p).Payment.PaymentDate != tc.date {
			t.Fatalf("%s: payment = %+v", tc.date, p.Payment)
		}
	}
	if got := tm.account(t, customerID); got.CreditUsed != "497.00" {
		t.Fatalf("credit used %s after three payments of 1.00", got.CreditUsed)
	}
	assertCreditBooks(t, srv, tm.org)
}
