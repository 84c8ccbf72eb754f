package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// Helpers of the credit tests (§5): fixtures as the table owner, and the credit mutations
// through the API.

// creditToday is the date the credit rules count from (credit.today), for fixtures.
const creditToday = "(now() AT TIME ZONE 'UTC')::date"

// The fragments the credit tests select (GraphQL refuses a document with an unused one).
const (
	creditAccountFields = `fragment A on CreditAccount {
	id creditLimit creditUsed creditAvailable paymentTermDays status approvedAt approvedBy approvalNotes
	suspendedAt suspensionReason cancelledAt cancellationReason createdAt outstanding overdueAmount
	aging { current days1To30 days31To60 days61To90 over90 }
	openedBy requestedCreditLimit limitRequestedBy limitRequestedAt policyWarnings { code message }
}`
	creditUsageFields   = `fragment U on CreditUsage { id orderId amount amountPaid outstanding status dueDate createdAt }`
	creditPaymentFields = `fragment P on CreditPayment { id amount paymentReference paymentDate createdAt }`
)

type creditUserError struct {
	Field   []string
	Message string
	Code    string
}

type creditAccount struct {
	ID                 string
	CreditLimit        string
	CreditUsed         string
	CreditAvailable    string
	PaymentTermDays    int
	Status             string
	ApprovedAt         *string
	ApprovedBy         *string
	ApprovalNotes      *string
	SuspendedAt        *string
	SuspensionReason   *string
	CancelledAt        *string
	CancellationReason *string
	Outstanding        string
	OverdueAmount      string
	Aging              struct{ Current, Days1To30, Days31To60, Days61To90, Over90 string }
	// §14
	OpenedBy             *string
	RequestedCreditLimit *string
	LimitRequestedBy     *string
	LimitRequestedAt     *string
	PolicyWarnings       []struct{ Code, Message string }
}

type creditUsage struct {
	ID          string
	OrderID     string
	Amount      string
	AmountPaid  string
	Outstanding string
	Status      string
	DueDate     string
}

type creditPayment struct {
	ID               string
	Amount           string
	PaymentReference string
	PaymentDate      string
}

// creditPayload is any credit mutation's payload.
type creditPayload struct {
	CreditAccount *creditAccount
	Usage         *creditUsage
	Payment       *creditPayment
	UserErrors    []creditUserError
}

// creditMutation runs one credit mutation (its field selected with the payload fragments)
// and returns its payload; top-level errors fail the test.
func creditMutation(t testing.TB, c *apitest.Client, field, args string, vars map[string]any) creditPayload {
	t.Helper()
	res := creditCall(t, c, field, args, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("%s: %s", field, res.Body)
	}
	var data map[string]creditPayload
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data[field]
}

// creditCall posts one credit mutation; the caller inspects the response.
func creditCall(t testing.TB, c *apitest.Client, field, args string, vars map[string]any) apitest.Response {
	t.Helper()
	sel := "creditAccount { ...A } userErrors { field message code }"
	fragments := creditAccountFields
	switch field {
	case "chargeCredit", "cancelCreditUsage":
		sel += " usage { ...U }"
		fragments += "\n" + creditUsageFields
	case "recordCreditPayment":
		sel += " payment { ...P }"
		fragments += "\n" + creditPaymentFields
	}
	var decl []string
	for name, v := range vars {
		decl = append(decl, "$"+name+": "+creditVarType(field, name, v))
	}
	head := "mutation"
	if len(decl) > 0 {
		head += "(" + strings.Join(decl, ", ") + ")"
	}
	q := head + " { " + field + "(" + args + ") { " + sel + " } }\n" + fragments
	return c.Do(t, q, vars)
}

func creditVarType(field, name string, _ any) string {
	switch name {
	case "id":
		return "UUID!"
	case "notes", "reason":
		if field == "suspendCreditAccount" {
			return "String!"
		}
		return "String"
	case "creditLimit":
		return "Decimal!"
	case "input":
		return map[string]string{
			"openCreditAccount":   "OpenCreditAccountInput!",
			"chargeCredit":        "ChargeCreditInput!",
			"recordCreditPayment": "RecordCreditPaymentInput!",
		}[field]
	}
	panic("no type for $" + name)
}

// creditOK fails unless the payload has no user errors.
func creditOK(t testing.TB, p creditPayload) creditPayload {
	t.Helper()
	if len(p.UserErrors) > 0 {
		t.Fatalf("user errors: %+v", p.UserErrors)
	}
	return p
}

// wantCreditError fails unless the payload has exactly one user error with the code (and
// the field, when given), and no object; it returns the error.
func wantCreditError(t testing.TB, p creditPayload, code string, field ...string) creditUserError {
	t.Helper()
	if len(p.UserErrors) != 1 || p.UserErrors[0].Code != code {
		t.Fatalf("want one %s user error, got %+v", code, p.UserErrors)
	}
	if field != nil && strings.Join(p.UserErrors[0].Field, ".") != strings.Join(field, ".") {
		t.Fatalf("want field %v, got %v", field, p.UserErrors[0].Field)
	}
	if p.CreditAccount != nil || p.Usage != nil || p.Payment != nil {
		t.Fatalf("a failed mutation returned an object: %+v", p)
	}
	return p.UserErrors[0]
}

// newCreditCustomer inserts a customer of the organization as the owner.
func newCreditCustomer(t testing.TB, srv *apitest.Server, org uuid.UUID, customerType, status string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	registerOrg(t, srv, org)
	if _, err := srv.Owner.NewRaw(`INSERT INTO customers (customer_id, organization_id, customer_type, status, first_name, last_name)
		VALUES (?, ?, ?, ?, 'Acme', 'S.A.')`, id, org, customerType, status).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return id
}

// creditTeam is two managers and an agent of one fresh organization: the manager opens
// accounts and asks for limits, the approver approves them (§14: four-eyes by default).
type creditTeam struct {
	srv      *apitest.Server
	manager  *apitest.Client
	approver *apitest.Client
	agent    *apitest.Client
	org      uuid.UUID
}

func newCreditTeam(t testing.TB, srv *apitest.Server) creditTeam {
	m := srv.NewOrg(t, auth.Manager)
	return creditTeam{srv: srv, manager: m, approver: srv.As(t, m.Org, auth.Manager), agent: srv.As(t, m.Org, auth.Agent), org: m.Org}
}

// open opens an account for a new active b2b customer through the API.
func (tm creditTeam) open(t testing.TB, limit string, term int) (customerID uuid.UUID, acc creditAccount) {
	t.Helper()
	customerID = newCreditCustomer(t, tm.srv, tm.org, "b2b", "active")
	p := creditOK(t, creditMutation(t, tm.manager, "openCreditAccount", "input: $input", map[string]any{
		"input": map[string]any{"customerId": customerID, "creditLimit": limit, "paymentTermDays": term},
	}))
	return customerID, *p.CreditAccount
}

// approved opens and approves an account through the API.
func (tm creditTeam) approved(t testing.TB, limit string) (customerID uuid.UUID, acc creditAccount) {
	t.Helper()
	customerID, acc = tm.open(t, limit, 30)
	p := creditOK(t, creditMutation(t, tm.approver, "approveCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
	return customerID, *p.CreditAccount
}

func (tm creditTeam) charge(t testing.TB, customerID uuid.UUID, orderID, amount string) creditPayload {
	t.Helper()
	return creditMutation(t, tm.agent, "chargeCredit", "input: $input", map[string]any{
		"input": map[string]any{"customerId": customerID, "orderId": orderID, "amount": amount},
	})
}

func (tm creditTeam) pay(t testing.TB, customerID uuid.UUID, reference, amount string, date ...string) creditPayload {
	t.Helper()
	in := map[string]any{"customerId": customerID, "paymentReference": reference, "amount": amount}
	if len(date) > 0 {
		in["paymentDate"] = date[0]
	}
	return creditMutation(t, tm.agent, "recordCreditPayment", "input: $input", map[string]any{"input": in})
}

// account reads an account through the customer.
func (tm creditTeam) account(t testing.TB, customerID uuid.UUID) creditAccount {
	t.Helper()
	var out struct {
		Customer struct{ CreditAccount *creditAccount }
	}
	tm.agent.Must(t, `query($id: UUID!) { customer(id: $id) { creditAccount { ...A } } }`+"\n"+creditAccountFields,
		map[string]any{"id": customerID}, &out)
	if out.Customer.CreditAccount == nil {
		t.Fatal("no credit account")
	}
	return *out.Customer.CreditAccount
}

// creditFixtureUsage inserts a usage of the account as the owner, due daysFromToday from
// today, with amountPaid already paid by a payment (paid in full: status paid, else
// pending), and raises credit_used by what it leaves unpaid, as a charge and payments
// through the API would have. It returns the usage's id.
func creditFixtureUsage(t testing.TB, srv *apitest.Server, accountID string, orderID, amount, amountPaid string, daysFromToday int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	_, err := srv.Owner.NewRaw(`INSERT INTO credit_usage (usage_id, organization_id, credit_account_id, order_id, amount, amount_paid, status, due_date)
		SELECT ?, organization_id, credit_account_id, ?, ?::numeric, ?::numeric,
		  CASE WHEN ?::numeric = ?::numeric THEN 'paid' ELSE 'pending' END, `+creditToday+` + ?::int
		FROM credit_accounts WHERE credit_account_id = ?`, id, orderID, amount, amountPaid, amount, amountPaid, daysFromToday, accountID).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = srv.Owner.NewRaw(`UPDATE credit_accounts SET credit_used = credit_used + (?::numeric - ?::numeric)
		WHERE credit_account_id = ?`, amount, amountPaid, accountID).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// What is already paid came from a payment, so the books still add up.
	_, err = srv.Owner.NewRaw(`INSERT INTO credit_payments (organization_id, credit_account_id, amount, payment_reference, payment_date)
		SELECT organization_id, credit_account_id, ?::numeric, 'fixture-' || ?, `+creditToday+`
		FROM credit_accounts WHERE credit_account_id = ? AND ?::numeric > 0`, amountPaid, orderID, accountID, amountPaid).Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// assertCreditBooks checks the credit invariants of every account of the organization in
// SQL (§5): credit_used = Σ (amount − amount_paid) over the usages not cancelled,
// Σ payments = Σ amount_paid, and 0 ≤ credit_used ≤ credit_limit.
func assertCreditBooks(t testing.TB, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	var rows []struct {
		ID       uuid.UUID       `bun:"credit_account_id"`
		Used     decimal.Decimal `bun:"credit_used"`
		Limit    decimal.Decimal `bun:"credit_limit"`
		Unpaid   decimal.Decimal `bun:"unpaid"`
		PaidUses decimal.Decimal `bun:"paid_on_usages"`
		Payments decimal.Decimal `bun:"payments"`
	}
	err := srv.Owner.NewRaw(`
		SELECT ca.credit_account_id, ca.credit_used, ca.credit_limit,
		  COALESCE((SELECT SUM(amount - amount_paid) FROM credit_usage u WHERE u.organization_id = ?0 AND u.credit_account_id = ca.credit_account_id AND u.status <> 'cancelled'), 0) AS unpaid,
		  COALESCE((SELECT SUM(amount_paid) FROM credit_usage u WHERE u.organization_id = ?0 AND u.credit_account_id = ca.credit_account_id), 0) AS paid_on_usages,
		  COALESCE((SELECT SUM(amount) FROM credit_payments p WHERE p.organization_id = ?0 AND p.credit_account_id = ca.credit_account_id), 0) AS payments
		FROM credit_accounts ca WHERE ca.organization_id = ?0`, org).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no credit accounts to check")
	}
	for _, r := range rows {
		if !r.Used.Equal(r.Unpaid) || !r.Payments.Equal(r.PaidUses) || r.Used.IsNegative() || r.Used.GreaterThan(r.Limit) {
			t.Errorf("account %s: credit_used %s, unpaid on usages %s, payments %s, paid on usages %s, limit %s",
				r.ID, r.Used, r.Unpaid, r.Payments, r.PaidUses, r.Limit)
		}
	}
}

// creditAuditRows are the organization's audit rows of an action.
type creditAuditRow struct {
	ActorID       uuid.UUID      `bun:"actor_id"`
	EntityType    string         `bun:"entity_type"`
	EntityID      uuid.UUID      `bun:"entity_id"`
	ChangedFields []string       `bun:"changed_fields,array"`
	Details       map[string]any `bun:"details,type:jsonb"`
}

func creditAuditRows(t testing.TB, srv *apitest.Server, org uuid.UUID, action string) []creditAuditRow {
	t.Helper()
	var rows []creditAuditRow
	err := srv.Owner.NewRaw(`SELECT actor_id, entity_type, entity_id, changed_fields, details FROM audit_log
		WHERE organization_id = ? AND action = ? ORDER BY audit_id`, org, action).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// creditSQL reads one value as text, as the owner.
func creditSQL(t testing.TB, srv *apitest.Server, query string, args ...any) string {
	t.Helper()
	var s string
	if err := srv.Owner.NewRaw(query, args...).Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}
