package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/models"
)

// The customer and address mutations of specification §3, through the GraphQL API.

const (
	customerFields = `id customerType firstName lastName fullName email phone documentType documentNumber
		birthDate gender status statusReason preferredLanguage marketingConsent tags metadata notes createdAt updatedAt`
	addressFields = `id customerId addressType recipientName addressLine1 addressLine2 city state postalCode
		country phone isDefault isActive createdAt updatedAt`
	userErrorFields = `userErrors { field message code }`

	createCustomerMutation = `mutation($input: CreateCustomerInput!) {
		createCustomer(input: $input) { customer { ` + customerFields + ` } ` + userErrorFields + ` } }`
	updateCustomerMutation = `mutation($id: UUID!, $input: UpdateCustomerInput!) {
		updateCustomer(id: $id, input: $input) { customer { ` + customerFields + ` } ` + userErrorFields + ` } }`
	setStatusMutation = `mutation($id: UUID!, $status: CustomerStatus!, $reason: String) {
		setCustomerStatus(id: $id, status: $status, reason: $reason) { customer { ` + customerFields + ` } ` + userErrorFields + ` } }`
	addAddressMutation = `mutation($customerId: UUID!, $input: AddAddressInput!) {
		addAddress(customerId: $customerId, input: $input) { address { ` + addressFields + ` } ` + userErrorFields + ` } }`
	updateAddressMutation = `mutation($id: UUID!, $input: UpdateAddressInput!) {
		updateAddress(id: $id, input: $input) { address { ` + addressFields + ` } ` + userErrorFields + ` } }`
	removeAddressMutation = `mutation($id: UUID!) {
		removeAddress(id: $id) { address { ` + addressFields + ` } ` + userErrorFields + ` } }`
	setDefaultAddressMutation = `mutation($id: UUID!) {
		setDefaultAddress(id: $id) { address { ` + addressFields + ` } ` + userErrorFields + ` } }`
)

type userError struct {
	Field   []string
	Message string
	Code    string
}

type customerOut struct {
	ID                string
	CustomerType      string
	FirstName         string
	LastName          string
	FullName          string
	Email             *string
	Phone             *string
	DocumentType      *string
	DocumentNumber    *string
	BirthDate         *string
	Gender            *string
	Status            string
	StatusReason      *string
	PreferredLanguage string
	MarketingConsent  bool
	Tags              []string
	Metadata          map[string]any
	Notes             *string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

type addressOut struct {
	ID            string
	CustomerID    string
	AddressType   string
	RecipientName *string
	AddressLine1  string
	AddressLine2  *string
	City          string
	State         *string
	PostalCode    *string
	Country       string
	Phone         *string
	IsDefault     bool
	IsActive      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// result is the payload of any of the mutations.
type result struct {
	Customer   *customerOut
	Address    *addressOut
	UserErrors []userError
}

// mutate runs a mutation that must not fail at the top level and returns its payload.
func mutate(t *testing.T, c *apitest.Client, query string, vars map[string]any) result {
	t.Helper()
	var data map[string]result
	c.Must(t, query, vars, &data)
	if len(data) != 1 {
		t.Fatalf("want one payload, got %v", data)
	}
	for _, r := range data {
		return r
	}
	panic("unreachable")
}

// ok fails unless the payload has no user errors.
func ok(t *testing.T, r result) result {
	t.Helper()
	if len(r.UserErrors) > 0 || (r.Customer == nil && r.Address == nil) {
		t.Fatalf("want success, got user errors %+v", r.UserErrors)
	}
	return r
}

// wantUserErrors fails unless the payload holds exactly these errors (code and field, in
// order) and no object.
func wantUserErrors(t *testing.T, r result, want ...userError) {
	t.Helper()
	if r.Customer != nil || r.Address != nil {
		t.Errorf("payload object should be null with user errors, got %+v %+v", r.Customer, r.Address)
	}
	if len(r.UserErrors) != len(want) {
		t.Fatalf("user errors = %+v, want %+v", r.UserErrors, want)
	}
	for i, w := range want {
		got := r.UserErrors[i]
		if got.Code != w.Code || !slices.Equal(got.Field, w.Field) || got.Message == "" {
			t.Fatalf("user error %d = %+v, want %s on %v", i, got, w.Code, w.Field)
		}
		if strings.Contains(strings.ToLower(got.Message), "constraint") || strings.Contains(got.Message, "_key") ||
			strings.Contains(strings.ToLower(got.Message), "sql") {
			t.Fatalf("user error leaks internals: %q", got.Message)
		}
	}
}

func invalid(field ...string) userError { return userError{Code: "INVALID", Field: field} }

func createCustomer(t *testing.T, c *apitest.Client, input map[string]any) result {
	t.Helper()
	return mutate(t, c, createCustomerMutation, map[string]any{"input": input})
}

func mustCreateCustomer(t *testing.T, c *apitest.Client, input map[string]any) customerOut {
	t.Helper()
	return *ok(t, createCustomer(t, c, input)).Customer
}

func updateCustomer(t *testing.T, c *apitest.Client, id string, input map[string]any) result {
	t.Helper()
	return mutate(t, c, updateCustomerMutation, map[string]any{"id": id, "input": input})
}

func addAddress(t *testing.T, c *apitest.Client, customerID string, input map[string]any) result {
	t.Helper()
	return mutate(t, c, addAddressMutation, map[string]any{"customerId": customerID, "input": input})
}

func mustAddAddress(t *testing.T, c *apitest.Client, customerID string, input map[string]any) addressOut {
	t.Helper()
	return *ok(t, addAddress(t, c, customerID, input)).Address
}

func ana() map[string]any { return map[string]any{"firstName": "Ana", "lastName": "Pérez"} }

// with returns a copy of base with the fields set.
func with(base map[string]any, kv ...any) map[string]any {
	out := maps.Clone(base)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func calle50() map[string]any { return map[string]any{"addressLine1": "Calle 50", "city": "Panamá"} }

func auditRows(t *testing.T, srv *apitest.Server, org uuid.UUID) []models.AuditEntry {
	t.Helper()
	var rows []models.AuditEntry
	if err := srv.Owner.NewSelect().Model(&rows).Where("organization_id = ?", org).Order("audit_id").
		Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

func lastAudit(t *testing.T, srv *apitest.Server, org uuid.UUID) models.AuditEntry {
	t.Helper()
	rows := auditRows(t, srv, org)
	if len(rows) == 0 {
		t.Fatal("no audit row")
	}
	return rows[len(rows)-1]
}

func countRows(t *testing.T, srv *apitest.Server, query string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.Owner.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// ---- createCustomer ----

func TestCreateCustomer_StoresNormalizedInputWithDefaults(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	got := mustCreateCustomer(t, c, map[string]any{
		"firstName": "  Ana María ", "lastName": " Pérez\t", "email": "  Ana.Perez@Example.COM ",
		"phone": "6123-4567", "documentType": "CEDULA", "documentNumber": " pe-12-345 ",
		"birthDate": "1990-04-17", "gender": " F ", "tags": []string{" vip ", "norte", "vip"},
		"metadata": map[string]any{"source": "pos", "n": 3}, "notes": "  prefers mornings  ",
	})
	want := customerOut{
		ID: got.ID, CustomerType: "B2C", FirstName: "Ana María", LastName: "Pérez", FullName: "Ana María Pérez",
		Email: ptr("ana.perez@example.com"), Phone: ptr("+50761234567"), DocumentType: ptr("CEDULA"),
		DocumentNumber: ptr("PE-12-345"), BirthDate: ptr("1990-04-17"), Gender: ptr("F"), Status: "ACTIVE",
		PreferredLanguage: "es", MarketingConsent: false, Tags: []string{"vip", "norte"},
		Metadata: map[string]any{"source": "pos", "n": float64(3)}, Notes: ptr("prefers mornings"),
		CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt,
	}
	if fmt.Sprintf("%+v", deepStrings(got)) != fmt.Sprintf("%+v", deepStrings(want)) {
		t.Fatalf("customer =\n%+v\nwant\n%+v", deepStrings(got), deepStrings(want))
	}
	if got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("createdAt %v updatedAt %v", got.CreatedAt, got.UpdatedAt)
	}
	// Stored normalized, in the caller's organization.
	var row models.Customer
	if err := srv.Owner.NewSelect().Model(&row).Where("customer_id = ?", got.ID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if row.OrganizationID != c.Org || deref(row.Email) != "ana.perez@example.com" || deref(row.Phone) != "+50761234567" ||
		row.DocumentType == nil || *row.DocumentType != models.DocumentTypeCedula || row.Status != models.CustomerStatusActive {
		t.Fatalf("stored row = %+v", row)
	}
}

// deepStrings renders the pointers of a customer for comparison.
func deepStrings(c customerOut) map[string]string {
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func TestCreateCustomer_NormalizesPhoneToE164(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	for _, tc := range []struct{ in, want string }{
		{"6123-4567", "+50761234567"},
		{"61234567", "+50761234567"},
		{"+507 6123 4567", "+50761234567"},
		{"+507-6123-4567", "+50761234567"},
		{" (+507) 6123.4567 ", "+50761234567"},
		{"223-4567", "+5072234567"}, // a Panamanian landline
		{"+1 202 456 1111", "+12024561111"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c := srv.NewOrg(t, auth.Agent)
			got := mustCreateCustomer(t, c, with(ana(), "phone", tc.in))
			if deref(got.Phone) != tc.want {
				t.Fatalf("phone %q stored as %q, want %q", tc.in, deref(got.Phone), tc.want)
			}
			// The lookup finds it by the same number in another format.
			var out struct{ CustomerByPhone *struct{ ID string } }
			c.Must(t, `query($p: String!) { customerByPhone(phone: $p) { id } }`, map[string]any{"p": tc.want}, &out)
			if out.CustomerByPhone == nil || out.CustomerByPhone.ID != got.ID {
				t.Fatalf("customerByPhone(%q) = %+v", tc.want, out.CustomerByPhone)
			}
		})
	}
}

func TestCreateCustomer_NormalizesEmail(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	for _, tc := range []struct{ in, want string }{
		{"ana@example.com", "ana@example.com"},
		{"  ANA@Example.Com  ", "ana@example.com"},
		{"Ana.Perez+tag@sub.example.com.pa", "ana.perez+tag@sub.example.com.pa"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c := srv.NewOrg(t, auth.Agent)
			if got := mustCreateCustomer(t, c, with(ana(), "email", tc.in)); deref(got.Email) != tc.want {
				t.Fatalf("email %q stored as %q, want %q", tc.in, deref(got.Email), tc.want)
			}
		})
	}
}

// Every rule of §3, each bad value reported as INVALID on its input path.
func TestCreateCustomer_RejectsInvalidFields(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	tags51 := make([]string, 51)
	for i := range tags51 {
		tags51[i] = fmt.Sprintf("t%d", i)
	}
	for _, tc := range []struct {
		name  string
		input map[string]any
		want  userError
	}{
		{"empty first name", with(ana(), "firstName", ""), invalid("input", "firstName")},
		{"blank first name", with(ana(), "firstName", "   "), invalid("input", "firstName")},
		{"first name over 100", with(ana(), "firstName", strings.Repeat("a", 101)), invalid("input", "firstName")},
		{"first name over 100 characters (not bytes)", with(ana(), "firstName", strings.Repeat("ñ", 101)), invalid("input", "firstName")},
		{"empty last name", with(ana(), "lastName", ""), invalid("input", "lastName")},
		{"last name over 100", with(ana(), "lastName", strings.Repeat("b", 101)), invalid("input", "lastName")},
		{"email without at", with(ana(), "email", "ana.example.com"), invalid("input", "email")},
		{"email without domain dot", with(ana(), "email", "ana@example"), invalid("input", "email")},
		{"email with display name", with(ana(), "email", "Ana <ana@example.com>"), invalid("input", "email")},
		{"email with space", with(ana(), "email", "ana perez@example.com"), invalid("input", "email")},
		{"empty email", with(ana(), "email", ""), invalid("input", "email")},
		{"phone too short", with(ana(), "phone", "123"), invalid("input", "phone")},
		{"phone letters", with(ana(), "phone", "call me"), invalid("input", "phone")},
		{"empty phone", with(ana(), "phone", ""), invalid("input", "phone")},
		{"document type without number", with(ana(), "documentType", "CEDULA"), invalid("input", "documentNumber")},
		{"document number without type", with(ana(), "documentNumber", "8-123-456"), invalid("input", "documentType")},
		{"blank document number", with(ana(), "documentType", "RUC", "documentNumber", "  "), invalid("input", "documentNumber")},
		{"document number over 50", with(ana(), "documentType", "OTHER", "documentNumber", strings.Repeat("9", 51)), invalid("input", "documentNumber")},
		{"birth date in the future", with(ana(), "birthDate", tomorrow), invalid("input", "birthDate")},
		{"birth date 1900-01-01", with(ana(), "birthDate", "1900-01-01"), invalid("input", "birthDate")},
		{"birth date before 1900", with(ana(), "birthDate", "1850-06-01"), invalid("input", "birthDate")},
		{"gender over 20", with(ana(), "gender", strings.Repeat("g", 21)), invalid("input", "gender")},
		{"language upper case", with(ana(), "preferredLanguage", "ES"), invalid("input", "preferredLanguage")},
		{"language underscore", with(ana(), "preferredLanguage", "en_US"), invalid("input", "preferredLanguage")},
		{"language one letter", with(ana(), "preferredLanguage", "e"), invalid("input", "preferredLanguage")},
		{"language over 10", with(ana(), "preferredLanguage", "es-419-abcd"), invalid("input", "preferredLanguage")},
		{"language empty", with(ana(), "preferredLanguage", ""), invalid("input", "preferredLanguage")},
		{"more than 50 tags", with(ana(), "tags", tags51), invalid("input", "tags")},
		{"empty tag", with(ana(), "tags", []string{"ok", ""}), invalid("input", "tags", "1")},
		{"blank tag", with(ana(), "tags", []string{"ok", "fine", "  "}), invalid("input", "tags", "2")},
		{"tag over 255", with(ana(), "tags", []string{strings.Repeat("t", 256)}), invalid("input", "tags", "0")},
		{"metadata over 16 KB", with(ana(), "metadata", map[string]any{"blob": strings.Repeat("x", 16*1024)}), invalid("input", "metadata")},
		{"notes over 10000", with(ana(), "notes", strings.Repeat("n", 10_001)), invalid("input", "notes")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := srv.NewOrg(t, auth.Agent)
			wantUserErrors(t, createCustomer(t, c, tc.input), tc.want)
			if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 0 {
				t.Fatalf("%d customers stored", n)
			}
			if rows := auditRows(t, srv, c.Org); len(rows) != 0 {
				t.Fatalf("audit rows %+v for a rejected mutation", rows)
			}
		})
	}
}

func TestCreateCustomer_AcceptsBoundaryValues(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	yesterday := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	tags50 := make([]string, 50)
	for i := range tags50 {
		tags50[i] = fmt.Sprintf("%03d%s", i, strings.Repeat("t", 252))
	}
	// 16 KB exactly when serialized: {"blob":"xxx…"} is 11 bytes of framing.
	meta := map[string]any{"blob": strings.Repeat("x", 16*1024-11)}
	c := srv.NewOrg(t, auth.Agent)
	got := mustCreateCustomer(t, c, map[string]any{
		"customerType": "B2B", "firstName": strings.Repeat("ñ", 100), "lastName": "S.A.",
		"documentType": "OTHER", "documentNumber": strings.Repeat("9", 50), "birthDate": "1900-01-02",
		"gender": strings.Repeat("g", 20), "preferredLanguage": "zh-Hant-TW", "marketingConsent": true,
		"tags": tags50, "metadata": meta, "notes": strings.Repeat("n", 10_000),
	})
	if got.CustomerType != "B2B" || len(got.FirstName) != 200 || len(got.Tags) != 50 || got.PreferredLanguage != "zh-Hant-TW" ||
		!got.MarketingConsent || len(deref(got.Notes)) != 10_000 || deref(got.BirthDate) != "1900-01-02" {
		t.Fatalf("customer = %+v", got)
	}
	got2 := mustCreateCustomer(t, c, with(ana(), "birthDate", yesterday, "preferredLanguage", "en-US"))
	if deref(got2.BirthDate) != yesterday || got2.PreferredLanguage != "en-US" {
		t.Fatalf("customer = %+v", got2)
	}
}

func TestCreateCustomer_ReportsEveryInvalidField(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	r := createCustomer(t, c, map[string]any{
		"firstName": " ", "lastName": "Pérez", "email": "nope", "phone": "12", "documentType": "PASSPORT",
		"birthDate": "1899-01-01", "tags": []string{"a", ""}, "notes": strings.Repeat("n", 10_001),
	})
	wantUserErrors(t, r, invalid("input", "firstName"), invalid("input", "email"), invalid("input", "phone"),
		invalid("input", "documentNumber"), invalid("input", "birthDate"), invalid("input", "tags", "1"), invalid("input", "notes"))
}

// Values the schema's scalars refuse are errors of the request, not user errors or internal ones.
func TestCreateCustomer_RejectsMalformedScalarsAsBadUserInput(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	for name, input := range map[string]map[string]any{
		"metadata array":        with(ana(), "metadata", []int{1, 2}),
		"metadata string":       with(ana(), "metadata", "{}"),
		"birth date format":     with(ana(), "birthDate", "17/04/1990"),
		"birth date impossible": with(ana(), "birthDate", "1990-02-30"),
	} {
		t.Run(name, func(t *testing.T) {
			res := c.Do(t, createCustomerMutation, map[string]any{"input": input})
			if code := res.ErrorCode(t); code != "BAD_USER_INPUT" {
				t.Fatalf("code %s: %s", code, res.Body)
			}
		})
	}
	if strings.Contains(srv.Logs(), "internal error") {
		t.Fatal("malformed input was logged as an internal error")
	}
	if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 0 {
		t.Fatalf("%d customers stored", n)
	}
}

// §3: duplicates within an organization are TAKEN on the field, compared normalized.
func TestCreateCustomer_RejectsDuplicatesInOrg(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	for _, tc := range []struct {
		name        string
		first, dupe map[string]any
		field       string
	}{
		{"email", with(ana(), "email", "ana@example.com"), with(ana(), "email", " ANA@example.COM"), "email"},
		{"phone", with(ana(), "phone", "6123-4567"), with(ana(), "phone", "+507 6123 4567"), "phone"},
		{"document", with(ana(), "documentType", "CEDULA", "documentNumber", "pe-1-2"),
			with(ana(), "documentType", "CEDULA", "documentNumber", " PE-1-2 "), "documentNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := srv.NewOrg(t, auth.Agent)
			mustCreateCustomer(t, c, tc.first)
			wantUserErrors(t, createCustomer(t, c, tc.dupe), userError{Code: "TAKEN", Field: []string{"input", tc.field}})
			if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 1 {
				t.Fatalf("%d customers, want 1", n)
			}
			if rows := auditRows(t, srv, c.Org); len(rows) != 1 {
				t.Fatalf("%d audit rows, want only the first creation's", len(rows))
			}
			if strings.Contains(srv.Logs(), "internal error") {
				t.Fatal("a duplicate was logged as an internal error")
			}
		})
	}
}

func TestCreateCustomer_AllowsSameDocumentNumberOfAnotherType(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	mustCreateCustomer(t, c, with(ana(), "documentType", "CEDULA", "documentNumber", "PE-12-345"))
	mustCreateCustomer(t, c, with(ana(), "documentType", "OTHER", "documentNumber", "PE-12-345"))
}

func TestCreateCustomer_AllowsSameEmailPhoneAndDocumentInAnotherOrg(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	input := with(ana(), "email", "ana@example.com", "phone", "61234567", "documentType", "CEDULA", "documentNumber", "8-1-1")
	a := mustCreateCustomer(t, srv.NewOrg(t, auth.Agent), input)
	b := mustCreateCustomer(t, srv.NewOrg(t, auth.Agent), input)
	if a.ID == b.ID || deref(a.Email) != deref(b.Email) || deref(a.Phone) != deref(b.Phone) {
		t.Fatalf("a %+v b %+v", a, b)
	}
}

// ---- updateCustomer ----

func fullCustomer() map[string]any {
	return map[string]any{
		"firstName": "Ana", "lastName": "Pérez", "email": "ana@example.com", "phone": "61234567",
		"documentType": "CEDULA", "documentNumber": "8-1-1", "birthDate": "1990-04-17", "gender": "F",
		"preferredLanguage": "en", "marketingConsent": true, "tags": []string{"vip"},
		"metadata": map[string]any{"k": "v"}, "notes": "note",
	}
}

func TestUpdateCustomer_OmittedFieldsKeepTheirValue(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	before := mustCreateCustomer(t, c, fullCustomer())
	after := *ok(t, updateCustomer(t, c, before.ID, map[string]any{"firstName": " Ana Lucía "})).Customer
	want := before
	want.FirstName, want.FullName, want.UpdatedAt = "Ana Lucía", "Ana Lucía Pérez", after.UpdatedAt
	if fmt.Sprint(deepStrings(after)) != fmt.Sprint(deepStrings(want)) {
		t.Fatalf("after update\n%v\nwant\n%v", deepStrings(after), deepStrings(want))
	}
	// updated_at is maintained by the database.
	if !after.UpdatedAt.After(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Fatalf("updatedAt %v → %v, createdAt %v → %v", before.UpdatedAt, after.UpdatedAt, before.CreatedAt, after.CreatedAt)
	}
	if a := lastAudit(t, srv, c.Org); a.Action != "customer.update" || !slices.Equal(a.ChangedFields, []string{"first_name"}) {
		t.Fatalf("audit = %+v", a)
	}
}

func TestUpdateCustomer_NullClearsOptionalFields(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	before := mustCreateCustomer(t, c, fullCustomer())
	after := *ok(t, updateCustomer(t, c, before.ID, map[string]any{
		"email": nil, "phone": nil, "documentType": nil, "documentNumber": nil, "birthDate": nil,
		"gender": nil, "notes": nil, "tags": nil, "metadata": nil,
	})).Customer
	if after.Email != nil || after.Phone != nil || after.DocumentType != nil || after.DocumentNumber != nil ||
		after.BirthDate != nil || after.Gender != nil || after.Notes != nil || len(after.Tags) != 0 || len(after.Metadata) != 0 {
		t.Fatalf("not cleared: %+v", after)
	}
	if after.FirstName != "Ana" || after.PreferredLanguage != "en" || !after.MarketingConsent {
		t.Fatalf("omitted fields changed: %+v", after)
	}
	want := []string{"email", "phone", "document_type", "document_number", "birth_date", "gender", "tags", "metadata", "notes"}
	if a := lastAudit(t, srv, c.Org); !slices.Equal(a.ChangedFields, want) {
		t.Fatalf("changed_fields = %v, want %v", a.ChangedFields, want)
	}
}

func TestUpdateCustomer_RejectsNullForRequiredFields(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, fullCustomer())
	for _, field := range []string{"customerType", "firstName", "lastName", "preferredLanguage", "marketingConsent"} {
		t.Run(field, func(t *testing.T) {
			wantUserErrors(t, updateCustomer(t, c, cust.ID, map[string]any{field: nil}), invalid("input", field))
		})
	}
}

func TestUpdateCustomer_ValidatesLikeCreate(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, fullCustomer())
	r := updateCustomer(t, c, cust.ID, map[string]any{
		"firstName": "", "email": "x@", "phone": "1", "birthDate": "2999-01-01", "gender": strings.Repeat("g", 21),
		"preferredLanguage": "english", "tags": []string{" "}, "metadata": map[string]any{"b": strings.Repeat("x", 17_000)},
		"notes": strings.Repeat("n", 10_001),
	})
	wantUserErrors(t, r, invalid("input", "firstName"), invalid("input", "email"), invalid("input", "phone"),
		invalid("input", "birthDate"), invalid("input", "gender"), invalid("input", "preferredLanguage"),
		invalid("input", "tags", "0"), invalid("input", "metadata"), invalid("input", "notes"))
	var out struct{ Customer customerOut }
	c.Must(t, `query($id: UUID!) { customer(id: $id) { `+customerFields+` } }`, map[string]any{"id": cust.ID}, &out)
	if fmt.Sprint(deepStrings(out.Customer)) != fmt.Sprint(deepStrings(cust)) {
		t.Fatalf("a rejected update changed the customer:\n%v\n%v", deepStrings(out.Customer), deepStrings(cust))
	}
}

func TestUpdateCustomer_DocumentTypeAndNumberGoTogether(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, fullCustomer())
	got := ok(t, updateCustomer(t, c, cust.ID, map[string]any{"documentNumber": "8-2-2"})).Customer
	if deref(got.DocumentType) != "CEDULA" || deref(got.DocumentNumber) != "8-2-2" {
		t.Fatalf("number alone: %v %v", deref(got.DocumentType), deref(got.DocumentNumber))
	}
	got = ok(t, updateCustomer(t, c, cust.ID, map[string]any{"documentType": nil})).Customer
	if got.DocumentType != nil || got.DocumentNumber != nil {
		t.Fatalf("null type should clear both: %v %v", deref(got.DocumentType), deref(got.DocumentNumber))
	}
	wantUserErrors(t, updateCustomer(t, c, cust.ID, map[string]any{"documentType": "RUC"}), invalid("input", "documentNumber"))
	wantUserErrors(t, updateCustomer(t, c, cust.ID, map[string]any{"documentNumber": "1"}), invalid("input", "documentType"))
}

func TestUpdateCustomer_RejectsValuesTakenInOrg(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	mustCreateCustomer(t, c, fullCustomer())
	other := mustCreateCustomer(t, c, with(ana(), "email", "other@example.com"))
	for _, tc := range []struct {
		name  string
		input map[string]any
		field string
	}{
		{"email", map[string]any{"email": "ANA@example.com"}, "email"},
		{"phone", map[string]any{"phone": "+507 6123-4567"}, "phone"},
		{"document", map[string]any{"documentType": "CEDULA", "documentNumber": "8-1-1"}, "documentNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantUserErrors(t, updateCustomer(t, c, other.ID, tc.input), userError{Code: "TAKEN", Field: []string{"input", tc.field}})
		})
	}
	if n := len(auditRows(t, srv, c.Org)); n != 2 {
		t.Fatalf("%d audit rows, want the two creations only", n)
	}
}

func TestUpdateCustomer_WithoutChangeWritesNothingButTheAudit(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	before := mustCreateCustomer(t, c, fullCustomer())
	after := *ok(t, updateCustomer(t, c, before.ID, map[string]any{
		"firstName": "Ana", "email": "ANA@example.com", "tags": []string{"vip"}, "metadata": map[string]any{"k": "v"},
	})).Customer
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("updatedAt moved from %v to %v without a change", before.UpdatedAt, after.UpdatedAt)
	}
	if a := lastAudit(t, srv, c.Org); a.Action != "customer.update" || len(a.ChangedFields) != 0 {
		t.Fatalf("audit = %+v", a)
	}
}

// §5: only b2b customers have credit accounts, so one with an account stays b2b.
func TestUpdateCustomer_RejectsB2CForCustomerWithCreditAccount(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, with(ana(), "customerType", "B2B"))
	mustExec(t, srv, `INSERT INTO credit_accounts (organization_id, customer_id, credit_limit) VALUES (?, ?, 1000)`, c.Org, cust.ID)
	wantUserErrors(t, updateCustomer(t, c, cust.ID, map[string]any{"customerType": "B2C"}),
		userError{Code: "INVALID_STATE", Field: []string{"input", "customerType"}})
	plain := mustCreateCustomer(t, c, with(ana(), "customerType", "B2B"))
	if got := ok(t, updateCustomer(t, c, plain.ID, map[string]any{"customerType": "B2C"})).Customer; got.CustomerType != "B2C" {
		t.Fatalf("customerType = %s", got.CustomerType)
	}
}

// ---- setCustomerStatus ----

func TestSetCustomerStatus_RequiresReasonForInactiveAndBlocked(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	for _, tc := range []struct {
		name   string
		vars   map[string]any
		ok     bool
		status string
		reason *string
	}{
		{"inactive without reason", map[string]any{"status": "INACTIVE"}, false, "", nil},
		{"blocked with null reason", map[string]any{"status": "BLOCKED", "reason": nil}, false, "", nil},
		{"blocked with empty reason", map[string]any{"status": "BLOCKED", "reason": ""}, false, "", nil},
		{"blocked with blank reason", map[string]any{"status": "BLOCKED", "reason": "   "}, false, "", nil},
		{"blocked with reason over 500", map[string]any{"status": "BLOCKED", "reason": strings.Repeat("r", 501)}, false, "", nil},
		{"blocked with reason of 500", map[string]any{"status": "BLOCKED", "reason": strings.Repeat("r", 500)}, true, "BLOCKED", ptr(strings.Repeat("r", 500))},
		{"inactive with reason", map[string]any{"status": "INACTIVE", "reason": " moved abroad "}, true, "INACTIVE", ptr("moved abroad")},
		{"active with reason", map[string]any{"status": "ACTIVE", "reason": "back"}, true, "ACTIVE", ptr("back")},
		{"active with reason over 500", map[string]any{"status": "ACTIVE", "reason": strings.Repeat("r", 501)}, false, "", nil},
		{"active without reason clears it", map[string]any{"status": "ACTIVE"}, true, "ACTIVE", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := with(tc.vars, "id", cust.ID)
			r := mutate(t, c, setStatusMutation, vars)
			if !tc.ok {
				wantUserErrors(t, r, invalid("reason"))
				return
			}
			got := ok(t, r).Customer
			if got.Status != tc.status || deref(got.StatusReason) != deref(tc.reason) {
				t.Fatalf("status %s reason %q", got.Status, deref(got.StatusReason))
			}
			var row models.Customer
			if err := srv.Owner.NewSelect().Model(&row).Where("customer_id = ?", cust.ID).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if string(row.Status) != strings.ToLower(tc.status) || deref(row.StatusReason) != deref(tc.reason) {
				t.Fatalf("stored status %s reason %q", row.Status, deref(row.StatusReason))
			}
		})
	}
}

// ---- addresses ----

func TestAddAddress_StoresNormalizedAddressWithDefaults(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	got := mustAddAddress(t, c, cust.ID, map[string]any{
		"addressLine1": "  Calle 50, Edificio Global  ", "addressLine2": "  ", "city": " Panamá ", "phone": "6123-4567",
		"recipientName": " Ana ", "state": " Panamá ", "postalCode": " 0801 ",
	})
	want := addressOut{
		ID: got.ID, CustomerID: cust.ID, AddressType: "SHIPPING", RecipientName: ptr("Ana"),
		AddressLine1: "Calle 50, Edificio Global", City: "Panamá", State: ptr("Panamá"), PostalCode: ptr("0801"),
		Country: "PA", Phone: ptr("+50761234567"), IsDefault: false, IsActive: true,
		CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt,
	}
	if fmt.Sprint(addressStrings(got)) != fmt.Sprint(addressStrings(want)) {
		t.Fatalf("address =\n%v\nwant\n%v", addressStrings(got), addressStrings(want))
	}
	var row models.Address
	if err := srv.Owner.NewSelect().Model(&row).Where("address_id = ?", got.ID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if row.OrganizationID != c.Org || row.CustomerID.String() != cust.ID {
		t.Fatalf("stored row = %+v", row)
	}
}

func addressStrings(a addressOut) string {
	b, _ := json.Marshal(a)
	return string(b)
}

// §3: the country is ISO 3166 alpha-2 or alpha-3, upper-cased; a local phone is read in it.
func TestAddAddress_NormalizesCountryAndReadsPhoneInIt(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	for _, tc := range []struct {
		country, phone         string
		wantCountry, wantPhone string
	}{
		{"pa", "6123-4567", "PA", "+50761234567"},
		{"pan", "6123 4567", "PAN", "+50761234567"},
		{"US", "(202) 456-1111", "US", "+12024561111"},
		{"usa", "202.456.1111", "USA", "+12024561111"},
		{"CR", "+507 6123-4567", "CR", "+50761234567"},
	} {
		t.Run(tc.country, func(t *testing.T) {
			got := mustAddAddress(t, c, cust.ID, with(calle50(), "country", tc.country, "phone", tc.phone))
			if got.Country != tc.wantCountry || deref(got.Phone) != tc.wantPhone {
				t.Fatalf("country %s phone %s, want %s %s", got.Country, deref(got.Phone), tc.wantCountry, tc.wantPhone)
			}
		})
	}
}

func TestAddAddress_RejectsInvalidFields(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	for _, tc := range []struct {
		name  string
		input map[string]any
		want  userError
	}{
		{"empty line 1", with(calle50(), "addressLine1", ""), invalid("input", "addressLine1")},
		{"blank line 1", with(calle50(), "addressLine1", "  "), invalid("input", "addressLine1")},
		{"line 1 over 255", with(calle50(), "addressLine1", strings.Repeat("l", 256)), invalid("input", "addressLine1")},
		{"line 2 over 255", with(calle50(), "addressLine2", strings.Repeat("l", 256)), invalid("input", "addressLine2")},
		{"empty city", with(calle50(), "city", ""), invalid("input", "city")},
		{"city over 100", with(calle50(), "city", strings.Repeat("c", 101)), invalid("input", "city")},
		{"state over 100", with(calle50(), "state", strings.Repeat("s", 101)), invalid("input", "state")},
		{"postal code over 20", with(calle50(), "postalCode", strings.Repeat("9", 21)), invalid("input", "postalCode")},
		{"recipient over 255", with(calle50(), "recipientName", strings.Repeat("r", 256)), invalid("input", "recipientName")},
		{"unknown alpha-2 country", with(calle50(), "country", "XX"), invalid("input", "country")},
		{"unknown alpha-3 country", with(calle50(), "country", "ZZZ"), invalid("input", "country")},
		{"withdrawn country", with(calle50(), "country", "YU"), invalid("input", "country")},
		{"country of one letter", with(calle50(), "country", "P"), invalid("input", "country")},
		{"country of four letters", with(calle50(), "country", "PANA"), invalid("input", "country")},
		{"country name", with(calle50(), "country", "Panama"), invalid("input", "country")},
		{"empty country", with(calle50(), "country", ""), invalid("input", "country")},
		{"bad phone", with(calle50(), "phone", "12"), invalid("input", "phone")},
		{"local phone of another country", with(calle50(), "country", "US", "phone", "6123-4567"), invalid("input", "phone")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantUserErrors(t, addAddress(t, c, cust.ID, tc.input), tc.want)
		})
	}
	if n := countRows(t, srv, "SELECT count(*) FROM addresses WHERE organization_id = ?", c.Org); n != 0 {
		t.Fatalf("%d addresses stored", n)
	}
}

func TestAddAddress_ReportsEveryInvalidField(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	r := addAddress(t, c, cust.ID, map[string]any{
		"addressLine1": "", "city": "", "postalCode": strings.Repeat("9", 21), "country": "XX", "phone": "1",
	})
	wantUserErrors(t, r, invalid("input", "addressLine1"), invalid("input", "city"), invalid("input", "postalCode"),
		invalid("input", "country"), invalid("input", "phone"))
}

// defaults reads which of the customer's addresses are defaults, as the API shows them.
type defaultsView struct {
	Addresses []struct {
		ID        string
		IsDefault bool
	}
	DefaultShippingAddress *struct{ ID string }
	DefaultBillingAddress  *struct{ ID string }
}

func defaults(t *testing.T, c *apitest.Client, customerID string) (shipping, billing string, flagged []string) {
	t.Helper()
	var out struct{ Customer defaultsView }
	c.Must(t, `query($id: UUID!) { customer(id: $id) { addresses(includeInactive: true) { id isDefault }
		defaultShippingAddress { id } defaultBillingAddress { id } } }`, map[string]any{"id": customerID}, &out)
	v := out.Customer
	if v.DefaultShippingAddress != nil {
		shipping = v.DefaultShippingAddress.ID
	}
	if v.DefaultBillingAddress != nil {
		billing = v.DefaultBillingAddress.ID
	}
	for _, a := range v.Addresses {
		if a.IsDefault {
			flagged = append(flagged, a.ID)
		}
	}
	slices.Sort(flagged)
	return shipping, billing, flagged
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestAddAddress_AsDefaultReplacesPreviousDefaultOfItsType(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	a := mustAddAddress(t, c, cust.ID, with(calle50(), "isDefault", true))
	b := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BILLING", "isDefault", true))
	ship, bill, flagged := defaults(t, c, cust.ID)
	if ship != a.ID || bill != b.ID || !slices.Equal(flagged, sorted(a.ID, b.ID)) {
		t.Fatalf("shipping %s billing %s flagged %v", ship, bill, flagged)
	}
	a2 := mustAddAddress(t, c, cust.ID, with(calle50(), "isDefault", true))
	ship, bill, flagged = defaults(t, c, cust.ID)
	if !a2.IsDefault || ship != a2.ID || bill != b.ID || !slices.Equal(flagged, sorted(a2.ID, b.ID)) {
		t.Fatalf("shipping %s billing %s flagged %v; want %s %s", ship, bill, flagged, a2.ID, b.ID)
	}
	audit := lastAudit(t, srv, c.Org)
	if audit.Action != "address.add" || !slices.Equal(audit.ChangedFields, []string{"address_line1", "city", "is_default"}) ||
		fmt.Sprint(audit.Details["replaced_default_ids"]) != fmt.Sprint([]any{a.ID}) {
		t.Fatalf("audit = %+v", audit)
	}
	// Not as default: the default stays.
	mustAddAddress(t, c, cust.ID, calle50())
	if ship, _, _ = defaults(t, c, cust.ID); ship != a2.ID {
		t.Fatalf("shipping default %s, want %s", ship, a2.ID)
	}
}

// 'both' counts as shipping and as billing (§3).
func TestSetDefaultAddress_ReplacesDefaultsOfEveryTypeItServes(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	setDefault := func(id string) addressOut {
		return *ok(t, mutate(t, c, setDefaultAddressMutation, map[string]any{"id": id})).Address
	}
	cust := mustCreateCustomer(t, c, ana())
	ship := mustAddAddress(t, c, cust.ID, with(calle50(), "isDefault", true))
	bill := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BILLING", "isDefault", true))
	both := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BOTH"))
	ship2 := mustAddAddress(t, c, cust.ID, calle50())

	if got := setDefault(both.ID); !got.IsDefault {
		t.Fatalf("both = %+v", got)
	}
	s, b, flagged := defaults(t, c, cust.ID)
	if s != both.ID || b != both.ID || !slices.Equal(flagged, []string{both.ID}) {
		t.Fatalf("after both: shipping %s billing %s flagged %v", s, b, flagged)
	}
	if a := lastAudit(t, srv, c.Org); a.Action != "address.set_default" || a.EntityID.String() != both.ID ||
		!slices.Equal(a.ChangedFields, []string{"is_default"}) ||
		fmt.Sprint(a.Details["replaced_default_ids"]) != fmt.Sprint(anys(sorted(ship.ID, bill.ID))) {
		t.Fatalf("audit = %+v", a)
	}

	// A shipping default replaces 'both', which leaves billing without a default.
	setDefault(ship2.ID)
	s, b, flagged = defaults(t, c, cust.ID)
	if s != ship2.ID || b != "" || !slices.Equal(flagged, []string{ship2.ID}) {
		t.Fatalf("after shipping: shipping %s billing %s flagged %v", s, b, flagged)
	}

	// A billing default keeps the shipping one.
	setDefault(bill.ID)
	s, b, flagged = defaults(t, c, cust.ID)
	if s != ship2.ID || b != bill.ID || !slices.Equal(flagged, sorted(ship2.ID, bill.ID)) {
		t.Fatalf("after billing: shipping %s billing %s flagged %v", s, b, flagged)
	}

	// Setting the default again changes nothing.
	setDefault(bill.ID)
	if a := lastAudit(t, srv, c.Org); a.Action != "address.set_default" || len(a.ChangedFields) != 0 {
		t.Fatalf("audit = %+v", a)
	}
	if s2, b2, f2 := defaults(t, c, cust.ID); s2 != s || b2 != b || !slices.Equal(f2, flagged) {
		t.Fatalf("repeat changed defaults: %s %s %v", s2, b2, f2)
	}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// The partial unique indexes hold the rule even for writes that bypass the service.
func TestAddresses_DatabaseRejectsASecondDefaultOfAType(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	for _, tc := range []struct {
		name           string
		first, second  models.AddressType
		firstActive    bool
		wantConstraint string // "" when allowed
	}{
		{"shipping twice", "shipping", "shipping", true, "addresses_one_default_shipping"},
		{"billing twice", "billing", "billing", true, "addresses_one_default_billing"},
		{"both then shipping", "both", "shipping", true, "addresses_one_default_shipping"},
		{"both then billing", "both", "billing", true, "addresses_one_default_billing"},
		{"billing then both", "billing", "both", true, "addresses_one_default_billing"},
		{"both twice", "both", "both", true, "addresses_one_default_"},
		{"shipping then billing", "shipping", "billing", true, ""},
		{"inactive shipping then shipping", "shipping", "shipping", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cust := uuid.New()
			mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name) VALUES (?, ?, 'Ana', 'Pérez')`, cust, org)
			mustExec(t, srv, `INSERT INTO addresses (organization_id, customer_id, address_type, address_line1, city, is_default, is_active)
				VALUES (?, ?, ?, 'Calle 50', 'Panamá', true, ?)`, org, cust, tc.first, tc.firstActive)
			_, err := srv.Owner.NewRaw(`INSERT INTO addresses (organization_id, customer_id, address_type, address_line1, city, is_default)
				VALUES (?, ?, ?, 'Calle 51', 'Panamá', true)`, org, cust, tc.second).Exec(context.Background())
			constraint, unique := db.IsUniqueViolation(err)
			switch {
			case tc.wantConstraint == "" && err != nil:
				t.Fatalf("want the second default allowed, got %v", err)
			case tc.wantConstraint != "" && (!unique || !strings.HasPrefix(constraint, tc.wantConstraint)):
				t.Fatalf("want a unique violation of %s, got %v", tc.wantConstraint, err)
			}
		})
	}
}

// Concurrent default changes of one customer queue on its row: none fails, one default wins.
func TestSetDefaultAddress_ConcurrentCallsLeaveOneDefault(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	var ids []string
	for i := range 8 {
		typ := []string{"SHIPPING", "BOTH"}[i%2]
		ids = append(ids, mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", typ)).ID)
	}
	responses := make([]apitest.Response, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { responses[i] = c.Do(t, setDefaultAddressMutation, map[string]any{"id": id}) })
	}
	wg.Wait()
	for _, res := range responses {
		var data map[string]result
		if len(res.Errors) > 0 || json.Unmarshal(res.Data, &data) != nil || len(data["setDefaultAddress"].UserErrors) > 0 {
			t.Fatalf("setDefaultAddress failed: %s", res.Body)
		}
	}
	if n := countRows(t, srv, "SELECT count(*) FROM addresses WHERE customer_id = ? AND is_default", cust.ID); n != 1 {
		t.Fatalf("%d defaults, want 1", n)
	}
}

func TestSetDefaultAddress_RejectsRemovedAddress(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	a := mustAddAddress(t, c, cust.ID, calle50())
	ok(t, mutate(t, c, removeAddressMutation, map[string]any{"id": a.ID}))
	wantUserErrors(t, mutate(t, c, setDefaultAddressMutation, map[string]any{"id": a.ID}),
		userError{Code: "INVALID_STATE", Field: []string{"id"}})
	if _, _, flagged := defaults(t, c, cust.ID); len(flagged) != 0 {
		t.Fatalf("defaults %v", flagged)
	}
}

func TestRemoveAddress_DeactivatesAndClearsDefault(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	a := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BOTH", "isDefault", true))
	keep := mustAddAddress(t, c, cust.ID, calle50())
	got := *ok(t, mutate(t, c, removeAddressMutation, map[string]any{"id": a.ID})).Address
	if got.IsActive || got.IsDefault || !got.UpdatedAt.After(a.UpdatedAt) {
		t.Fatalf("removed address = %+v", got)
	}
	if audit := lastAudit(t, srv, c.Org); audit.Action != "address.remove" ||
		!slices.Equal(audit.ChangedFields, []string{"is_active", "is_default"}) {
		t.Fatalf("audit = %+v", audit)
	}
	ship, bill, flagged := defaults(t, c, cust.ID)
	if ship != "" || bill != "" || len(flagged) != 0 {
		t.Fatalf("defaults after removal: %s %s %v", ship, bill, flagged)
	}
	var out struct {
		Customer struct {
			Active []struct{ ID string } `json:"active"`
			All    []struct{ ID string } `json:"all"`
		}
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { active: addresses { id } all: addresses(includeInactive: true) { id } } }`,
		map[string]any{"id": cust.ID}, &out)
	if len(out.Customer.Active) != 1 || out.Customer.Active[0].ID != keep.ID || len(out.Customer.All) != 2 {
		t.Fatalf("addresses = %+v", out.Customer)
	}
	// Removing it again changes nothing.
	ok(t, mutate(t, c, removeAddressMutation, map[string]any{"id": a.ID}))
	if audit := lastAudit(t, srv, c.Org); audit.Action != "address.remove" || len(audit.ChangedFields) != 0 {
		t.Fatalf("audit = %+v", audit)
	}
}

func TestUpdateAddress_OmittedKeepsAndNullClears(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	a := mustAddAddress(t, c, cust.ID, map[string]any{
		"addressLine1": "Calle 50", "addressLine2": "Piso 3", "city": "Panamá", "state": "Panamá",
		"postalCode": "0801", "recipientName": "Ana", "phone": "61234567", "isDefault": true,
	})
	got := *ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{"city": " David "}})).Address
	want := a
	want.City, want.UpdatedAt = "David", got.UpdatedAt
	if addressStrings(got) != addressStrings(want) || !got.UpdatedAt.After(a.UpdatedAt) {
		t.Fatalf("after city update\n%s\nwant\n%s", addressStrings(got), addressStrings(want))
	}
	got = *ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{
		"addressLine2": nil, "state": nil, "postalCode": nil, "recipientName": nil, "phone": nil,
	}})).Address
	if got.AddressLine2 != nil || got.State != nil || got.PostalCode != nil || got.RecipientName != nil || got.Phone != nil ||
		got.City != "David" || got.AddressLine1 != "Calle 50" || !got.IsDefault {
		t.Fatalf("after clearing: %s", addressStrings(got))
	}
	if audit := lastAudit(t, srv, c.Org); audit.Action != "address.update" ||
		!slices.Equal(audit.ChangedFields, []string{"recipient_name", "address_line2", "state", "postal_code", "phone"}) {
		t.Fatalf("audit = %+v", audit)
	}
	for _, field := range []string{"addressType", "addressLine1", "city", "country"} {
		t.Run("null "+field, func(t *testing.T) {
			wantUserErrors(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{field: nil}}),
				invalid("input", field))
		})
	}
	wantUserErrors(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{
		"addressLine1": " ", "country": "XYZ", "postalCode": strings.Repeat("9", 21),
	}}), invalid("input", "addressLine1"), invalid("input", "postalCode"), invalid("input", "country"))
}

func TestUpdateAddress_ReadsPhoneInTheNewCountry(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	a := mustAddAddress(t, c, cust.ID, calle50())
	got := *ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{
		"country": "usa", "phone": "202-456-1111",
	}})).Address
	if got.Country != "USA" || deref(got.Phone) != "+12024561111" {
		t.Fatalf("country %s phone %s", got.Country, deref(got.Phone))
	}
	// The stored country is the region of a later phone.
	got = *ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{"phone": "(212) 736-5000"}})).Address
	if deref(got.Phone) != "+12127365000" {
		t.Fatalf("phone %s", deref(got.Phone))
	}
}

func TestUpdateAddress_TypeChangeOfADefaultReplacesTheOtherDefault(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())
	ship := mustAddAddress(t, c, cust.ID, with(calle50(), "isDefault", true))
	bill := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BILLING", "isDefault", true))
	got := *ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": ship.ID, "input": map[string]any{"addressType": "BOTH"}})).Address
	if got.AddressType != "BOTH" || !got.IsDefault {
		t.Fatalf("address = %+v", got)
	}
	s, b, flagged := defaults(t, c, cust.ID)
	if s != ship.ID || b != ship.ID || !slices.Equal(flagged, []string{ship.ID}) {
		t.Fatalf("shipping %s billing %s flagged %v (billing was %s)", s, b, flagged, bill.ID)
	}
}

// ---- tenancy, roles, audit ----

// Another organization's customer or address is indistinguishable from a missing one (§7).
func TestMutations_ReturnNotFoundForAnotherOrgsRecords(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, owner, fullCustomer())
	addr := mustAddAddress(t, owner, cust.ID, with(calle50(), "isDefault", true))
	other := srv.NewOrg(t, auth.Admin)
	for _, tc := range []struct {
		name  string
		query string
		vars  func(customerID, addressID string) map[string]any
		field string
	}{
		{"updateCustomer", updateCustomerMutation, func(cid, _ string) map[string]any {
			return map[string]any{"id": cid, "input": map[string]any{"firstName": "Eve"}}
		}, "id"},
		{"setCustomerStatus", setStatusMutation, func(cid, _ string) map[string]any {
			return map[string]any{"id": cid, "status": "BLOCKED", "reason": "fraud"}
		}, "id"},
		{"addAddress", addAddressMutation, func(cid, _ string) map[string]any {
			return map[string]any{"customerId": cid, "input": with(calle50(), "isDefault", true)}
		}, "customerId"},
		{"updateAddress", updateAddressMutation, func(_, aid string) map[string]any {
			return map[string]any{"id": aid, "input": map[string]any{"city": "David"}}
		}, "id"},
		{"removeAddress", removeAddressMutation, func(_, aid string) map[string]any { return map[string]any{"id": aid} }, "id"},
		{"setDefaultAddress", setDefaultAddressMutation, func(_, aid string) map[string]any { return map[string]any{"id": aid} }, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			foreign := mutate(t, other, tc.query, tc.vars(cust.ID, addr.ID))
			wantUserErrors(t, foreign, userError{Code: "NOT_FOUND", Field: []string{tc.field}})
			missing := mutate(t, other, tc.query, tc.vars(uuid.NewString(), uuid.NewString()))
			if fmt.Sprint(foreign.UserErrors) != fmt.Sprint(missing.UserErrors) {
				t.Fatalf("another org's record %+v differs from a missing one %+v", foreign.UserErrors, missing.UserErrors)
			}
		})
	}
	// Nothing of the owner's changed, and the other organization left no audit.
	var out struct {
		Customer struct {
			FirstName string
			Status    string
			Addresses []addressOut
		}
	}
	owner.Must(t, `query($id: UUID!) { customer(id: $id) { firstName status addresses(includeInactive: true) { `+addressFields+` } } }`,
		map[string]any{"id": cust.ID}, &out)
	if out.Customer.FirstName != "Ana" || out.Customer.Status != "ACTIVE" || len(out.Customer.Addresses) != 1 ||
		addressStrings(out.Customer.Addresses[0]) != addressStrings(addr) {
		t.Fatalf("owner's data changed: %+v", out.Customer)
	}
	if rows := auditRows(t, srv, other.Org); len(rows) != 0 {
		t.Fatalf("audit rows %+v", rows)
	}
}

// §7: viewers read; writing customers and addresses takes the agent role.
func TestMutations_ForbiddenForViewer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, agent, ana())
	addr := mustAddAddress(t, agent, cust.ID, calle50())
	viewer := srv.As(t, agent.Org, auth.Viewer)
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"createCustomer", createCustomerMutation, map[string]any{"input": ana()}},
		{"updateCustomer", updateCustomerMutation, map[string]any{"id": cust.ID, "input": map[string]any{"firstName": "Eve"}}},
		{"setCustomerStatus", setStatusMutation, map[string]any{"id": cust.ID, "status": "BLOCKED", "reason": "x"}},
		{"addAddress", addAddressMutation, map[string]any{"customerId": cust.ID, "input": calle50()}},
		{"updateAddress", updateAddressMutation, map[string]any{"id": addr.ID, "input": map[string]any{"city": "David"}}},
		{"removeAddress", removeAddressMutation, map[string]any{"id": addr.ID}},
		{"setDefaultAddress", setDefaultAddressMutation, map[string]any{"id": addr.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := viewer.Do(t, tc.query, tc.vars)
			if code := res.ErrorCode(t); code != "FORBIDDEN" || string(res.Data) != "null" {
				t.Fatalf("code %s data %s", code, res.Data)
			}
		})
	}
	if rows := auditRows(t, srv, agent.Org); len(rows) != 2 {
		t.Fatalf("%d audit rows, want the agent's two", len(rows))
	}
	if n := countRows(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ? AND first_name = 'Ana' AND status = 'active'", agent.Org); n != 1 {
		t.Fatalf("%d customers", n)
	}
}

// §8: every mutation writes one audit_log row in its transaction: actor, action, entity,
// changed column names, and no personal values.
func TestMutations_WriteOneAuditRowEach(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, with(ana(), "email", "ana@example.com", "phone", "61234567"))
	ok(t, updateCustomer(t, c, cust.ID, map[string]any{"lastName": "Gómez", "email": nil}))
	ok(t, mutate(t, c, setStatusMutation, map[string]any{"id": cust.ID, "status": "BLOCKED", "reason": "chargeback fraud"}))
	a := mustAddAddress(t, c, cust.ID, with(calle50(), "addressType", "BILLING", "phone", "61234567"))
	ok(t, mutate(t, c, updateAddressMutation, map[string]any{"id": a.ID, "input": map[string]any{"postalCode": "Zona 0801"}}))
	ok(t, mutate(t, c, setDefaultAddressMutation, map[string]any{"id": a.ID}))
	ok(t, mutate(t, c, removeAddressMutation, map[string]any{"id": a.ID}))

	type row struct {
		action, entityType, entityID string
		changed                      []string
	}
	want := []row{
		{"customer.create", "customer", cust.ID, []string{"first_name", "last_name", "email", "phone"}},
		{"customer.update", "customer", cust.ID, []string{"last_name", "email"}},
		{"customer.set_status", "customer", cust.ID, []string{"status", "status_reason"}},
		{"address.add", "address", a.ID, []string{"address_type", "address_line1", "city", "phone"}},
		{"address.update", "address", a.ID, []string{"postal_code"}},
		{"address.set_default", "address", a.ID, []string{"is_default"}},
		{"address.remove", "address", a.ID, []string{"is_active", "is_default"}},
	}
	rows := auditRows(t, srv, c.Org)
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Action != w.action || r.EntityType != w.entityType || r.EntityID == nil || r.EntityID.String() != w.entityID ||
			r.ActorID != c.User || r.OrganizationID != c.Org || !slices.Equal(r.ChangedFields, w.changed) {
			t.Errorf("audit row %d = %+v, want %+v by %s", i, r, w, c.User)
		}
		details, _ := json.Marshal(r.Details)
		for _, personal := range []string{"Ana", "Gómez", "ana@example.com", "+50761234567", "chargeback", "Calle", "Zona"} {
			if strings.Contains(string(details), personal) {
				t.Errorf("audit row %d details %s carry personal data %q", i, details, personal)
			}
		}
	}
	if st := rows[2].Details; st["from"] != "active" || st["to"] != "blocked" {
		t.Errorf("set_status details = %v", st)
	}
	if d := rows[3].Details; d["customer_id"] != cust.ID {
		t.Errorf("address details = %v", d)
	}
	if strings.Contains(srv.Logs(), "ana@example.com") || strings.Contains(srv.Logs(), "61234567") {
		t.Error("personal data in the server log")
	}
}

// An organization's first customer registers it (the jobs visit the registered
// organizations): in the creation's transaction, so a creation that fails registers nothing;
// once registered by a server, its later creations send no statement more.
func TestCreateCustomer_RegistersItsOrganizationOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	registered := func() int {
		t.Helper()
		var n int
		if err := srv.Owner.NewRaw("SELECT count(*) FROM organizations WHERE id = ?", c.Org).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := registered(); n != 0 {
		t.Fatalf("a new organization is registered already (%d)", n)
	}
	// A customer inserted behind the service's back (as before the registry), then a creation
	// that fails (the email is taken): rolled back, registration included.
	mustExec(t, srv, `INSERT INTO customers (organization_id, first_name, last_name, email) VALUES (?, 'Ana', 'Pérez', 'ana@example.com')`, c.Org)
	wantUserErrors(t, createCustomer(t, c, map[string]any{"firstName": "Eva", "lastName": "Ríos", "email": "ana@example.com"}),
		userError{Code: "TAKEN", Field: []string{"input", "email"}})
	if n := registered(); n != 0 {
		t.Fatalf("a failed creation registered the organization (%d)", n)
	}
	statements := func(input map[string]any) int64 {
		t.Helper()
		before := srv.Statements.Count()
		mustCreateCustomer(t, c, input)
		return srv.Statements.Count() - before
	}
	first := statements(map[string]any{"firstName": "Eva", "lastName": "Ríos"})
	if n := registered(); n != 1 {
		t.Fatalf("after the first creation the organization is registered %d times, want once", n)
	}
	second := statements(map[string]any{"firstName": "Luis", "lastName": "Mora"})
	if first != second+2 {
		t.Fatalf("statements: first creation %d, second %d; want two more for the first (look up, register)", first, second)
	}
	if n := registered(); n != 1 {
		t.Fatalf("after the second creation: registered %d times", n)
	}
	orgs, err := db.Organizations(context.Background(), srv.App)
	if err != nil || !slices.Contains(orgs, c.Org.String()) {
		t.Fatalf("the jobs' organizations %v (%v) lack %s", orgs, err, c.Org)
	}
	// Another server (as after a restart) looks the organization up once and, finding it,
	// inserts nothing into the registry (on Citus an insert locks it on every node).
	restarted := apitest.New(t)
	var inserts atomic.Int32
	restarted.Statements.Watch(func(sql string) {
		if strings.Contains(sql, "INSERT INTO organizations") {
			inserts.Add(1)
		}
	})
	defer restarted.Statements.Watch(nil)
	again := restarted.As(t, c.Org, auth.Agent)
	before := restarted.Statements.Count()
	mustCreateCustomer(t, again, map[string]any{"firstName": "Sol", "lastName": "Vega"})
	if n, sent := inserts.Load(), restarted.Statements.Count()-before; n != 0 || sent != second+1 {
		t.Fatalf("after a restart: %d inserts into the registry, %d statements; want none and %d (one look-up more)", n, sent, second+1)
	}
	if n := registered(); n != 1 {
		t.Fatalf("after the restart's creation: registered %d times", n)
	}
}
