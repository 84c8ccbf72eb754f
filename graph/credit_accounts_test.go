package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §5 lifecycle: open (b2b only) → approve → suspend ⇄ reinstate → cancel; every invalid
// transition is INVALID_STATE naming the current status.

func TestOpenCreditAccount_OpensAPendingAccountForAB2BCustomer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID := newCreditCustomer(t, srv, tm.org, "b2b", "active")
	p := creditOK(t, creditMutation(t, tm.manager, "openCreditAccount", "input: $input", map[string]any{
		"input": map[string]any{"customerId": customerID, "creditLimit": "2500.5"},
	}))
	a := p.CreditAccount
	if a.Status != "PENDING" || a.CreditLimit != "2500.50" || a.CreditUsed != "0.00" || a.CreditAvailable != "2500.50" ||
		a.PaymentTermDays != 30 || a.Outstanding != "0.00" || a.OverdueAmount != "0.00" || a.ApprovedAt != nil || a.ApprovedBy != nil {
		t.Fatalf("account = %+v", a)
	}
	if got := tm.account(t, customerID); got.ID != a.ID {
		t.Fatalf("customer.creditAccount = %+v", got)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.open")
	if len(rows) != 1 || rows[0].EntityID.String() != a.ID || rows[0].ActorID != tm.manager.User ||
		rows[0].Details["credit_limit"] != "2500.50" {
		t.Fatalf("audit = %+v", rows)
	}
}

func TestOpenCreditAccount_ValidatesLimitTermAndCustomer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	b2c := newCreditCustomer(t, srv, tm.org, "b2c", "active")
	otherOrg := newCreditCustomer(t, srv, uuid.New(), "b2b", "active")
	cases := []struct {
		name     string
		customer uuid.UUID
		limit    string
		term     any
		code     string
		field    string
	}{
		{"negative limit", uuid.Nil, "-0.01", 30, "INVALID", "input.creditLimit"},
		{"three decimals", uuid.Nil, "10.001", 30, "INVALID", "input.creditLimit"},
		{"limit too large", uuid.Nil, "10000000000", 30, "INVALID", "input.creditLimit"},
		{"term 0", uuid.Nil, "100", 0, "INVALID", "input.paymentTermDays"},
		{"term 366", uuid.Nil, "100", 366, "INVALID", "input.paymentTermDays"},
		{"b2c customer", b2c, "100", 30, "INVALID", "input.customerId"},
		{"unknown customer", uuid.New(), "100", 30, "NOT_FOUND", "input.customerId"},
		{"another organization's customer", otherOrg, "100", 30, "NOT_FOUND", "input.customerId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			customer := tc.customer
			if customer == uuid.Nil {
				customer = newCreditCustomer(t, srv, tm.org, "b2b", "active")
			}
			p := creditMutation(t, tm.manager, "openCreditAccount", "input: $input", map[string]any{
				"input": map[string]any{"customerId": customer, "creditLimit": tc.limit, "paymentTermDays": tc.term},
			})
			wantCreditError(t, p, tc.code, strings.Split(tc.field, ".")...)
		})
	}
	// The boundaries that pass: a zero limit, two decimals, terms 1 and 365.
	for _, ok := range []struct {
		limit string
		term  int
	}{{"0", 1}, {"9999999999.99", 365}} {
		_, a := tm.open(t, ok.limit, ok.term)
		if a.PaymentTermDays != ok.term || a.Status != "PENDING" {
			t.Fatalf("open %+v = %+v", ok, a)
		}
	}
	if n := len(creditAuditRows(t, srv, tm.org, "credit.open")); n != 2 {
		t.Fatalf("%d audit rows for 2 accounts opened", n)
	}
}

func TestOpenCreditAccount_OneAccountPerCustomer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.open(t, "100", 30)
	again := func() creditPayload {
		return creditMutation(t, tm.manager, "openCreditAccount", "input: $input", map[string]any{
			"input": map[string]any{"customerId": customerID, "creditLimit": "500"},
		})
	}
	e := wantCreditError(t, again(), "INVALID_STATE", "input", "customerId")
	if !strings.Contains(e.Message, "PENDING") {
		t.Fatalf("message does not name the existing status: %q", e.Message)
	}
	creditOK(t, creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
	if e := wantCreditError(t, again(), "INVALID_STATE"); !strings.Contains(e.Message, "CANCELLED") {
		t.Fatalf("message does not name the existing status: %q", e.Message)
	}
}

func TestCreditAccount_EveryTransitionValidAndInvalid(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	_, acc := tm.open(t, "1000", 30)
	id := map[string]any{"id": acc.ID}
	approve := func() creditPayload {
		return creditMutation(t, tm.approver, "approveCreditAccount", "id: $id, notes: $notes",
			map[string]any{"id": acc.ID, "notes": "good payer"})
	}
	suspend := func(reason string) creditPayload {
		return creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason",
			map[string]any{"id": acc.ID, "reason": reason})
	}
	reinstate := func() creditPayload { return creditMutation(t, tm.manager, "reinstateCreditAccount", "id: $id", id) }
	cancel := func() creditPayload {
		return creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id, reason: $reason",
			map[string]any{"id": acc.ID, "reason": "closed the business"})
	}
	limit := func() creditPayload {
		return creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
			map[string]any{"id": acc.ID, "creditLimit": "900"})
	}
	invalid := func(p creditPayload, status string) {
		t.Helper()
		if e := wantCreditError(t, p, "INVALID_STATE"); !strings.Contains(e.Message, status) {
			t.Fatalf("message %q does not name the current status %s", e.Message, status)
		}
	}

	// pending: only approve and cancel move it.
	invalid(suspend("late"), "PENDING")
	invalid(reinstate(), "PENDING")

	a := creditOK(t, approve()).CreditAccount
	if a.Status != "APPROVED" || a.ApprovedBy == nil || *a.ApprovedBy != tm.approver.User.String() || a.ApprovedAt == nil ||
		a.ApprovalNotes == nil || *a.ApprovalNotes != "good payer" {
		t.Fatalf("approved = %+v", a)
	}
	invalid(approve(), "APPROVED")
	invalid(reinstate(), "APPROVED")
	wantCreditError(t, suspend("   "), "INVALID", "reason")

	a = creditOK(t, suspend("late payments")).CreditAccount
	if a.Status != "SUSPENDED" || a.SuspendedAt == nil || a.SuspensionReason == nil || *a.SuspensionReason != "late payments" {
		t.Fatalf("suspended = %+v", a)
	}
	invalid(suspend("again"), "SUSPENDED")
	invalid(approve(), "SUSPENDED")

	a = creditOK(t, reinstate()).CreditAccount
	if a.Status != "APPROVED" || a.SuspensionReason == nil || a.ApprovedBy == nil {
		t.Fatalf("reinstated = %+v", a)
	}
	creditOK(t, suspend("once more"))

	a = creditOK(t, cancel()).CreditAccount
	if a.Status != "CANCELLED" || a.CancelledAt == nil || a.CancellationReason == nil || *a.CancellationReason != "closed the business" {
		t.Fatalf("cancelled = %+v", a)
	}
	invalid(approve(), "CANCELLED")
	invalid(suspend("x"), "CANCELLED")
	invalid(reinstate(), "CANCELLED")
	invalid(cancel(), "CANCELLED")
	invalid(limit(), "CANCELLED")

	// One audit row per successful change, each with its from and to.
	for action, want := range map[string][][2]string{
		"credit.approve":   {{"pending", "approved"}},
		"credit.suspend":   {{"approved", "suspended"}, {"approved", "suspended"}},
		"credit.reinstate": {{"suspended", "approved"}},
		"credit.cancel":    {{"suspended", "cancelled"}},
	} {
		rows := creditAuditRows(t, srv, tm.org, action)
		if len(rows) != len(want) {
			t.Fatalf("%s: %d audit rows, want %d", action, len(rows), len(want))
		}
		actor := tm.manager.User
		if action == "credit.approve" {
			actor = tm.approver.User // §14: not the manager who opened it
		}
		for i, r := range rows {
			if r.Details["from"] != want[i][0] || r.Details["to"] != want[i][1] || r.EntityID.String() != acc.ID ||
				r.EntityType != "credit_account" || r.ActorID != actor {
				t.Fatalf("%s audit = %+v", action, r)
			}
		}
	}
}

func TestCancelCreditAccount_FromPendingAndOnlyWithNothingOutstanding(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)

	_, pending := tm.open(t, "100", 30)
	a := creditOK(t, creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": pending.ID})).CreditAccount
	if a.Status != "CANCELLED" || a.CancellationReason != nil {
		t.Fatalf("cancelled = %+v", a)
	}

	customerID, acc := tm.approved(t, "100")
	creditOK(t, tm.charge(t, customerID, "o-1", "40"))
	p := creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": acc.ID})
	if e := wantCreditError(t, p, "INVALID_STATE"); !strings.Contains(e.Message, "40.00") {
		t.Fatalf("message does not say what is outstanding: %q", e.Message)
	}
	// Paid off, it can be cancelled.
	creditOK(t, tm.pay(t, customerID, "pay-1", "40"))
	creditOK(t, creditMutation(t, tm.manager, "cancelCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
}

func TestUpdateCreditLimit_NotBelowWhatIsUsedAndAuditsOldAndNew(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "1000")
	tm.setPolicy(t, map[string]any{"requireSecondApprover": false}) // increases apply at once (§14 four-eyes: credit_risk_test.go)
	creditOK(t, tm.charge(t, customerID, "o-1", "250.50"))
	update := func(limit string) creditPayload {
		return creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
			map[string]any{"id": acc.ID, "creditLimit": limit})
	}
	e := wantCreditError(t, update("250.49"), "INVALID", "creditLimit")
	if !strings.Contains(e.Message, "250.50") {
		t.Fatalf("message does not name the credit used: %q", e.Message)
	}
	wantCreditError(t, update("-1"), "INVALID", "creditLimit")
	wantCreditError(t, update("300.001"), "INVALID", "creditLimit")

	a := creditOK(t, update("250.50")).CreditAccount // exactly what is used
	if a.CreditLimit != "250.50" || a.CreditAvailable != "0.00" {
		t.Fatalf("account = %+v", a)
	}
	a = creditOK(t, update("5000")).CreditAccount
	if a.CreditLimit != "5000.00" || a.CreditAvailable != "4749.50" {
		t.Fatalf("account = %+v", a)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.update_limit")
	if len(rows) != 2 || rows[0].Details["old_credit_limit"] != "1000.00" || rows[0].Details["new_credit_limit"] != "250.50" ||
		rows[1].Details["old_credit_limit"] != "250.50" || rows[1].Details["new_credit_limit"] != "5000.00" ||
		len(rows[1].ChangedFields) != 1 || rows[1].ChangedFields[0] != "credit_limit" {
		t.Fatalf("audit = %+v", rows)
	}
	// A suspended account's limit can change; a pending one's too.
	creditOK(t, creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}))
	creditOK(t, update("6000"))
	_, pending := tm.open(t, "10", 30)
	creditOK(t, creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
		map[string]any{"id": pending.ID, "creditLimit": "20"}))
}

// §8, as TestUpdateCustomer_WithoutChangeWritesNothingButTheAudit: the limit the account
// already has is audited with no changed fields and writes nothing else.
func TestUpdateCreditLimit_ToTheSameLimitWritesNothingButTheAudit(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "5000")
	creditOK(t, tm.charge(t, customerID, "o-1", "250.50"))
	updatedAt := creditSQL(t, srv, "SELECT updated_at::text FROM credit_accounts WHERE credit_account_id = ?", acc.ID)
	a := creditOK(t, creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
		map[string]any{"id": acc.ID, "creditLimit": "5000.00"})).CreditAccount
	if a.CreditLimit != "5000.00" || a.CreditAvailable != "4749.50" || a.Status != "APPROVED" {
		t.Fatalf("account = %+v", a)
	}
	if got := creditSQL(t, srv, "SELECT updated_at::text FROM credit_accounts WHERE credit_account_id = ?", acc.ID); got != updatedAt {
		t.Fatalf("updated_at moved from %s to %s without a change", updatedAt, got)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.update_limit")
	if len(rows) != 1 || len(rows[0].ChangedFields) != 0 || rows[0].Details["old_credit_limit"] != "5000.00" ||
		rows[0].Details["new_credit_limit"] != "5000.00" || rows[0].Details["from"] != "approved" || rows[0].Details["to"] != "approved" ||
		rows[0].ActorID != tm.manager.User || rows[0].EntityID.String() != acc.ID {
		t.Fatalf("audit = %+v", rows)
	}
}

// §7: managers manage accounts; agents charge, pay and cancel charges; viewers only read.
func TestCreditMutations_RequireTheirRole(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	usage := creditOK(t, tm.charge(t, customerID, "o-1", "10")).Usage
	viewer := srv.As(t, tm.org, auth.Viewer)
	id := map[string]any{"id": acc.ID}
	forbidden := []struct {
		who   *apitest.Client
		field string
		args  string
		vars  map[string]any
	}{
		{tm.agent, "openCreditAccount", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "creditLimit": "1"}}},
		{tm.agent, "approveCreditAccount", "id: $id", id},
		{tm.agent, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}},
		{tm.agent, "reinstateCreditAccount", "id: $id", id},
		{tm.agent, "cancelCreditAccount", "id: $id", id},
		{tm.agent, "updateCreditLimit", "id: $id, creditLimit: $creditLimit", map[string]any{"id": acc.ID, "creditLimit": "1000"}},
		{viewer, "chargeCredit", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "orderId": "o-2", "amount": "1"}}},
		{viewer, "recordCreditPayment", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "paymentReference": "p", "amount": "1"}}},
		{viewer, "cancelCreditUsage", "id: $id", map[string]any{"id": usage.ID}},
	}
	for _, f := range forbidden {
		res := creditCall(t, f.who, f.field, f.args, f.vars)
		if res.ErrorCode(t) != "FORBIDDEN" {
			t.Errorf("%s: got %s", f.field, res.Body)
		}
	}
	a := tm.account(t, customerID)
	if a.Status != "APPROVED" || a.CreditUsed != "10.00" || a.CreditLimit != "100.00" {
		t.Fatalf("a forbidden mutation changed the account: %+v", a)
	}
	// A viewer reads the account.
	var out struct {
		Customer struct{ CreditAccount struct{ CreditUsed string } }
	}
	viewer.Must(t, `query($id: UUID!) { customer(id: $id) { creditAccount { creditUsed } } }`, map[string]any{"id": customerID}, &out)
	if out.Customer.CreditAccount.CreditUsed != "10.00" {
		t.Fatalf("viewer read %+v", out)
	}
}

// §7: another organization's accounts, customers and charges are NOT_FOUND, and stay as they were.
func TestCreditMutations_AnotherOrganizationsRecordsAreNotFound(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	usage := creditOK(t, tm.charge(t, customerID, "o-1", "10")).Usage
	other := srv.NewOrg(t, auth.Admin)
	id := map[string]any{"id": acc.ID}
	calls := []struct {
		field string
		args  string
		vars  map[string]any
	}{
		{"approveCreditAccount", "id: $id", id},
		{"suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}},
		{"reinstateCreditAccount", "id: $id", id},
		{"cancelCreditAccount", "id: $id", id},
		{"updateCreditLimit", "id: $id, creditLimit: $creditLimit", map[string]any{"id": acc.ID, "creditLimit": "1000"}},
		{"openCreditAccount", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "creditLimit": "1"}}},
		{"chargeCredit", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "orderId": "o-2", "amount": "1"}}},
		{"recordCreditPayment", "input: $input", map[string]any{"input": map[string]any{"customerId": customerID, "paymentReference": "p", "amount": "1"}}},
		{"cancelCreditUsage", "id: $id", map[string]any{"id": usage.ID}},
	}
	for _, c := range calls {
		wantCreditError(t, creditMutation(t, other, c.field, c.args, c.vars), "NOT_FOUND")
	}
	a := tm.account(t, customerID)
	if a.Status != "APPROVED" || a.CreditUsed != "10.00" || a.CreditLimit != "100.00" {
		t.Fatalf("another organization changed the account: %+v", a)
	}
	if n := creditSQL(t, srv, `SELECT count(*)::text FROM audit_log WHERE organization_id = ?`, other.Org); n != "0" {
		t.Fatalf("%s audit rows for failed mutations", n)
	}
	// Unknown ids are NOT_FOUND too.
	wantCreditError(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", map[string]any{"id": uuid.New()}), "NOT_FOUND", "id")
	wantCreditError(t, creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": uuid.New()}), "NOT_FOUND", "id")
}

// Approval notes are at most 2,000 characters, suspension and cancellation reasons at most
// 500 — counted in characters, not bytes: one over is INVALID on the argument and changes
// nothing; the limit itself is stored as given.
func TestCreditTransitions_LimitNotesAndReasonsInCharacters(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	cases := []struct {
		mutation, arg string
		max           int
		from, to      string
	}{
		{"approveCreditAccount", "notes", 2000, "PENDING", "APPROVED"},
		{"suspendCreditAccount", "reason", 500, "APPROVED", "SUSPENDED"},
		{"cancelCreditAccount", "reason", 500, "APPROVED", "CANCELLED"},
	}
	for _, tc := range cases {
		for _, char := range []string{"n", "ñ"} { // one byte, two bytes
			t.Run(tc.mutation+"/"+char, func(t *testing.T) {
				var customerID uuid.UUID
				var acc creditAccount
				if tc.from == "PENDING" {
					customerID, acc = tm.open(t, "100", 30)
				} else {
					customerID, acc = tm.approved(t, "100")
				}
				who := tm.manager
				if tc.mutation == "approveCreditAccount" {
					who = tm.approver
				}
				call := func(text string) creditPayload {
					return creditMutation(t, who, tc.mutation, "id: $id, "+tc.arg+": $"+tc.arg,
						map[string]any{"id": acc.ID, tc.arg: text})
				}
				e := wantCreditError(t, call(strings.Repeat(char, tc.max+1)), "INVALID", tc.arg)
				if !strings.Contains(e.Message, fmt.Sprint(tc.max)) {
					t.Fatalf("message does not name the limit: %q", e.Message)
				}
				if got := tm.account(t, customerID); got.Status != tc.from {
					t.Fatalf("a refused %s changed the account: %+v", tc.mutation, got)
				}
				text := strings.Repeat(char, tc.max)
				a := creditOK(t, call(text)).CreditAccount
				stored := map[string]*string{"approveCreditAccount": a.ApprovalNotes, "suspendCreditAccount": a.SuspensionReason,
					"cancelCreditAccount": a.CancellationReason}[tc.mutation]
				if a.Status != tc.to || stored == nil || *stored != text {
					t.Fatalf("%d characters: status %s, stored %v", tc.max, a.Status, stored != nil && *stored == text)
				}
			})
		}
	}
}
