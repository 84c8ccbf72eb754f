package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// eraseCustomer (§3, the right to be forgotten), through the API.

const eraseMutation = `mutation($id: UUID!) { eraseCustomer(id: $id) {
	customer { ` + customerFields + ` erasedAt
		addresses(includeInactive: true) { id } defaultShippingAddress { id } segment { segmentCode }
		loyaltyAccount { pointsBalance lifetimePoints pointsRedeemed totalPurchases totalSpent }
		creditAccount { creditLimit creditUsed outstanding }
		purchases { edges { node { orderId amount refundedAmount pointsEarned } } } }
	` + userErrorFields + ` } }`

// erasedOut is the payload's customer: the scalar fields, and what stays and goes with it.
type erasedOut struct {
	customerOut
	ErasedAt               *string
	Addresses              []struct{ ID string }
	DefaultShippingAddress *struct{ ID string }
	Segment                *struct{ SegmentCode string }
	LoyaltyAccount         *struct {
		PointsBalance, LifetimePoints, PointsRedeemed, TotalPurchases int
		TotalSpent                                                    string
	}
	CreditAccount *struct{ CreditLimit, CreditUsed, Outstanding string }
	Purchases     struct {
		Edges []struct {
			Node struct {
				OrderID, Amount, RefundedAmount string
				PointsEarned                    int
			}
		}
	}
}

type erasePayload struct {
	Customer   *erasedOut
	UserErrors []userError
}

func erase(t *testing.T, c *apitest.Client, id string) erasePayload {
	t.Helper()
	var out struct{ EraseCustomer erasePayload }
	c.Must(t, eraseMutation, map[string]any{"id": id}, &out)
	return out.EraseCustomer
}

// zenobiaData is what the erasable customer's personal data holds, each value distinctive
// enough to be searched for in every row of the organization afterwards (lower-cased).
var zenobiaData = []string{
	"zenobia", "ibargüen", "ibarguen", "zenobia.erase@example.org", "+50765550123", "65550123",
	"8-888-1234", "1985-03-09", "femenino-zx", "cliente-zenobia", "zen-4242", "mediodía",
	"fraude reportado", "calle zenobia", "barrio escondido", "+50765550124",
}

// erasable is an organization whose admin erases a b2b customer with every personal field
// set, two addresses, purchases (one partly refunded), a bonus and a redemption, an
// approved credit account with a charge partly paid, a segment, and a status BLOCKED with
// a reason. Another customer of the organization is left alone.
type erasable struct {
	srv       *apitest.Server
	admin     *apitest.Client
	org       uuid.UUID
	id        string // the customer to erase
	bystander string
}

func newErasable(t *testing.T, srv *apitest.Server) erasable {
	t.Helper()
	admin := srv.NewOrg(t, auth.Admin)
	e := erasable{srv: srv, admin: admin, org: admin.Org}
	c := mustCreateCustomer(t, admin, map[string]any{
		"customerType": "B2B", "firstName": "Zenobia", "lastName": "Ibargüen", "email": "Zenobia.Erase@example.org",
		"phone": "6555-0123", "documentType": "CEDULA", "documentNumber": "8-888-1234", "birthDate": "1985-03-09",
		"gender": "femenino-zx", "preferredLanguage": "en", "marketingConsent": true, "tags": []string{"cliente-zenobia"},
		"metadata": map[string]any{"crm": "ZEN-4242"}, "notes": "Llamar al mediodía",
	})
	e.id = c.ID
	e.bystander = mustCreateCustomer(t, admin, map[string]any{"firstName": "Otro", "lastName": "Cliente", "email": "otro@example.org"}).ID
	mustAddAddress(t, admin, e.id, map[string]any{"addressLine1": "Calle Zenobia 12", "city": "Barrio Escondido",
		"recipientName": "Zenobia Ibargüen", "phone": "6555-0124", "isDefault": true})
	mustAddAddress(t, admin, e.id, map[string]any{"addressType": "BILLING", "addressLine1": "Calle Zenobia 14", "city": "Panamá"})
	mustAddAddress(t, admin, e.bystander, calle50())

	id := uuid.MustParse(e.id)
	loyOK(t, admin, "recordPurchase", map[string]any{"customerId": id, "orderId": "erase-order-1", "amount": "150.00"})
	loyOK(t, admin, "recordPurchase", map[string]any{"customerId": id, "orderId": "erase-order-2", "amount": "80.00"})
	loyOK(t, admin, "recordRefund", map[string]any{"orderId": "erase-order-2", "amount": "20.00", "refundId": "erase-refund-1"})
	loyOK(t, admin, "awardBonusPoints", map[string]any{"customerId": id, "points": 40, "reason": "Bienvenida Zenobia", "referenceId": "erase-bonus"})
	loyOK(t, admin, "redeemPoints", map[string]any{"customerId": id, "points": 30, "referenceType": "reward", "referenceId": "erase-reward"})

	acc := creditOK(t, creditMutation(t, admin, "openCreditAccount", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "creditLimit": "500.00"}})).CreditAccount
	creditOK(t, creditMutation(t, srv.As(t, admin.Org, auth.Manager), "approveCreditAccount", "id: $id, notes: \"Aprobada para Zenobia\"", map[string]any{"id": acc.ID}))
	creditOK(t, creditMutation(t, admin, "chargeCredit", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "orderId": "erase-charge-1", "amount": "200.00"}}))
	creditOK(t, creditMutation(t, admin, "recordCreditPayment", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "paymentReference": "erase-payment-1", "amount": "50.00"}}))

	admin.Must(t, `mutation { recalculateSegments { scored userErrors { code } } }`, nil, nil)
	ok(t, mutate(t, admin, setStatusMutation, map[string]any{"id": e.id, "status": "BLOCKED", "reason": "Fraude reportado"}))
	if n := countRows(t, srv, "SELECT count(*) FROM customer_segments WHERE customer_id = ?", e.id); n != 1 {
		t.Fatalf("fixture: the customer has %d segments, want 1", n)
	}
	return e
}

// rowsOf is the text of every row of the organization in table, in a stable order.
func (e erasable) rowsOf(t *testing.T, table string) string {
	t.Helper()
	var text *string
	if err := e.srv.Owner.NewRaw(fmt.Sprintf(`SELECT string_agg(t::text, E'\n' ORDER BY t::text) FROM %q t WHERE organization_id = ?`, table), e.org).
		Scan(context.Background(), &text); err != nil {
		t.Fatal(err)
	}
	return deref(text)
}

// ledgerOf is rowsOf without the free text erasure clears (§11), and the time of that
// change: the accounting.
func (e erasable) ledgerOf(t *testing.T, table string) string {
	t.Helper()
	var text *string
	if err := e.srv.Owner.NewRaw(fmt.Sprintf(`SELECT string_agg(x::text, E'\n' ORDER BY x::text) FROM (SELECT
		to_jsonb(t) - 'description' - 'approval_notes' - 'suspension_reason' - 'cancellation_reason' - 'updated_at' AS x FROM %q t WHERE organization_id = ?) AS rows`, table), e.org).
		Scan(context.Background(), &text); err != nil {
		t.Fatal(err)
	}
	return deref(text)
}

// orgTables are every table that holds organizations' rows.
func orgTables(t *testing.T, srv *apitest.Server) []string {
	t.Helper()
	var tables []string
	if err := srv.Owner.NewRaw(`SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`).Scan(context.Background(), &tables); err != nil {
		t.Fatal(err)
	}
	return tables
}

// ledgerTables are the accounting records erasure keeps as they are (§3).
var ledgerTables = []string{"loyalty_accounts", "loyalty_transactions", "purchases", "purchase_refunds",
	"credit_accounts", "credit_usage", "credit_payments"}

// wantErasedFields are the columns an erasure of the fixture changes: the audit row names
// them, and nothing more.
var wantErasedFields = []string{"first_name", "last_name", "email", "phone", "document_type", "document_number",
	"birth_date", "gender", "status_reason", "preferred_language", "marketing_consent", "tags", "metadata", "notes", "erased_at"}

// eraseDetails are the audit details of the fixture's erasure: what was deleted and cleared
// (§11: the bonus's and the refund adjustment's descriptions, the approval notes, the
// marketing consent given at creation).
const eraseDetails = `{"addresses_deleted":2,"consents_revoked":["marketing_email"],"credit_text_cleared":true,"ledger_texts_cleared":2,"merge_answers_cleared":0,"segment_deleted":true}`

func TestEraseCustomer_ReplacesPersonalDataAndKeepsTheAccounts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	e := newErasable(t, srv)
	ledgerBefore := map[string]string{}
	for _, table := range ledgerTables {
		ledgerBefore[table] = e.ledgerOf(t, table)
	}
	var before struct{ Customer erasedOut }
	e.admin.Must(t, `query($id: UUID!) { customer(id: $id) {
		loyaltyAccount { pointsBalance lifetimePoints pointsRedeemed totalPurchases totalSpent } } }`, map[string]any{"id": e.id}, &before)
	auditBefore := len(auditRows(t, srv, e.org))

	p := erase(t, e.admin, e.id)
	if len(p.UserErrors) > 0 || p.Customer == nil {
		t.Fatalf("erase: %+v", p)
	}
	c := p.Customer

	// The payload: anonymous values, nothing personal, the accounts as they were.
	got := fmt.Sprintf("%s %s|%s|%s %s|%s %s|%s|%s|%s|%s|%v|%v|%v|%s|%s|%s",
		c.FirstName, c.LastName, c.FullName, deref(c.Email), deref(c.Phone), deref(c.DocumentType), deref(c.DocumentNumber),
		deref(c.BirthDate), deref(c.Gender), deref(c.StatusReason), c.PreferredLanguage, c.MarketingConsent, c.Tags,
		c.Metadata, deref(c.Notes), c.Status, c.CustomerType)
	want := "Erased Customer|Erased Customer|<nil> <nil>|<nil> <nil>|<nil>|<nil>|<nil>|es|false|[]|map[]|<nil>|BLOCKED|B2B"
	if got != want {
		t.Errorf("erased customer\n got %s\nwant %s", got, want)
	}
	if c.ErasedAt == nil || c.ID != e.id {
		t.Errorf("id %s, erasedAt %v: want the same id and a time", c.ID, c.ErasedAt)
	}
	if len(c.Addresses) != 0 || c.DefaultShippingAddress != nil || c.Segment != nil {
		t.Errorf("addresses %v, default %v, segment %v: want none", c.Addresses, c.DefaultShippingAddress, c.Segment)
	}
	// 150.00 earns 150, 80.00 earns 80, the refund of 20.00 reverses 20, +40 bonus, −30 redeemed.
	if l := c.LoyaltyAccount; l == nil || *l != *before.Customer.LoyaltyAccount || l.PointsBalance != 220 || l.PointsRedeemed != 30 ||
		l.TotalPurchases != 2 || l.TotalSpent != "210.00" {
		t.Errorf("loyalty account after erasure: %+v, before %+v", l, before.Customer.LoyaltyAccount)
	}
	if a := c.CreditAccount; a == nil || a.CreditLimit != "500.00" || a.CreditUsed != "150.00" || a.Outstanding != "150.00" {
		t.Errorf("credit account after erasure: %+v", a)
	}
	var purchases []string
	for _, edge := range c.Purchases.Edges {
		n := edge.Node
		purchases = append(purchases, fmt.Sprintf("%s %s %s %d", n.OrderID, n.Amount, n.RefundedAmount, n.PointsEarned))
	}
	if fmt.Sprint(purchases) != "[erase-order-2 80.00 20.00 80 erase-order-1 150.00 0.00 150]" {
		t.Errorf("purchases after erasure: %v", purchases)
	}

	// In the database, as the owner: the row and its search text hold none of the personal
	// data, the addresses and the segment are gone, the ledger rows are unchanged.
	var row, searchText string
	if err := srv.Owner.QueryRowContext(context.Background(), `SELECT c::text, search_text FROM customers c WHERE customer_id = ?`, e.id).
		Scan(&row, &searchText); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(searchText) != "erased customer" {
		t.Errorf("search_text %q, want the anonymous names only", searchText)
	}
	for _, table := range orgTables(t, srv) {
		text := strings.ToLower(e.rowsOf(t, table))
		for _, personal := range zenobiaData {
			if strings.Contains(text, personal) {
				t.Errorf("after erasure, %s still holds %q", table, personal)
			}
		}
	}
	if n := countRows(t, srv, "SELECT count(*) FROM addresses WHERE customer_id = ?", e.id); n != 0 {
		t.Errorf("%d addresses left", n)
	}
	if n := countRows(t, srv, "SELECT count(*) FROM customer_segments WHERE customer_id = ?", e.id); n != 0 {
		t.Errorf("%d segments left", n)
	}
	for _, table := range ledgerTables {
		if after := e.ledgerOf(t, table); after != ledgerBefore[table] {
			t.Errorf("%s changed:\n%s\n→\n%s", table, ledgerBefore[table], after)
		}
	}
	if !strings.Contains(e.rowsOf(t, "customers"), "Otro") || countRows(t, srv, "SELECT count(*) FROM addresses WHERE customer_id = ?", e.bystander) != 1 {
		t.Error("the other customer of the organization lost its data")
	}

	// Exactly one audit row, naming the changed fields and nothing personal.
	rows := auditRows(t, srv, e.org)
	if len(rows) != auditBefore+1 {
		t.Fatalf("%d audit rows written, want 1", len(rows)-auditBefore)
	}
	a := rows[len(rows)-1]
	details, _ := json.Marshal(a.Details)
	if a.Action != "customer.erase" || a.EntityType != "customer" || a.EntityID == nil || a.EntityID.String() != e.id ||
		a.ActorID != e.admin.User || !slices.Equal(a.ChangedFields, wantErasedFields) ||
		string(details) != eraseDetails {
		t.Errorf("audit row %+v details %s\nwant customer.erase of %s by %s changing %v", a, details, e.id, e.admin.User, wantErasedFields)
	}

	// Lookups: still there by id, not by the old email, phone, document or name.
	var found struct {
		ByID       *struct{ FullName string } `json:"byId"`
		ByEmail    *struct{ ID string }       `json:"byEmail"`
		ByPhone    *struct{ ID string }       `json:"byPhone"`
		ByDocument *struct{ ID string }       `json:"byDocument"`
		ByName     struct{ TotalCount int }   `json:"byName"`
		ByMail     struct{ TotalCount int }   `json:"byMail"`
		ByNumber   struct{ TotalCount int }   `json:"byNumber"`
		ByDoc      struct{ TotalCount int }   `json:"byDoc"`
		All        struct{ TotalCount int }   `json:"all"`
	}
	e.admin.Must(t, `query($id: UUID!) {
		byId: customer(id: $id) { fullName }
		byEmail: customerByEmail(email: "zenobia.erase@example.org") { id }
		byPhone: customerByPhone(phone: "6555-0123") { id }
		byDocument: customerByDocument(documentType: CEDULA, documentNumber: "8-888-1234") { id }
		byName: customers(search: "Zenobia") { totalCount }
		byMail: customers(search: "zenobia.erase") { totalCount }
		byNumber: customers(search: "6555-0123") { totalCount }
		byDoc: customers(search: "8-888-1234") { totalCount }
		all: customers { totalCount }
	}`, map[string]any{"id": e.id}, &found)
	if found.ByID == nil || found.ByID.FullName != "Erased Customer" || found.ByEmail != nil || found.ByPhone != nil ||
		found.ByDocument != nil || found.ByName.TotalCount+found.ByMail.TotalCount+found.ByNumber.TotalCount+found.ByDoc.TotalCount != 0 ||
		found.All.TotalCount != 2 {
		b, _ := json.Marshal(found)
		t.Errorf("lookups after erasure: %s", b)
	}
}

// §7: only an admin erases; any other role is FORBIDDEN and changes nothing.
func TestEraseCustomer_OnlyAdminsMayErase(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	admin := srv.NewOrg(t, auth.Admin)
	id := mustCreateCustomer(t, admin, fullCustomer()).ID
	before := countRows(t, srv, "SELECT count(*) FROM audit_log WHERE organization_id = ?", admin.Org)
	for _, role := range []auth.Role{auth.Viewer, auth.Agent, auth.Manager} {
		r := srv.As(t, admin.Org, role).Do(t, eraseMutation, map[string]any{"id": id})
		if code := r.ErrorCode(t); code != "FORBIDDEN" || string(r.Data) != "null" {
			t.Errorf("%s: code %s data %s, want FORBIDDEN and no data", role, code, r.Data)
		}
	}
	if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE customer_id = ? AND erased_at IS NULL AND first_name = 'Ana'", id); n != 1 {
		t.Fatal("a refused erasure changed the customer")
	}
	if after := countRows(t, srv, "SELECT count(*) FROM audit_log WHERE organization_id = ?", admin.Org); after != before {
		t.Fatalf("refused erasures wrote %d audit rows", after-before)
	}
	if p := erase(t, admin, id); len(p.UserErrors) > 0 || p.Customer == nil || p.Customer.ErasedAt == nil {
		t.Fatalf("admin: %+v", p)
	}
}

// Erasing an erased customer succeeds with the same customer and changes nothing but one
// more audit row, which names no field.
func TestEraseCustomer_TwiceChangesNothingMore(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	e := newErasable(t, srv)
	first := erase(t, e.admin, e.id)
	before := map[string]string{}
	for _, table := range orgTables(t, srv) {
		before[table] = e.rowsOf(t, table)
	}
	second := erase(t, e.admin, e.id)
	if len(second.UserErrors) > 0 || second.Customer == nil {
		t.Fatalf("second erase: %+v", second)
	}
	a, _ := json.Marshal(first.Customer)
	b, _ := json.Marshal(second.Customer)
	if string(a) != string(b) {
		t.Errorf("the second erase answers\n%s\nthe first\n%s", b, a)
	}
	for table, text := range before {
		if table == "audit_log" {
			continue
		}
		if after := e.rowsOf(t, table); after != text {
			t.Errorf("the second erase changed %s", table)
		}
	}
	var erasures []string
	for _, r := range auditRows(t, srv, e.org) {
		if r.Action == "customer.erase" {
			details, _ := json.Marshal(r.Details)
			erasures = append(erasures, fmt.Sprintf("%d fields %s", len(r.ChangedFields), details))
		}
	}
	if want := fmt.Sprintf(`[%d fields %s 0 fields {"already_erased":true}]`, len(wantErasedFields), eraseDetails); fmt.Sprint(erasures) != want {
		t.Errorf("erase audit rows %v, want %s", erasures, want)
	}
}

// §7: another organization's customer is NOT_FOUND, exactly as a missing one, and the
// erasure changes nothing of it nor writes any audit row.
func TestEraseCustomer_AnotherOrganizationsCustomerIsNotFound(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	e := newErasable(t, srv)
	before := map[string]string{}
	for _, table := range orgTables(t, srv) {
		before[table] = e.rowsOf(t, table)
	}
	other := srv.NewOrg(t, auth.Admin)
	foreign := erase(t, other, e.id)
	missing := erase(t, other, uuid.NewString())
	wantUserErrors(t, result{UserErrors: foreign.UserErrors}, userError{Code: "NOT_FOUND", Field: []string{"id"}})
	if foreign.Customer != nil || fmt.Sprint(foreign.UserErrors) != fmt.Sprint(missing.UserErrors) {
		t.Errorf("another organization's customer answers %+v, a missing one %+v", foreign, missing)
	}
	for table, text := range before {
		if after := e.rowsOf(t, table); after != text {
			t.Errorf("another organization's erasure changed %s", table)
		}
	}
	if n := countRows(t, srv, "SELECT count(*) FROM audit_log WHERE organization_id = ?", other.Org); n != 0 {
		t.Errorf("the refused erasures wrote %d audit rows", n)
	}
}

// An erased customer's data is not set again (INVALID_STATE), while its accounts go on:
// a payment of its outstanding credit is recorded, and a recalculation gives it no segment.
func TestEraseCustomer_ErasedCustomerCannotBeChangedButItsAccountsGoOn(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	e := newErasable(t, srv)
	erase(t, e.admin, e.id)
	invalidState := userError{Code: "INVALID_STATE", Field: []string{"id"}}
	wantUserErrors(t, updateCustomer(t, e.admin, e.id, map[string]any{"email": "zenobia.erase@example.org"}), invalidState)
	wantUserErrors(t, mutate(t, e.admin, setStatusMutation, map[string]any{"id": e.id, "status": "ACTIVE"}), invalidState)
	wantUserErrors(t, addAddress(t, e.admin, e.id, calle50()), userError{Code: "INVALID_STATE", Field: []string{"customerId"}})
	if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE customer_id = ? AND email IS NULL AND status = 'blocked'", e.id); n != 1 {
		t.Error("a refused change reached the erased customer")
	}

	id := uuid.MustParse(e.id)
	paid := creditOK(t, creditMutation(t, e.admin, "recordCreditPayment", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "paymentReference": "erase-payment-2", "amount": "25.00"}}))
	if paid.CreditAccount.CreditUsed != "125.00" {
		t.Errorf("credit used after a payment of 25.00: %s, want 125.00", paid.CreditAccount.CreditUsed)
	}
	e.admin.Must(t, `mutation { recalculateSegments { scored userErrors { code } } }`, nil, nil)
	if n := countRows(t, srv, "SELECT count(*) FROM customer_segments WHERE customer_id = ?", e.id); n != 0 {
		t.Errorf("the recalculation gave the erased customer %d segments", n)
	}
}

// An address change that waits for the customer's lock while the customer is being erased
// finds the address gone: NOT_FOUND, as for any missing address, not an internal error.
// The test holds the customer's row lock so that the erasure queues first and the change
// second, then lets them go.
func TestEraseCustomer_AnAddressChangeQueuedBehindTheErasureIsNotFound(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := context.Background()
	admin := srv.NewOrg(t, auth.Admin)
	id := mustCreateCustomer(t, admin, fullCustomer()).ID
	address := mustAddAddress(t, admin, id, calle50()).ID

	hold, err := srv.Owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback() //nolint:errcheck
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM customers WHERE organization_id = ? AND customer_id = ? FOR UPDATE", admin.Org, id); err != nil {
		t.Fatal(err)
	}
	// On Citus the statements wait on the worker that holds the organization's shard: its
	// backends are in citus_stat_activity (every node's), not the coordinator's view.
	activity := "pg_stat_activity"
	if testdb.OnCitus() {
		activity = "citus_stat_activity"
	}
	waitsForLock := func(marker string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if countRows(t, srv, `SELECT count(*) FROM `+activity+` WHERE wait_event_type = 'Lock' AND query LIKE ?`, "%"+marker+"%") > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no statement on %s waits for the lock", marker)
			}
		}
	}
	erased := make(chan erasePayload, 1)
	go func() {
		var out struct{ EraseCustomer erasePayload }
		res := admin.Do(t, eraseMutation, map[string]any{"id": id})
		_ = json.Unmarshal(res.Data, &out)
		erased <- out.EraseCustomer
	}()
	waitsForLock(id)
	changed := make(chan apitest.Response, 1)
	go func() {
		changed <- admin.Do(t, updateAddressMutation, map[string]any{"id": address, "input": map[string]any{"city": "Colón"}})
	}()
	waitsForLock(address)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}

	if p := <-erased; len(p.UserErrors) > 0 || p.Customer == nil || len(p.Customer.Addresses) != 0 {
		t.Fatalf("erase: %+v", p)
	}
	res := <-changed
	var out struct{ UpdateAddress result }
	if len(res.Errors) > 0 || json.Unmarshal(res.Data, &out) != nil {
		t.Fatalf("updateAddress behind the erasure: %s", res.Body)
	}
	wantUserErrors(t, out.UpdateAddress, userError{Code: "NOT_FOUND", Field: []string{"id"}})
}

// §11: an erased customer's consents are revoked, their evidence cleared; it can no longer
// record purchases, earn, redeem or be charged (INVALID_STATE on customerId); a refund of an earlier purchase still goes through, for
// accounting.
func TestEraseCustomer_BlocksLaterActivity(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	admin := srv.NewOrg(t, auth.Admin)
	c := mustCreateCustomer(t, admin, map[string]any{"customerType": "B2B", "firstName": "Ada", "lastName": "Erasure"})
	id := uuid.MustParse(c.ID)
	loyOK(t, admin, "recordPurchase", map[string]any{"customerId": id, "orderId": "before-1", "amount": "100.00"})
	acc := creditOK(t, creditMutation(t, admin, "openCreditAccount", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "creditLimit": "500.00"}})).CreditAccount
	creditOK(t, creditMutation(t, srv.As(t, admin.Org, auth.Manager), "approveCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
	recordConsent(t, admin, true, map[string]any{"customerId": c.ID, "purpose": "PROFILING", "channel": "POS", "evidence": "firma de Ada Erasure"})
	ok(t, mutate(t, admin, `mutation($id: UUID!) { eraseCustomer(id: $id) { customer { `+customerFields+` } userErrors { field message code } } }`,
		map[string]any{"id": c.ID}))
	// Its consents are revoked and their evidence cleared.
	v := consentsOf(t, admin, c.ID, 20, nil)
	if len(v.Customer.Consents) != 1 || summary(v.Customer.Consents[0]) != "PROFILING revoked <nil> <nil>" || v.Customer.ConsentHistory.TotalCount != 2 ||
		summary(v.Customer.ConsentHistory.Nodes[1]) != "PROFILING granted POS <nil>" {
		t.Fatalf("consents after erasure: %+v", v.Customer)
	}

	for mutation, input := range map[string]map[string]any{
		"recordPurchase":   {"customerId": id, "orderId": "after-1", "amount": "10.00"},
		"redeemPoints":     {"customerId": id, "points": 10, "referenceType": "reward", "referenceId": "after-r"},
		"awardBonusPoints": {"customerId": id, "points": 10, "reason": "late", "referenceId": "after-b"},
	} {
		p := loyCall(t, admin, mutation, input)
		if len(p.UserErrors) != 1 || p.UserErrors[0].Code != "INVALID_STATE" || strings.Join(p.UserErrors[0].Field, ".") != "input.customerId" {
			t.Errorf("%s: %+v, want INVALID_STATE on input.customerId", mutation, p.UserErrors)
		}
	}
	charge := creditMutation(t, admin, "chargeCredit", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "orderId": "after-c", "amount": "10.00"}})
	if len(charge.UserErrors) != 1 || charge.UserErrors[0].Code != "INVALID_STATE" || strings.Join(charge.UserErrors[0].Field, ".") != "input.customerId" {
		t.Errorf("chargeCredit: %+v, want INVALID_STATE on input.customerId", charge.UserErrors)
	}
	if n := countRows(t, srv, "SELECT count(*) FROM purchases WHERE customer_id = ?", c.ID); n != 1 {
		t.Errorf("%d purchases, want the one before erasure", n)
	}
	if n := countRows(t, srv, "SELECT count(*) FROM credit_usage WHERE organization_id = ?", admin.Org); n != 0 {
		t.Errorf("%d charges, want none", n)
	}
	loyOK(t, admin, "recordRefund", map[string]any{"orderId": "before-1", "amount": "10.00", "refundId": "after-refund"})
}
