package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §14 credit risk through the API: the policy, creditCheck and the charge's rules at their
// boundaries, four-eyes approvals, the policy warnings of the Customer 360.

type creditPolicyOut struct {
	BlockWhenOverdueDays   int
	WarnUtilizationPercent int
	RequireSecondApprover  bool
	UpdatedAt              *string
}

type creditRuleOut struct {
	Code    string
	Passed  bool
	Blocks  bool
	Message string
}

type creditCheckOut struct {
	Approved       bool
	Available      string
	AvailableAfter string
	Rules          []creditRuleOut
}

const creditPolicyFields = `blockWhenOverdueDays warnUtilizationPercent requireSecondApprover updatedAt`

// setPolicy changes the organization's credit policy as an admin; user errors fail the test.
func (tm creditTeam) setPolicy(t testing.TB, input map[string]any) creditPolicyOut {
	t.Helper()
	p := tm.updatePolicy(t, input)
	if len(p.UserErrors) > 0 {
		t.Fatalf("updateCreditPolicy: %+v", p.UserErrors)
	}
	return *p.CreditPolicy
}

type updatePolicyOut struct {
	CreditPolicy *creditPolicyOut
	UserErrors   []creditUserError
}

func (tm creditTeam) updatePolicy(t testing.TB, input map[string]any) updatePolicyOut {
	t.Helper()
	admin := tm.srv.As(t, tm.org, auth.Admin)
	var out struct{ UpdateCreditPolicy updatePolicyOut }
	admin.Must(t, `mutation($input: UpdateCreditPolicyInput!) { updateCreditPolicy(input: $input) {
		creditPolicy { `+creditPolicyFields+` } userErrors { field message code } } }`, map[string]any{"input": input}, &out)
	return out.UpdateCreditPolicy
}

// check runs creditCheck as the team's agent; GraphQL errors fail the test.
func (tm creditTeam) check(t testing.TB, customerID uuid.UUID, amount string) creditCheckOut {
	t.Helper()
	var out struct{ CreditCheck creditCheckOut }
	tm.agent.Must(t, `query($c: UUID!, $a: Decimal!) { creditCheck(customerId: $c, amount: $a) {
		approved available availableAfter rules { code passed blocks message } } }`, map[string]any{"c": customerID, "a": amount}, &out)
	return out.CreditCheck
}

// checkError runs creditCheck as c and returns the code of its one GraphQL error.
func checkError(t testing.TB, c *apitest.Client, customerID any, amount string) string {
	t.Helper()
	res := c.Do(t, `query($c: UUID!, $a: Decimal!) { creditCheck(customerId: $c, amount: $a) { approved } }`,
		map[string]any{"c": customerID, "a": amount})
	if len(res.Errors) != 1 {
		t.Fatalf("want one error, got %s", res.Body)
	}
	if string(res.Data) != "null" {
		t.Fatalf("data with an error: %s", res.Data)
	}
	return res.Errors[0].Code()
}

func TestCreditPolicy_DefaultsAndAdminChangesThem(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	var out struct{ CreditPolicy creditPolicyOut }
	srv.As(t, tm.org, auth.Viewer).Must(t, `{ creditPolicy { `+creditPolicyFields+` } }`, nil, &out)
	if p := out.CreditPolicy; p.BlockWhenOverdueDays != 30 || p.WarnUtilizationPercent != 90 || !p.RequireSecondApprover || p.UpdatedAt != nil {
		t.Fatalf("defaults = %+v", p)
	}
	// Every invalid setting at once, each on its field; nothing is stored.
	bad := tm.updatePolicy(t, map[string]any{"blockWhenOverdueDays": -1, "warnUtilizationPercent": 0})
	if bad.CreditPolicy != nil || len(bad.UserErrors) != 2 || bad.UserErrors[0].Code != "INVALID" ||
		strings.Join(bad.UserErrors[0].Field, ".") != "input.blockWhenOverdueDays" ||
		strings.Join(bad.UserErrors[1].Field, ".") != "input.warnUtilizationPercent" {
		t.Fatalf("invalid update = %+v", bad)
	}
	for _, in := range []map[string]any{{"blockWhenOverdueDays": 3651}, {"warnUtilizationPercent": 101}} {
		if e := tm.updatePolicy(t, in).UserErrors; len(e) != 1 || e[0].Code != "INVALID" {
			t.Fatalf("%v: %+v", in, e)
		}
	}
	// Setting the defaults again, or nothing, changes nothing: no row, updatedAt stays null
	// (each audited with no changed fields).
	for _, in := range []map[string]any{{"blockWhenOverdueDays": 30, "warnUtilizationPercent": 90, "requireSecondApprover": true}, {}} {
		if p := tm.setPolicy(t, in); p.BlockWhenOverdueDays != 30 || p.WarnUtilizationPercent != 90 || !p.RequireSecondApprover || p.UpdatedAt != nil {
			t.Fatalf("no-op update %v = %+v", in, p)
		}
	}
	if n := creditSQL(t, srv, "SELECT count(*)::text FROM credit_policies WHERE organization_id = ?", tm.org); n != "0" {
		t.Fatalf("refused and no-op updates stored %s policies", n)
	}
	// The bounds themselves are accepted; omitted settings keep their value.
	p := tm.setPolicy(t, map[string]any{"blockWhenOverdueDays": 0, "warnUtilizationPercent": 100})
	if p.BlockWhenOverdueDays != 0 || p.WarnUtilizationPercent != 100 || !p.RequireSecondApprover || p.UpdatedAt == nil {
		t.Fatalf("updated = %+v", p)
	}
	p = tm.setPolicy(t, map[string]any{"blockWhenOverdueDays": 3650, "warnUtilizationPercent": 1, "requireSecondApprover": false})
	if p.BlockWhenOverdueDays != 3650 || p.WarnUtilizationPercent != 1 || p.RequireSecondApprover {
		t.Fatalf("updated = %+v", p)
	}
	tm.setPolicy(t, map[string]any{"warnUtilizationPercent": 1}) // no change: audited with no changed fields
	rows := creditAuditRows(t, srv, tm.org, "credit.policy.update")
	if len(rows) != 5 || len(rows[0].ChangedFields) != 0 || len(rows[1].ChangedFields) != 0 || len(rows[2].ChangedFields) != 2 ||
		len(rows[3].ChangedFields) != 3 || len(rows[4].ChangedFields) != 0 || rows[0].EntityType != "credit_policy" || rows[0].EntityID != tm.org {
		t.Fatalf("audit = %+v", rows)
	}
	// Another organization keeps its own policy (the defaults).
	srv.NewOrg(t, auth.Viewer).Must(t, `{ creditPolicy { `+creditPolicyFields+` } }`, nil, &out)
	if p := out.CreditPolicy; p.BlockWhenOverdueDays != 30 || p.WarnUtilizationPercent != 90 || !p.RequireSecondApprover || p.UpdatedAt != nil {
		t.Fatalf("another organization's policy = %+v", p)
	}
	// Admins only.
	res := tm.manager.Do(t, `mutation { updateCreditPolicy(input: {warnUtilizationPercent: 50}) { userErrors { code } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("a manager's update: %s", res.Body)
	}
}

// One row of the boundary table of §14: a situation, the amount checked, what creditCheck
// answers (approved, the first blocking rule, the rules failed as warnings) and what
// chargeCredit then does (its user error code, "" when it charges).
type creditBoundary struct {
	name       string
	policy     map[string]any // nil: the defaults
	limit      string
	used       string // charged through the API before the check
	pastDue    *int   // days past due of an unpaid 1.00 fixture charge (0: due today); nil: none
	customer   string // the customer's status
	suspend    bool
	amount     string
	approved   bool
	blocking   string // the first rule that blocks
	warning    bool   // HIGH_UTILIZATION failed
	chargeCode string
}

var creditBoundaries = []creditBoundary{
	{name: "30 days overdue, policy 30", limit: "1000", pastDue: days(30), amount: "10.00", approved: true},
	{name: "31 days overdue, policy 30", limit: "1000", pastDue: days(31), amount: "10.00", blocking: "OVERDUE_BEYOND_POLICY", chargeCode: "OVERDUE_BEYOND_POLICY"},
	{name: "due today, policy 0", policy: map[string]any{"blockWhenOverdueDays": 0}, limit: "1000", pastDue: days(0), amount: "10.00", approved: true},
	{name: "1 day overdue, policy 0", policy: map[string]any{"blockWhenOverdueDays": 0}, limit: "1000", pastDue: days(1), amount: "10.00", blocking: "OVERDUE_BEYOND_POLICY", chargeCode: "OVERDUE_BEYOND_POLICY"},
	{name: "90 days overdue, policy 90", policy: map[string]any{"blockWhenOverdueDays": 90}, limit: "1000", pastDue: days(90), amount: "10.00", approved: true},
	{name: "amount = available", limit: "1000", used: "400.00", amount: "600.00", approved: true, warning: true},
	{name: "amount = available + 0.01", limit: "1000", used: "400.00", amount: "600.01", blocking: "OVER_LIMIT", warning: true, chargeCode: "CREDIT_LIMIT_EXCEEDED"},
	{name: "utilization 89.99 %", limit: "1000", used: "500.00", amount: "399.90", approved: true},
	{name: "utilization 89.999 %", limit: "1000", used: "500.00", amount: "399.99", approved: true},
	{name: "utilization 90.00 %", limit: "1000", used: "500.00", amount: "400.00", approved: true, warning: true},
	{name: "utilization 90.00 %, policy warns at 91", policy: map[string]any{"warnUtilizationPercent": 91}, limit: "1000", used: "500.00", amount: "400.00", approved: true},
	{name: "blocked customer", limit: "1000", customer: "blocked", amount: "10.00", blocking: "CUSTOMER_BLOCKED", chargeCode: "CUSTOMER_BLOCKED"},
	{name: "inactive customer", limit: "1000", customer: "inactive", amount: "10.00", blocking: "CUSTOMER_INACTIVE", chargeCode: "INVALID_STATE"},
	{name: "suspended account", limit: "1000", suspend: true, amount: "10.00", blocking: "ACCOUNT_NOT_APPROVED", chargeCode: "INVALID_STATE"},
	{name: "blocked, suspended, overdue and over: the first names it", limit: "100", customer: "blocked", suspend: true, pastDue: days(45),
		amount: "200.00", blocking: "CUSTOMER_BLOCKED", warning: true, chargeCode: "CUSTOMER_BLOCKED"},
}

// §14: each rule at its boundary. creditCheck answers every rule and writes nothing;
// chargeCredit then does what the check said, refusing with the first blocking rule.
// The table is logged (-v) for the closing note.
func TestCreditCheck_EachRuleAtItsBoundaryAndChargeAgrees(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	var table []string
	table = append(table, "| situation | amount | creditCheck approved | first blocking rule | HIGH_UTILIZATION | chargeCredit |",
		"|---|---|---|---|---|---|")
	for _, b := range creditBoundaries {
		tm := newCreditTeam(t, srv) // one organization per row: its own policy
		if b.policy != nil {
			tm.setPolicy(t, b.policy)
		}
		customerID, acc := tm.approved(t, b.limit)
		if b.used != "" {
			creditOK(t, tm.charge(t, customerID, "before", b.used))
		}
		if b.pastDue != nil {
			creditFixtureUsage(t, srv, acc.ID, "past-due", "1.00", "0", -*b.pastDue)
		}
		if b.customer != "" {
			mustExec(t, srv, "UPDATE customers SET status = ? WHERE customer_id = ?", b.customer, customerID)
		}
		if b.suspend {
			creditOK(t, creditMutation(t, tm.manager, "suspendCreditAccount", "id: $id, reason: $reason", map[string]any{"id": acc.ID, "reason": "x"}))
		}
		before := tm.account(t, customerID)
		audits := creditSQL(t, srv, "SELECT count(*)::text FROM audit_log WHERE organization_id = ?", tm.org)

		got := tm.check(t, customerID, b.amount)
		if len(got.Rules) != 6 {
			t.Fatalf("%s: rules %+v", b.name, got.Rules)
		}
		first, warning := "", false
		for i, r := range got.Rules {
			if want := []string{"CUSTOMER_BLOCKED", "CUSTOMER_INACTIVE", "ACCOUNT_NOT_APPROVED", "OVERDUE_BEYOND_POLICY",
				"OVER_LIMIT", "HIGH_UTILIZATION"}[i]; r.Code != want || r.Message == "" || (r.Blocks && r.Passed) {
				t.Fatalf("%s: rule %d = %+v, want %s", b.name, i, r, want)
			}
			if r.Blocks && first == "" {
				first = r.Code
			}
			if r.Code == "HIGH_UTILIZATION" {
				warning = !r.Passed
				if r.Blocks {
					t.Fatalf("%s: HIGH_UTILIZATION blocks", b.name)
				}
			}
		}
		if got.Approved != b.approved || first != b.blocking || warning != b.warning {
			t.Fatalf("%s: check = %+v, want approved %v, first blocking %q, warning %v", b.name, got, b.approved, b.blocking, b.warning)
		}
		wantAfter := before.CreditAvailable
		if b.approved {
			wantAfter = decimal.RequireFromString(before.CreditAvailable).Sub(decimal.RequireFromString(b.amount)).StringFixed(2)
		}
		if got.Available != before.CreditAvailable || got.AvailableAfter != wantAfter {
			t.Fatalf("%s: available %s → %s, want %s → %s", b.name, got.Available, got.AvailableAfter, before.CreditAvailable, wantAfter)
		}
		// The check wrote nothing.
		if a := tm.account(t, customerID); a.CreditUsed != before.CreditUsed ||
			creditSQL(t, srv, "SELECT count(*)::text FROM audit_log WHERE organization_id = ?", tm.org) != audits {
			t.Fatalf("%s: creditCheck wrote", b.name)
		}

		p := tm.charge(t, customerID, "o-1", b.amount)
		code := ""
		if len(p.UserErrors) > 0 {
			code = p.UserErrors[0].Code
			if msg := ruleMessage(got, first); p.UserErrors[0].Message != msg {
				t.Fatalf("%s: charge refused with %q, the check's rule says %q", b.name, p.UserErrors[0].Message, msg)
			}
		}
		if code != b.chargeCode {
			t.Fatalf("%s: chargeCredit = %+v, want %q", b.name, p.UserErrors, b.chargeCode)
		}
		if b.approved && p.CreditAccount.CreditAvailable != got.AvailableAfter {
			t.Fatalf("%s: charged, available %s; the check said %s", b.name, p.CreditAccount.CreditAvailable, got.AvailableAfter)
		}
		charge := "charged"
		if code != "" {
			charge = "refused " + code
		}
		warn := "passes"
		if warning {
			warn = "warns"
		}
		table = append(table, fmt.Sprintf("| %s | %s | %v | %s | %s | %s |", b.name, b.amount, got.Approved, orDash(first), warn, charge))
	}
	t.Log("\n" + strings.Join(table, "\n"))
}

func days(n int) *int { return &n }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func ruleMessage(c creditCheckOut, code string) string {
	for _, r := range c.Rules {
		if r.Code == code {
			return r.Message
		}
	}
	return ""
}

// §14: creditCheck's argument follows chargeCredit's rule; a customer without an account,
// missing or of another organization is NOT_FOUND; viewers may not check.
func TestCreditCheck_BadInputAndMissingAccounts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "100")
	for _, amount := range []string{"0", "-1", "1.001", "10000000000"} {
		if code := checkError(t, tm.agent, customerID, amount); code != "BAD_USER_INPUT" {
			t.Errorf("amount %s: %s", amount, code)
		}
	}
	if code := checkError(t, tm.agent, uuid.New(), "1"); code != "NOT_FOUND" {
		t.Errorf("missing customer: %s", code)
	}
	noAccount := newCreditCustomer(t, srv, tm.org, "b2b", "active")
	if code := checkError(t, tm.agent, noAccount, "1"); code != "NOT_FOUND" {
		t.Errorf("customer without an account: %s", code)
	}
	other := srv.NewOrg(t, auth.Admin)
	if code := checkError(t, other, customerID, "1"); code != "NOT_FOUND" {
		t.Errorf("another organization's customer: %s", code)
	}
	if code := checkError(t, srv.As(t, tm.org, auth.Viewer), customerID, "1"); code != "FORBIDDEN" {
		t.Errorf("viewer: %s", code)
	}
	if got := tm.check(t, customerID, "100.00"); !got.Approved || got.AvailableAfter != "0.00" {
		t.Errorf("the whole limit: %+v", got)
	}
}

// §14 four-eyes: under the default policy the manager who opened an account cannot approve
// it, nor can the one who raised its limit while pending; an increase of an approved
// account waits for another manager; a decrease applies at once and drops a waiting
// increase; with the policy off one manager does it all.
func TestCreditFourEyes_AccountsAndLimitIncreasesNeedASecondManager(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	third := srv.As(t, tm.org, auth.Manager)
	_, acc := tm.open(t, "1000", 30)
	if acc.OpenedBy == nil || *acc.OpenedBy != tm.manager.User.String() || acc.LimitRequestedBy != nil {
		t.Fatalf("opened = %+v", acc)
	}
	id := map[string]any{"id": acc.ID}
	e := wantCreditError(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", id), "SECOND_APPROVER_REQUIRED", "id")
	if !strings.Contains(e.Message, "opened") {
		t.Fatalf("message = %q", e.Message)
	}
	// The approver raises the pending limit: now the approver asked for it, and may not approve.
	a := creditOK(t, creditMutation(t, tm.approver, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
		map[string]any{"id": acc.ID, "creditLimit": "2000"})).CreditAccount
	if a.CreditLimit != "2000.00" || a.Status != "PENDING" || a.LimitRequestedBy == nil || *a.LimitRequestedBy != tm.approver.User.String() {
		t.Fatalf("raised pending = %+v", a)
	}
	wantCreditError(t, creditMutation(t, tm.approver, "approveCreditAccount", "id: $id", id), "SECOND_APPROVER_REQUIRED", "id")
	wantCreditError(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", id), "SECOND_APPROVER_REQUIRED", "id")
	a = creditOK(t, creditMutation(t, third, "approveCreditAccount", "id: $id", id)).CreditAccount
	if a.Status != "APPROVED" || *a.ApprovedBy != third.User.String() || a.LimitRequestedBy != nil || a.LimitRequestedAt != nil {
		t.Fatalf("approved = %+v", a)
	}

	// An increase waits; its requester cannot approve it; another manager can.
	update := func(c *apitest.Client, limit string) creditPayload {
		return creditMutation(t, c, "updateCreditLimit", "id: $id, creditLimit: $creditLimit", map[string]any{"id": acc.ID, "creditLimit": limit})
	}
	approveLimit := func(c *apitest.Client) creditPayload {
		return creditMutation(t, c, "approveCreditLimit", "id: $id", id)
	}
	wantCreditError(t, approveLimit(third), "INVALID_STATE", "id") // nothing waits
	a = creditOK(t, update(tm.manager, "5000")).CreditAccount
	if a.CreditLimit != "2000.00" || a.RequestedCreditLimit == nil || *a.RequestedCreditLimit != "5000.00" ||
		*a.LimitRequestedBy != tm.manager.User.String() || a.LimitRequestedAt == nil {
		t.Fatalf("increase asked = %+v", a)
	}
	// Its audit row keeps the keys of every limit change, and says it waits.
	if rows := creditAuditRows(t, srv, tm.org, "credit.update_limit"); len(rows) == 0 ||
		rows[len(rows)-1].Details["old_credit_limit"] != "2000.00" || rows[len(rows)-1].Details["new_credit_limit"] != "5000.00" ||
		rows[len(rows)-1].Details["deferred"] != true {
		t.Fatalf("audit of a deferred increase = %+v", rows)
	}
	wantCreditError(t, approveLimit(tm.manager), "SECOND_APPROVER_REQUIRED", "id")
	a = creditOK(t, approveLimit(tm.approver)).CreditAccount
	if a.CreditLimit != "5000.00" || a.CreditAvailable != "5000.00" || a.RequestedCreditLimit != nil || a.LimitRequestedBy != nil {
		t.Fatalf("increase approved = %+v", a)
	}
	rows := creditAuditRows(t, srv, tm.org, "credit.approve_limit")
	if len(rows) != 1 || rows[0].ActorID != tm.approver.User || rows[0].Details["new_credit_limit"] != "5000.00" ||
		rows[0].Details["requested_by"] != tm.manager.User.String() {
		t.Fatalf("audit = %+v", rows)
	}
	// A decrease applies at once and drops the increase waiting.
	creditOK(t, update(tm.manager, "9000"))
	a = creditOK(t, update(tm.manager, "4000")).CreditAccount
	if a.CreditLimit != "4000.00" || a.RequestedCreditLimit != nil || a.LimitRequestedBy != nil {
		t.Fatalf("decrease = %+v", a)
	}
	wantCreditError(t, approveLimit(tm.approver), "INVALID_STATE", "id")

	// Policy off: the opener approves, increases apply at once.
	tm.setPolicy(t, map[string]any{"requireSecondApprover": false})
	a = creditOK(t, update(tm.manager, "6000")).CreditAccount
	if a.CreditLimit != "6000.00" || a.RequestedCreditLimit != nil {
		t.Fatalf("increase without four-eyes = %+v", a)
	}
	_, other := tm.open(t, "10", 30)
	creditOK(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", map[string]any{"id": other.ID}))
	// Requests made under four-eyes keep needing a second manager when the policy is turned
	// off afterwards (it is stored with each request): turning it off, approving one's own
	// request and turning it on again is no way around it.
	tm.setPolicy(t, map[string]any{"requireSecondApprover": true})
	creditOK(t, update(tm.manager, "7000"))
	_, guarded := tm.open(t, "10", 30)
	tm.setPolicy(t, map[string]any{"requireSecondApprover": false})
	wantCreditError(t, approveLimit(tm.manager), "SECOND_APPROVER_REQUIRED", "id")
	wantCreditError(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", map[string]any{"id": guarded.ID}), "SECOND_APPROVER_REQUIRED", "id")
	if a = creditOK(t, approveLimit(tm.approver)).CreditAccount; a.CreditLimit != "7000.00" {
		t.Fatalf("approved by a second manager = %+v", a)
	}
	creditOK(t, creditMutation(t, tm.approver, "approveCreditAccount", "id: $id", map[string]any{"id": guarded.ID}))
	// A pending account's limit raised without four-eyes may be approved by its requester.
	_, loose := tm.open(t, "10", 30)
	creditOK(t, creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit", map[string]any{"id": loose.ID, "creditLimit": "20"}))
	tm.setPolicy(t, map[string]any{"requireSecondApprover": true})
	creditOK(t, creditMutation(t, tm.manager, "approveCreditAccount", "id: $id", map[string]any{"id": loose.ID}))
	// Another organization's account is not found.
	otherOrg := srv.NewOrg(t, auth.Manager)
	wantCreditError(t, creditMutation(t, otherOrg, "approveCreditLimit", "id: $id", id), "NOT_FOUND", "id")
}

// §14: two managers approving the same waiting increase at once apply it once.
func TestCreditFourEyes_ConcurrentApprovalsApplyTheIncreaseOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	_, acc := tm.approved(t, "100")
	creditOK(t, creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
		map[string]any{"id": acc.ID, "creditLimit": "500"}))
	var (
		wg  sync.WaitGroup
		out outcomes
	)
	start := make(chan struct{})
	for i := 0; i < 6; i++ {
		m := srv.As(t, tm.org, auth.Manager)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out.add(creditMutation(t, m, "approveCreditLimit", "id: $id", map[string]any{"id": acc.ID}))
		}()
	}
	close(start)
	wg.Wait()
	if out.n[""] != 1 || out.n["INVALID_STATE"] != 5 {
		t.Fatalf("outcomes = %v", out.n)
	}
	if rows := creditAuditRows(t, srv, tm.org, "credit.approve_limit"); len(rows) != 1 {
		t.Fatalf("%d approvals audited", len(rows))
	}
}

// §14 and issues 3/4: charges racing at the limit, with dry runs and a payment among them,
// never pass the limit; the checks never write.
func TestChargeCredit_ConcurrentChargesChecksAndAPaymentKeepTheLimit(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100")
	creditOK(t, tm.charge(t, customerID, "first", "30.00"))
	var (
		wg              sync.WaitGroup
		charges, checks outcomes
	)
	start := make(chan struct{})
	for i := 0; i < 16; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			charges.add(tm.charge(t, customerID, fmt.Sprintf("o-%d", i), "9.00"))
		}()
		go func() {
			defer wg.Done()
			<-start
			p := creditPayload{}
			if !tm.check(t, customerID, "9.00").Approved {
				p.UserErrors = []creditUserError{{Code: "REFUSED"}}
			}
			checks.add(p)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		creditOK(t, tm.pay(t, customerID, "pay", "30.00"))
	}()
	close(start)
	wg.Wait()
	used := creditSQL(t, srv, `SELECT credit_used::text FROM credit_accounts WHERE credit_account_id = ?`, acc.ID)
	n := charges.n[""]
	// 30 used, a payment of 30 at some point: at least 7 (70 of 70 free) and at most 11 (99 of 100) charges of 9 fit.
	if n < 7 || n > 11 || charges.n[""]+charges.n["CREDIT_LIMIT_EXCEEDED"] != 16 {
		t.Fatalf("charges = %v", charges.n)
	}
	if want := fmt.Sprintf("%d.00", 9*n); used != want {
		t.Fatalf("credit_used %s after %d charges, want %s", used, n, want)
	}
	if checks.n[""]+checks.n["REFUSED"] != 16 {
		t.Fatalf("checks = %v", checks.n)
	}
	if got := creditSQL(t, srv, `SELECT count(*)::text FROM credit_usage WHERE credit_account_id = ?`, acc.ID); got != fmt.Sprint(n+1) {
		t.Fatalf("%s usages after %d charges", got, n)
	}
	assertCreditBooks(t, srv, tm.org)
}

// §14: the Customer 360's creditAccount lists the policy rules it breaks now, at their
// boundaries, with the messages creditCheck uses for the overdue rule.
func TestCreditAccount360_PolicyWarningsAtTheirBoundaries(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	warnings := func(customerID uuid.UUID) string {
		t.Helper()
		var codes []string
		for _, w := range tm.account(t, customerID).PolicyWarnings {
			codes = append(codes, w.Code+": "+w.Message)
		}
		return strings.Join(codes, "; ")
	}
	c, acc := tm.approved(t, "1000")
	if got := warnings(c); got != "" {
		t.Fatalf("a fresh account warns: %s", got)
	}
	creditOK(t, tm.charge(t, c, "o-1", "899.90"))
	if got := warnings(c); got != "" {
		t.Fatalf("89.99 %%: %s", got)
	}
	creditOK(t, tm.charge(t, c, "o-2", "0.10"))
	if got, want := warnings(c), "HIGH_UTILIZATION: utilization is 90.00 % of the limit; the policy warns at 90 %"; got != want {
		t.Fatalf("90 %%: %q, want %q", got, want)
	}
	c2, acc2 := tm.approved(t, "1000")
	creditFixtureUsage(t, srv, acc2.ID, "late", "5.00", "0", -30)
	if got := warnings(c2); got != "" {
		t.Fatalf("30 days past due: %s", got)
	}
	creditFixtureUsage(t, srv, acc2.ID, "later", "5.00", "0", -31)
	want := "OVERDUE_BEYOND_POLICY: " + ruleMessage(tm.check(t, c2, "1.00"), "OVERDUE_BEYOND_POLICY")
	if got := warnings(c2); got != want || !strings.Contains(got, "31 days") {
		t.Fatalf("31 days past due: %q, want %q", got, want)
	}
	// Both, in creditCheck's order; the policy moves them.
	creditFixtureUsage(t, srv, acc.ID, "late", "50.00", "0", -40)
	if got := warnings(c); !strings.HasPrefix(got, "OVERDUE_BEYOND_POLICY: a charge is 40 days") || !strings.Contains(got, "; HIGH_UTILIZATION: utilization is 95.00 %") {
		t.Fatalf("both: %q", got)
	}
	tm.setPolicy(t, map[string]any{"blockWhenOverdueDays": 40, "warnUtilizationPercent": 96})
	if got := warnings(c); got != "" {
		t.Fatalf("under the relaxed policy: %q", got)
	}
	// A page of customers renders them too (the list path of the compiler).
	var page struct {
		Customers struct {
			Nodes []struct {
				CreditAccount *struct{ PolicyWarnings []struct{ Code string } }
			}
		}
	}
	tm.setPolicy(t, map[string]any{"blockWhenOverdueDays": 30})
	tm.agent.Must(t, `{ customers(first: 10, filter: {hasCreditAccount: true}) { nodes { creditAccount { policyWarnings { code } } } } }`, nil, &page)
	overdue := 0
	for _, n := range page.Customers.Nodes {
		if n.CreditAccount != nil && len(n.CreditAccount.PolicyWarnings) == 1 && n.CreditAccount.PolicyWarnings[0].Code == "OVERDUE_BEYOND_POLICY" {
			overdue++
		}
	}
	if overdue != 2 {
		b, _ := json.Marshal(page)
		t.Fatalf("list: %s", b)
	}
}

// §14: updateCreditLimit says whether the limit applied or waits for a second manager.
func TestUpdateCreditLimit_PendingApprovalSaysWhetherTheLimitWaits(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	_, acc := tm.approved(t, "1000")
	_, pending := tm.open(t, "100", 30)
	type out struct {
		CreditAccount *struct {
			CreditLimit          string
			RequestedCreditLimit *string
		}
		PendingApproval bool
		UserErrors      []creditUserError
	}
	update := func(id, limit string) out {
		t.Helper()
		var res struct{ UpdateCreditLimit out }
		tm.manager.Must(t, `mutation($id: UUID!, $l: Decimal!) { updateCreditLimit(id: $id, creditLimit: $l) {
			creditAccount { creditLimit requestedCreditLimit } pendingApproval userErrors { code field message } } }`,
			map[string]any{"id": id, "l": limit}, &res)
		return res.UpdateCreditLimit
	}
	got := update(acc.ID, "2000")
	if !got.PendingApproval || got.CreditAccount.CreditLimit != "1000.00" || got.CreditAccount.RequestedCreditLimit == nil ||
		*got.CreditAccount.RequestedCreditLimit != "2000.00" {
		t.Fatalf("a deferred increase: %+v", got)
	}
	if got = update(acc.ID, "2000"); !got.PendingApproval { // asked again: still waits
		t.Fatalf("the same increase again: %+v", got)
	}
	if got = update(acc.ID, "500"); got.PendingApproval || got.CreditAccount.CreditLimit != "500.00" || got.CreditAccount.RequestedCreditLimit != nil {
		t.Fatalf("a decrease: %+v", got)
	}
	if got = update(pending.ID, "300"); got.PendingApproval || got.CreditAccount.CreditLimit != "300.00" {
		t.Fatalf("an increase of a pending account (approved with it): %+v", got)
	}
	if got = update(acc.ID, "-1"); got.PendingApproval || got.CreditAccount != nil || len(got.UserErrors) != 1 {
		t.Fatalf("a user error: %+v", got)
	}
	tm.setPolicy(t, map[string]any{"requireSecondApprover": false})
	if got = update(acc.ID, "3000"); got.PendingApproval || got.CreditAccount.CreditLimit != "3000.00" {
		t.Fatalf("an increase without four-eyes: %+v", got)
	}
}
