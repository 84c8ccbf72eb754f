package graph_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// §5 charges: approved account, active customer, amount > 0 with two decimals at most and
// within the credit available; retry-safe by orderId.

func TestChargeCredit_UpToExactlyTheAvailableAmount(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")

	p := creditOK(t, tm.charge(t, customerID, "o-1", "60.25"))
	if p.CreditAccount.CreditUsed != "60.25" || p.CreditAccount.CreditAvailable != "39.75" || p.Usage.Amount != "60.25" ||
		p.Usage.Status != "PENDING" || p.Usage.AmountPaid != "0.00" || p.Usage.Outstanding != "60.25" || p.Usage.OrderID != "o-1" {
		t.Fatalf("charge = %+v %+v", p.CreditAccount, p.Usage)
	}
	e := wantCreditError(t, tm.charge(t, customerID, "o-2", "39.76"), "CREDIT_LIMIT_EXCEEDED", "input", "amount")
	if !strings.Contains(e.Message, "39.75") {
		t.Fatalf("message does not give the available amount: %q", e.Message)
	}
	p = creditOK(t, tm.charge(t, customerID, "o-2", "39.75")) // exactly what is available
	if p.CreditAccount.CreditUsed != "100.00" || p.CreditAccount.CreditAvailable != "0.00" {
		t.Fatalf("account = %+v", p.CreditAccount)
	}
	e = wantCreditError(t, tm.charge(t, customerID, "o-3", "0.01"), "CREDIT_LIMIT_EXCEEDED", "input", "amount")
	if !strings.Contains(e.Message, "0.00") {
		t.Fatalf("message does not give the available amount: %q", e.Message)
	}
	if got := creditSQL(t, srv, `SELECT credit_used::text FROM credit_accounts WHERE credit_account_id = ?`, acc.ID); got != "100.00" {
		t.Fatalf("credit_used = %s", got)
	}
	if n := creditSQL(t, srv, `SELECT count(*)::text FROM credit_usage WHERE credit_account_id = ?`, acc.ID); n != "2" {
		t.Fatalf("%s usages, want 2 (refused charges leave none)", n)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.charge")
	if len(rows) != 2 || rows[1].Details["order_id"] != "o-2" || rows[1].Details["amount"] != "39.75" ||
		rows[1].ActorID != tm.agent.User || rows[1].EntityID.String() != acc.ID {
		t.Fatalf("audit = %+v", rows)
	}
	assertCreditBooks(t, srv, tm.org)
}

func TestChargeCredit_RejectsInvalidAmountsAndOrderIDs(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "100")
	for _, tc := range []struct{ orderID, amount, field string }{
		{"o", "0", "amount"},
		{"o", "0.00", "amount"},
		{"o", "-1", "amount"},
		{"o", "10.001", "amount"},
		{"o", "10000000000", "amount"},
		{"", "10", "orderId"},
		{"   ", "10", "orderId"},
		{strings.Repeat("x", 101), "10", "orderId"},
	} {
		wantCreditError(t, tm.charge(t, customerID, tc.orderID, tc.amount), "INVALID", "input", tc.field)
	}
	// A JSON number is refused by the Decimal scalar itself: it may have passed through a float.
	res := creditCall(t, tm.agent, "chargeCredit", "input: $input", map[string]any{
		"input": map[string]any{"customerId": customerID, "orderId": "o", "amount": 10.5},
	})
	if res.ErrorCode(t) != "BAD_USER_INPUT" {
		t.Fatalf("got %s", res.Body)
	}
	creditOK(t, tm.charge(t, customerID, strings.Repeat("x", 100), "0.01"))
	creditOK(t, tm.charge(t, customerID, "o-10.10", "10.100")) // two decimals by value
	assertCreditBooks(t, srv, tm.org)
}

func TestChargeCredit_IsDueTodayPlusTheTerm(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.open(t, "100", 45)
	creditOK(t, creditMutation(t, tm.approver, "approveCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
	u := creditOK(t, tm.charge(t, customerID, "o-1", "10")).Usage
	if want := creditSQL(t, srv, `SELECT (`+creditToday+` + 45)::text`); u.DueDate != want {
		t.Fatalf("due %s, want %s", u.DueDate, want)
	}
}

func TestChargeCredit_OnlyAnApprovedAccountOfAnActiveCustomer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	mustState := func(p creditPayload, code, status string) {
		t.Helper()
		if e := wantCreditError(t, p, code, "input", "customerId"); !strings.Contains(e.Message, status) {
			t.Fatalf("message %q does not name %s", e.Message, status)
		}
	}

	pendingCustomer, _ := tm.open(t, "100", 30)
	mustState(tm.charge(t, pendingCustomer, "o", "1"), "INVALID_STATE", "PENDING")

	suspendedCustomer, suspended := tm.approved(t, "100")
	creditOK(t, creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": suspended.ID, "reason": "x"}))
	mustState(tm.charge(t, suspendedCustomer, "o", "1"), "INVALID_STATE", "SUSPENDED")
	creditOK(t, creditMutation(t, tm.manager, "reinstateCreditAccount", "id: $id", map[string]any{"id": suspended.ID}))
	creditOK(t, tm.charge(t, suspendedCustomer, "o", "1"))

	cancelledCustomer, cancelled := tm.approved(t, "100")
	creditOK(t, creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": cancelled.ID}))
	mustState(tm.charge(t, cancelledCustomer, "o", "1"), "INVALID_STATE", "CANCELLED")

	blocked, _ := tm.approved(t, "100")
	mustExec(t, srv, `UPDATE customers SET status = 'blocked' WHERE customer_id = ?`, blocked)
	mustState(tm.charge(t, blocked, "o", "1"), "CUSTOMER_BLOCKED", "BLOCKED")

	inactive, _ := tm.approved(t, "100")
	mustExec(t, srv, `UPDATE customers SET status = 'inactive' WHERE customer_id = ?`, inactive)
	mustState(tm.charge(t, inactive, "o", "1"), "INVALID_STATE", "INACTIVE")

	noAccount := newCreditCustomer(t, srv, tm.org, "b2b", "active")
	wantCreditError(t, tm.charge(t, noAccount, "o", "1"), "NOT_FOUND", "input", "customerId")
	wantCreditError(t, tm.charge(t, uuid.New(), "o", "1"), "NOT_FOUND", "input", "customerId")

	if n := len(creditAuditRows(t, srv, tm.org, "credit.charge")); n != 1 {
		t.Fatalf("%d charge audit rows, want 1", n)
	}
	assertCreditBooks(t, srv, tm.org)
}

// §8: a charge is unique by orderId per account; a replay returns the original and changes
// nothing, the same orderId with another amount is IDEMPOTENCY_CONFLICT.
func TestChargeCredit_IsIdempotentByOrderID(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	first := creditOK(t, tm.charge(t, customerID, "order-7", "80")).Usage

	replay := creditOK(t, tm.charge(t, customerID, "order-7", "80.00"))
	if replay.Usage.ID != first.ID || replay.CreditAccount.CreditUsed != "80.00" {
		t.Fatalf("replay = %+v %+v", replay.Usage, replay.CreditAccount)
	}
	e := wantCreditError(t, tm.charge(t, customerID, "order-7", "81"), "IDEMPOTENCY_CONFLICT", "input", "orderId")
	if !strings.Contains(e.Message, "80.00") {
		t.Fatalf("message = %q", e.Message)
	}
	// A replay is still the original once the account is full or suspended: it was accepted.
	creditOK(t, tm.charge(t, customerID, "order-8", "20"))
	if again := creditOK(t, tm.charge(t, customerID, "order-7", "80")); again.Usage.ID != first.ID {
		t.Fatalf("replay on a full account = %+v", again.Usage)
	}
	creditOK(t, creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}))
	if again := creditOK(t, tm.charge(t, customerID, "order-7", "80")); again.Usage.ID != first.ID {
		t.Fatalf("replay on a suspended account = %+v", again.Usage)
	}
	wantCreditError(t, tm.charge(t, customerID, "order-7", "1"), "IDEMPOTENCY_CONFLICT")

	if got := creditSQL(t, srv, `SELECT credit_used::text FROM credit_accounts WHERE credit_account_id = ?`, acc.ID); got != "100.00" {
		t.Fatalf("credit_used = %s", got)
	}
	if n := creditSQL(t, srv, `SELECT count(*)::text FROM credit_usage WHERE credit_account_id = ?`, acc.ID); n != "2" {
		t.Fatalf("%s usages", n)
	}
	if n := len(creditAuditRows(t, srv, tm.org, "credit.charge")); n != 2 {
		t.Fatalf("%d charge audit rows: replays must not write any", n)
	}
	// The key is per account: another customer's account may use the same orderId.
	other, _ := tm.approved(t, "100")
	if u := creditOK(t, tm.charge(t, other, "order-7", "5")).Usage; u.ID == first.ID {
		t.Fatal("another account's charge replayed this one")
	}
	assertCreditBooks(t, srv, tm.org)
}

// §5: cancelling a charge releases what is unpaid of it; a paid charge cannot be cancelled;
// cancelling a cancelled charge is a replay (§13): the original result, no second release,
// no audit row.
func TestCancelCreditUsage_ReleasesWhatIsUnpaid(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "500")
	u1 := creditOK(t, tm.charge(t, customerID, "o-1", "100")).Usage
	u2 := creditOK(t, tm.charge(t, customerID, "o-2", "50")).Usage
	creditOK(t, tm.pay(t, customerID, "p-1", "30")) // oldest first: 30 of o-1 (same due date, o-1 charged first)

	p := creditOK(t, creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": u1.ID}))
	if p.Usage.Status != "CANCELLED" || p.Usage.AmountPaid != "30.00" || p.Usage.Outstanding != "0.00" ||
		p.CreditAccount.CreditUsed != "50.00" || p.CreditAccount.CreditAvailable != "450.00" {
		t.Fatalf("cancel = %+v %+v", p.Usage, p.CreditAccount)
	}
	// §13: a replay answers the original result (the account as it is now) and changes nothing.
	if r := creditOK(t, creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": u1.ID})); *r.Usage != *p.Usage ||
		r.CreditAccount.CreditUsed != "50.00" || r.CreditAccount.CreditAvailable != "450.00" {
		t.Fatalf("replayed cancel = %+v %+v, want %+v", r.Usage, r.CreditAccount, p.Usage)
	}
	creditOK(t, tm.pay(t, customerID, "p-2", "50"))
	if e := wantCreditError(t, creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": u2.ID}), "INVALID_STATE", "id"); !strings.Contains(e.Message, "PAID") {
		t.Fatalf("message = %q", e.Message)
	}
	// An overdue charge (past due, not yet marked by the job) can be cancelled.
	overdue := creditFixtureUsage(t, srv, acc.ID, "o-3", "70", "0", -3)
	p = creditOK(t, creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": overdue}))
	if p.CreditAccount.CreditUsed != "0.00" || p.Usage.Status != "CANCELLED" {
		t.Fatalf("cancel overdue = %+v %+v", p.Usage, p.CreditAccount)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.cancel_usage")
	if len(rows) != 2 || rows[0].Details["released"] != "70.00" || rows[0].Details["usage_id"] != u1.ID || rows[1].Details["released"] != "70.00" {
		t.Fatalf("audit = %+v", rows)
	}
	assertCreditBooks(t, srv, tm.org)
}
