package graph_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §11 exportCustomerData: one versioned JSON document of everything the organization holds
// about a customer, read in one snapshot, audited; its shape held by a golden file.

var updateGolden = flag.Bool("update-export-golden", false, "rewrite testdata/export_v1_shape.golden from the export")

const exportQuery = `query($id: UUID!) { exportCustomerData(customerId: $id) }`

func exportOf(t *testing.T, c *apitest.Client, id string) map[string]any {
	t.Helper()
	var out struct{ ExportCustomerData map[string]any }
	c.Must(t, exportQuery, map[string]any{"id": id}, &out)
	if out.ExportCustomerData == nil {
		t.Fatal("no document")
	}
	return out.ExportCustomerData
}

// exportFixture is a customer with something in every part of the document, built through
// the API: addresses (one removed), purchases and a refund, bonus and redemption, a credit
// account with a charge and a payment, consents, a privacy request, a segment.
func exportFixture(t *testing.T, srv *apitest.Server) (admin *apitest.Client, id string) {
	t.Helper()
	admin = srv.NewOrg(t, auth.Admin)
	approver := srv.As(t, admin.Org, auth.Manager)
	cust := mustCreateCustomer(t, admin, map[string]any{"customerType": "B2B", "firstName": "Isabel", "lastName": "Núñez",
		"email": "isabel@example.com", "phone": "6123-4567", "documentType": "CEDULA", "documentNumber": "8-0123-004567",
		"birthDate": "1985-04-12", "tags": []string{"vip"}, "metadata": map[string]any{"source": "pos"}, "notes": "Prefiere WhatsApp",
		"externalId": "ERP-77"})
	id = cust.ID
	cid := uuid.MustParse(id)
	mustAddAddress(t, admin, id, map[string]any{"addressLine1": "Calle 50", "city": "Panamá", "isDefault": true})
	old := mustAddAddress(t, admin, id, map[string]any{"addressLine1": "Vía España 12", "city": "Panamá"})
	ok(t, mutate(t, admin, removeAddressMutation, map[string]any{"id": old.ID}))

	loyOK(t, admin, "recordPurchase", map[string]any{"customerId": id, "orderId": "ORD-1", "amount": "120.50"})
	loyOK(t, admin, "recordPurchase", map[string]any{"customerId": id, "orderId": "ORD-2", "amount": "80.00"})
	loyOK(t, admin, "recordRefund", map[string]any{"orderId": "ORD-1", "amount": "20.50", "refundId": "RF-1"})
	loyBonus(t, admin, cid, 50)
	loyOK(t, admin, "redeemPoints", map[string]any{"customerId": id, "points": 30, "referenceType": "order", "referenceId": "R-1", "description": "Canje"})

	creditOK(t, creditMutation(t, admin, "openCreditAccount", "input: $input", map[string]any{
		"input": map[string]any{"customerId": id, "creditLimit": "1000.00", "paymentTermDays": 30}}))
	var acc struct {
		Customer struct{ CreditAccount struct{ ID string } }
	}
	admin.Must(t, `query($id: UUID!) { customer(id: $id) { creditAccount { id } } }`, map[string]any{"id": id}, &acc)
	creditOK(t, creditMutation(t, approver, "approveCreditAccount", "id: $id", map[string]any{"id": acc.Customer.CreditAccount.ID}))
	creditOK(t, creditMutation(t, admin, "chargeCredit", "input: $input", map[string]any{"input": map[string]any{"customerId": id, "orderId": "C-1", "amount": "300.00"}}))
	creditOK(t, creditMutation(t, admin, "recordCreditPayment", "input: $input", map[string]any{"input": map[string]any{"customerId": id, "paymentReference": "P-1", "amount": "100.00"}}))

	recordConsent(t, admin, true, map[string]any{"customerId": id, "purpose": "MARKETING_SMS", "channel": "POS", "evidence": "Firmó en caja"})
	recordConsent(t, admin, false, map[string]any{"customerId": id, "purpose": "MARKETING_SMS", "channel": "WEB"})
	if r := recordPrivacyRequest(t, admin, map[string]any{"customerId": id, "type": "ACCESS", "receivedAt": time.Now().Add(-time.Hour).Format(time.RFC3339), "notes": "Por correo"}); r.PrivacyRequest == nil {
		t.Fatalf("privacy request: %+v", r)
	}
	admin.Must(t, `mutation { recalculateSegments { scored } }`, nil, nil)
	return admin, id
}

func TestExportCustomerData_EverySection(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	admin, id := exportFixture(t, srv)
	before := srv.Statements.Count()
	doc := exportOf(t, admin, id)
	// One read (BEGIN, the organization, the document, COMMIT) and one audited write
	// (BEGIN, the organization, the audit row, its live event's pg_notify — DATA_EXPORTED is a
	// timeline kind — COMMIT), whatever the customer's history.
	if n := srv.Statements.Count() - before; n > 9 {
		t.Errorf("the export took %d statements, want at most 9", n)
	}

	want := func(path string, v any) {
		t.Helper()
		if got := lookup(doc, path); fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
	want("version", 1)
	want("organizationId", admin.Org.String())
	want("customer.id", id)
	want("customer.externalId", "ERP-77")
	want("customer.firstName", "Isabel")
	want("customer.email", "isabel@example.com")
	want("customer.phone", "+50761234567")
	want("customer.documentNumber", "8-123-4567")
	want("customer.birthDate", "1985-04-12")
	want("customer.notes", "Prefiere WhatsApp")
	want("customer.customerType", "B2B")
	want("customer.loyaltyAccount.pointsBalance", 120+80-20+50-30)
	want("customer.creditAccount.creditUsed", "200.00")
	want("customer.creditAccount.creditLimit", "1000.00")
	want("customer.segment.totalOrders", 2)
	count := func(path string, n int) {
		t.Helper()
		list, _ := lookup(doc, path).([]any)
		if len(list) != n {
			t.Errorf("%s has %d elements, want %d: %v", path, len(list), n, lookup(doc, path))
		}
	}
	count("customer.addresses", 2) // the removed one too
	count("purchases", 2)
	count("refunds", 1)
	count("loyaltyTransactions", 5) // earn, earn, refund reversal (adjust), bonus, redeem
	count("creditUsages", 1)
	count("creditPayments", 1)
	count("consentHistory", 2)
	count("customer.consents", 1)
	count("privacyRequests", 1)
	// Oldest first, money as text with two decimals, enums upper-case.
	want("purchases.0.orderId", "ORD-1")
	want("purchases.0.amount", "120.50")
	want("purchases.0.refundedAmount", "20.50")
	want("refunds.0.refundId", "RF-1")
	want("refunds.0.orderId", "ORD-1")
	want("refunds.0.amount", "20.50")
	want("loyaltyTransactions.0.type", "EARN")
	want("loyaltyTransactions.4.type", "REDEEM")
	want("loyaltyTransactions.4.description", "Canje")
	want("creditUsages.0.amount", "300.00")
	want("creditUsages.0.amountPaid", "100.00")
	want("creditUsages.0.status", "PENDING")
	want("creditPayments.0.paymentReference", "P-1")
	want("consentHistory.0.granted", true)
	want("consentHistory.0.evidence", "Firmó en caja")
	want("consentHistory.1.granted", false)
	want("privacyRequests.0.type", "ACCESS")
	want("privacyRequests.0.notes", "Por correo")
	lots, _ := lookup(doc, "loyaltyLots").([]any)
	if len(lots) < 3 {
		t.Errorf("loyaltyLots: %v", lots)
	}
	// The audit entries about the customer, oldest first: its creation first, each with an
	// action, and none of another organization or customer.
	entries, _ := lookup(doc, "auditEntries").([]any)
	var actions []string
	for _, e := range entries {
		actions = append(actions, lookup(e, "action").(string))
	}
	for _, a := range []string{"customer.create", "address.add", "address.remove", "loyalty.purchase", "loyalty.refund", "loyalty.bonus",
		"loyalty.redeem", "credit.open", "credit.approve", "credit.charge", "credit.payment", "consent.grant", "consent.revoke", "privacy_request.record"} {
		if !slices.Contains(actions, a) {
			t.Errorf("auditEntries lacks %s: %v", a, actions)
		}
	}
	if len(actions) == 0 || actions[0] != "customer.create" {
		t.Errorf("auditEntries are not oldest first: %v", actions)
	}

	// The export is audited, shows in the audit log and on the timeline.
	if n := auditCount(t, srv, admin.Org, "customer.export"); n != 1 {
		t.Fatalf("%d export audit rows, want 1", n)
	}
	var tl struct {
		Customer struct {
			Timeline struct {
				Nodes []struct{ Kind, Actor, Reference string }
			}
		}
		AuditLog struct {
			Nodes []struct{ Action, EntityID string }
		}
	}
	admin.Must(t, `query($id: UUID!) { customer(id: $id) { timeline(first: 1, kinds: [DATA_EXPORTED]) { nodes { kind actor reference } } }
		auditLog(filter: {action: "customer.export"}) { nodes { action entityId } } }`, map[string]any{"id": id}, &tl)
	if n := tl.Customer.Timeline.Nodes; len(n) != 1 || n[0].Kind != "DATA_EXPORTED" || n[0].Actor != admin.User.String() || n[0].Reference != "1" {
		t.Errorf("timeline: %+v", n)
	}
	if n := tl.AuditLog.Nodes; len(n) != 1 || n[0].EntityID != id {
		t.Errorf("auditLog: %+v", n)
	}
	// A second export holds the first one's audit row.
	again := exportOf(t, admin, id)
	var exported int
	for _, e := range again["auditEntries"].([]any) {
		if lookup(e, "action") == "customer.export" {
			exported++
		}
	}
	if exported != 1 {
		t.Errorf("the second export holds %d export entries, want the first's", exported)
	}

	// The shape: every member's path and JSON type, against the golden file.
	shape := exportShape(doc)
	golden := filepath.Join("testdata", "export_v1_shape.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(shape), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantShape, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if shape != string(wantShape) {
		t.Errorf("the export's shape changed (a change to version 1 must only add members; run with -update-export-golden and review the diff):\n%s", shape)
	}
}

// exportShape is one line per member path of the document ("customer.addresses[].city")
// with the JSON types seen there, sorted. The members of the free-form objects (a
// customer's metadata, an audit entry's details) are not the document's shape.
func exportShape(doc map[string]any) string {
	types := map[string]map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		kind := "null"
		switch x := v.(type) {
		case map[string]any:
			kind = "object"
			if path == "customer.metadata" || path == "auditEntries[].details" {
				break
			}
			for k, e := range x {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			kind = "array"
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			kind = "string"
		case float64:
			kind = "number"
		case bool:
			kind = "boolean"
		}
		if path == "" {
			return
		}
		if types[path] == nil {
			types[path] = map[string]bool{}
		}
		types[path][kind] = true
	}
	walk("", doc)
	var lines []string
	for p, ks := range types {
		var kinds []string
		for k := range ks {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		lines = append(lines, p+": "+strings.Join(kinds, "|"))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// An erased customer's document holds what erasure left: no personal data, no free text of
// the ledgers or of its privacy requests, the amounts kept.
func TestExportCustomerData_ErasedCustomer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	admin, id := exportFixture(t, srv)
	mutate(t, admin, `mutation($id: UUID!) { eraseCustomer(id: $id) { userErrors { code } } }`, map[string]any{"id": id})
	doc := exportOf(t, admin, id)
	for path, v := range map[string]any{
		"customer.firstName": "Erased", "customer.email": nil, "customer.phone": nil, "customer.documentNumber": nil,
		"customer.notes": nil, "customer.externalId": "ERP-77", "customer.segment": nil,
		"purchases.0.amount": "120.50", "consentHistory.0.evidence": nil, "privacyRequests.0.notes": nil,
		"loyaltyTransactions.4.description": nil,
	} {
		if got := lookup(doc, path); fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
	if a, _ := lookup(doc, "customer.addresses").([]any); len(a) != 0 {
		t.Errorf("addresses: %v", a)
	}
	if lookup(doc, "customer.erasedAt") == nil {
		t.Error("erasedAt is null")
	}
	b, _ := json.Marshal(doc)
	for _, pii := range []string{"Isabel", "isabel@example.com", "6123", "Prefiere WhatsApp", "Firmó", "Por correo", "Calle 50"} {
		if strings.Contains(string(b), pii) {
			t.Errorf("the erased customer's export holds %q", pii)
		}
	}
}

// Unknown ids and another organization's customer are NOT_FOUND and write nothing; the
// export is for admins only.
func TestExportCustomerData_NotFoundAndIsolation(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Admin)
	other := srv.NewOrg(t, auth.Admin)
	cust := mustCreateCustomer(t, owner, ana())
	for name, c := range map[string]struct {
		client *apitest.Client
		id     string
	}{"unknown id": {owner, uuid.NewString()}, "another organization": {other, cust.ID}} {
		r := c.client.Do(t, exportQuery, map[string]any{"id": c.id})
		if code := r.ErrorCode(t); code != "NOT_FOUND" || !strings.Contains(string(r.Data), `"exportCustomerData":null`) {
			t.Errorf("%s: %s", name, r.Body)
		}
	}
	if r := owner.Do(t, `{ exportCustomerData(customerId: "not-a-uuid") }`, nil); r.ErrorCode(t) != "BAD_USER_INPUT" {
		t.Errorf("malformed id: %s", r.Body)
	}
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM audit_log WHERE action = 'customer.export' AND organization_id IN (?, ?)", owner.Org, other.Org).
		Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("%d export audit rows (%v), want none", n, err)
	}
	for _, role := range []auth.Role{auth.Viewer, auth.Agent, auth.Manager} {
		if code := srv.As(t, owner.Org, role).Do(t, exportQuery, map[string]any{"id": cust.ID}).ErrorCode(t); code != "FORBIDDEN" {
			t.Errorf("%s: %s", role, code)
		}
	}
	if doc := exportOf(t, owner, cust.ID); lookup(doc, "customer.id") != cust.ID {
		t.Fatalf("the owner's export: %v", doc)
	}
}
