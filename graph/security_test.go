package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/seed"
)

// leastRole is §7 for every operation: the least role that may call it. A field of the
// schema missing here, or a name here the schema lacks, fails TestSecurity_EveryOperation:
// a new operation must be given its role.
var leastRole = map[string]auth.Role{
	"Query.me": auth.Viewer, "Query.customer": auth.Viewer, "Query.customerByEmail": auth.Viewer,
	"Query.customerByPhone": auth.Viewer, "Query.customerByDocument": auth.Viewer,
	"Query.customers": auth.Viewer, "Query.customerStats": auth.Viewer, "Query.loyaltyProgram": auth.Viewer,
	"Query.scheduledJobs": auth.Manager, "Query.creditPolicy": auth.Viewer, "Query.creditCheck": auth.Agent,
	"Query.auditLog":      auth.Manager,
	"Query.savedSegments": auth.Viewer, "Query.savedSegment": auth.Viewer,
	"Query.dataQualityIssues": auth.Viewer, "Query.duplicateCandidates": auth.Viewer,

	// agent: customers and addresses, purchases, refunds, redemptions, bonuses, charges, payments
	"Mutation.createCustomer": auth.Agent, "Mutation.updateCustomer": auth.Agent,
	"Mutation.setCustomerStatus": auth.Agent, "Mutation.addAddress": auth.Agent,
	"Mutation.updateAddress": auth.Agent, "Mutation.removeAddress": auth.Agent,
	"Mutation.setDefaultAddress": auth.Agent, "Mutation.enrollLoyalty": auth.Agent,
	"Mutation.recordPurchase": auth.Agent, "Mutation.recordRefund": auth.Agent,
	"Mutation.redeemPoints": auth.Agent, "Mutation.awardBonusPoints": auth.Agent,
	"Mutation.chargeCredit": auth.Agent, "Mutation.recordCreditPayment": auth.Agent,
	"Mutation.cancelCreditUsage": auth.Agent,
	"Mutation.grantConsent":      auth.Agent, "Mutation.revokeConsent": auth.Agent,

	// manager: points adjustments, the credit lifecycle and limits, segment recalculation
	"Mutation.adjustPoints": auth.Manager, "Mutation.openCreditAccount": auth.Manager,
	"Mutation.approveCreditAccount": auth.Manager, "Mutation.suspendCreditAccount": auth.Manager,
	"Mutation.reinstateCreditAccount": auth.Manager, "Mutation.cancelCreditAccount": auth.Manager,
	"Mutation.updateCreditLimit": auth.Manager, "Mutation.recalculateSegments": auth.Manager,
	"Mutation.approveCreditLimit": auth.Manager,
	"Mutation.createSavedSegment": auth.Manager, "Mutation.updateSavedSegment": auth.Manager,
	"Mutation.deleteSavedSegment": auth.Manager,
	"Query.previewCustomerMerge":  auth.Manager, "Mutation.mergeCustomers": auth.Manager,

	// admin: the loyalty program, erasure
	"Mutation.updateLoyaltyProgram": auth.Admin, "Mutation.eraseCustomer": auth.Admin,
	"Mutation.updateCreditPolicy": auth.Admin,
}

// explicitDocuments are operations whose arguments the generator below cannot build from
// their types (none yet): "Type.field" → a whole document.
var explicitDocuments = map[string]string{}

var allRoles = []auth.Role{auth.Viewer, auth.Agent, auth.Manager, auth.Admin}

// §7: a token of another organization sees none of the owner's data through any operation
// and changes none of it; no token is 401; each role may call exactly its operations.
func TestSecurity_EveryOperation(t *testing.T) {
	t.Parallel()
	everyOperationIsIsolated(t, apitest.New(t))
}

// everyOperationIsIsolated is the scenario on srv (also run through PgBouncer).
func everyOperationIsIsolated(t *testing.T, srv *apitest.Server) {
	ctx := context.Background()
	owner := srv.NewOrg(t, auth.Admin)
	if _, err := seed.Customers(ctx, srv.App, seed.Options{Org: owner.Org, Customers: 60, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	fx := newSecurityFixture(t, srv, owner.Org)
	ops := discoverOperations(t, owner)

	// Each operation has a role and a document.
	docs := map[string]string{}
	for _, op := range ops {
		if _, ok := leastRole[op.key]; !ok {
			t.Errorf("%s has no role in leastRole (security_test.go): add the role §7 gives it", op.key)
		}
		if doc, ok := explicitDocuments[op.key]; ok {
			docs[op.key] = doc
			continue
		}
		doc, err := op.document(fx)
		if err != nil {
			t.Errorf("%s: no automatic document (%v): add one to explicitDocuments", op.key, err)
			continue
		}
		docs[op.key] = doc
	}
	// And the other way round: every operation named here exists, so a renamed or removed
	// one cannot leave a stale role (or document) behind.
	inSchema := map[string]bool{}
	for _, op := range ops {
		inSchema[op.key] = true
	}
	for key := range leastRole {
		if !inSchema[key] {
			t.Errorf("leastRole names %s, which the schema does not have: remove it or correct its name", key)
		}
	}
	for key := range explicitDocuments {
		if !inSchema[key] {
			t.Errorf("explicitDocuments names %s, which the schema does not have", key)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The documents reach the owner's records: the owner finds its data through the lookups.
	found := 0
	for _, op := range ops {
		if op.kind == "query" && fx.leakIn(post(t, srv, owner.Token, map[string]any{"query": docs[op.key]}).Body) != "" {
			found++
		}
	}
	if found < 5 { // customer, customerByEmail, customerByPhone, customerByDocument, customers
		t.Fatalf("the owner finds its own data through %d queries only: the documents miss the fixtures", found)
	}

	t.Run("no token is 401", func(t *testing.T) {
		for _, op := range ops {
			r := post(t, srv, "", map[string]any{"query": docs[op.key]})
			if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
				t.Errorf("%s without a token: %d %s", op.key, r.Status, r.Body)
			}
		}
	})

	t.Run("another organization sees and changes nothing", func(t *testing.T) {
		for _, op := range ops {
			other := srv.NewOrg(t, auth.Admin) // empty: any count it sees is the owner's
			before := fx.snapshot(t)
			r := post(t, srv, other.Token, map[string]any{"query": docs[op.key]})
			if r.code() == "FORBIDDEN" || r.code() == "UNAUTHENTICATED" || r.code() == "BAD_USER_INPUT" {
				t.Errorf("%s: the document itself is refused, so it proves nothing: %s", op.key, r.Body)
			}
			if leak := fx.leakIn(r.Body); leak != "" {
				t.Errorf("%s: another organization's response holds the owner's %s: %s", op.key, leak, r.Body)
			}
			// The one count of its own a mutation may answer: the timeline of the customer it
			// created in the other organization holds that creation.
			if n := nonZeroCount(r.Data); n != "" && !(op.key == "Mutation.createCustomer" && n == "data.createCustomer.customer.timeline.totalCount") {
				t.Errorf("%s: another organization counts the owner's rows (%s): %s", op.key, n, r.Body)
			}
			if diff := fx.snapshot(t).diff(before); diff != "" {
				t.Errorf("%s by another organization changed the owner's %s", op.key, diff)
			}
		}
	})

	t.Run("each role exactly its operations", func(t *testing.T) {
		for _, role := range allRoles {
			c := srv.NewOrg(t, role) // an organization of its own: its writes touch no one
			for _, op := range ops {
				r := post(t, srv, c.Token, map[string]any{"query": docs[op.key]})
				allowed := roleRank(role) >= roleRank(leastRole[op.key])
				if forbidden := r.code() == "FORBIDDEN"; forbidden == allowed {
					t.Errorf("%s as %s: allowed=%v, got %d %s", op.key, role, allowed, r.Status, r.Body)
				}
			}
		}
	})
}

func roleRank(r auth.Role) int { return slices.Index(allRoles, r) }

// §8: no personal data in the application logs. A full scenario with distinctive data —
// writes, a rejected duplicate, an update, lookups, searches — and none of it in the log.
func TestSecurity_NoPersonalDataInLogs(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	pii := []string{
		"Zoraida", "Quintanilla", "zoraida.quintanilla.pii@example.org", "6555-0199", "+50765550199",
		"PE-77-9913", "Wenceslao", "Yturralde", "wence.pii@example.net", "+50766660142",
		"Calle Sigilosa 77", "Barrio Escondido", "Notas confidenciales",
	}
	var created struct {
		CreateCustomer struct {
			Customer   *struct{ ID string }
			UserErrors []struct{ Code string }
		}
	}
	c.Must(t, `mutation { createCustomer(input: {firstName: "Zoraida", lastName: "Quintanilla",
		email: " Zoraida.Quintanilla.PII@example.org ", phone: "6555-0199", documentType: OTHER,
		documentNumber: "pe-77-9913", notes: "Notas confidenciales"}) { customer { id } userErrors { code } } }`, nil, &created)
	if created.CreateCustomer.Customer == nil {
		t.Fatalf("create: %+v", created)
	}
	id := created.CreateCustomer.Customer.ID
	steps := []string{
		// A duplicate (TAKEN) and an invalid input (INVALID) echo the values in userErrors only.
		`mutation { createCustomer(input: {firstName: "Wenceslao", lastName: "Yturralde", email: "zoraida.quintanilla.pii@example.org"}) { userErrors { code message } } }`,
		`mutation { createCustomer(input: {firstName: "Wenceslao", lastName: "Yturralde", email: "wence.pii@example.net", phone: "+507 6666-0142"}) { userErrors { code } } }`,
		`mutation { createCustomer(input: {firstName: "Wenceslao", lastName: "Yturralde", email: "not an email Yturralde"}) { userErrors { code message } } }`,
		fmt.Sprintf(`mutation { updateCustomer(id: %q, input: {lastName: "Quintanilla", notes: "Notas confidenciales"}) { customer { id } } }`, id),
		fmt.Sprintf(`mutation { addAddress(customerId: %q, input: {addressLine1: "Calle Sigilosa 77", city: "Barrio Escondido", phone: "6555-0199", isDefault: true}) { address { id } } }`, id),
		`{ customerByEmail(email: "zoraida.quintanilla.pii@example.org") { id fullName } }`,
		`{ customerByPhone(phone: "6555-0199") { id phone } }`,
		`{ customerByDocument(documentType: OTHER, documentNumber: "PE-77-9913") { id } }`,
		`query SearchByName { customers(search: "Quintanilla") { totalCount nodes { fullName email } } }`,
		`{ customers(search: "6555-0199") { totalCount } }`,
		`{ customers(search: "zoraida.quintanilla") { totalCount } }`,
		`{ customerStats(search: "Yturralde") { total } }`,
		// Errors: a bad argument and a malformed query quote the request back, to the client only.
		`{ customerByEmail(email: 12) { id } }`,
		`{ customerByPhone(phone: "Wenceslao" { id } }`,
	}
	for _, q := range steps {
		c.Do(t, q, nil)
	}
	c.Do(t, `query($e: String!) { customerByEmail(email: $e) { id } }`, map[string]any{"e": "wence.pii@example.net"})

	logs := srv.Logs()
	if !strings.Contains(logs, `"request"`) || !strings.Contains(logs, "SearchByName") {
		t.Fatalf("the scenario was not logged as expected:\n%s", logs)
	}
	lower := strings.ToLower(logs)
	for _, s := range pii {
		if strings.Contains(lower, strings.ToLower(s)) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// §8: a panic in a resolver is INTERNAL with the request id, never the panic or a stack;
// the log has them. Provoked through the real handler with a resolver missing its
// services, so reading a customer dereferences nil.
func TestErrors_PanicIsInternalWithTheRequestID(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Resolver: &graph.Resolver{}})
	c := srv.NewOrg(t, auth.Viewer)
	body, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(`{ customer(id: %q) { id } }`, uuid.New())})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("X-Request-Id", "probe-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got rawResponse
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got)
	if len(got.Errors) != 1 || got.code() != "INTERNAL" || got.Errors[0].Extensions["requestId"] != "probe-42" {
		t.Fatalf("want one INTERNAL error with requestId probe-42, got %s", raw)
	}
	for _, leak := range []string{"nil pointer", "runtime", "goroutine", ".go:", "panic"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the response shows %q: %s", leak, raw)
		}
	}
	logs := srv.Logs()
	if !strings.Contains(logs, "probe-42") || !strings.Contains(logs, "nil pointer") || !strings.Contains(logs, "goroutine") {
		t.Errorf("the log lacks the panic, its stack or the request id:\n%s", logs)
	}
	stillServes(t, c)
}

// An error from the driver (here: the pool is closed) is INTERNAL without its text.
func TestErrors_DatabaseErrorTextNeverReachesTheClient(t *testing.T) {
	t.Parallel()
	pool, err := db.Open(context.Background(), testdb.Get(t).AppURL, db.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	srv := apitest.NewWith(t, apitest.Options{Resolver: graph.NewResolver(db.NewHandle(pool, nil), graph.ResolverOptions{})})
	c := srv.NewOrg(t, auth.Viewer)
	r := post(t, srv, c.Token, map[string]any{"query": `{ customers(search: "x") { totalCount } }`})
	if len(r.Errors) != 1 || r.code() != "INTERNAL" || r.Errors[0].Extensions["requestId"] == "" {
		t.Fatalf("want one INTERNAL error with a request id, got %s", r.Body)
	}
	for _, leak := range []string{"sql", "SELECT", "database", "closed"} {
		if strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(leak)) {
			t.Errorf("the response shows %q: %s", leak, r.Body)
		}
	}
	if !strings.Contains(srv.Logs(), "sql: database is closed") {
		t.Errorf("the log lacks the driver's error:\n%s", srv.Logs())
	}
}

// operation is one field of Query or Mutation, as introspection describes it.
type operation struct {
	key    string // "Mutation.createCustomer"
	kind   string // "query" or "mutation"
	field  introField
	schema map[string]introType
}

type introTypeRef struct {
	Kind   string        `json:"kind"`
	Name   string        `json:"name"`
	OfType *introTypeRef `json:"ofType"`
}

type introInput struct {
	Name         string       `json:"name"`
	Type         introTypeRef `json:"type"`
	DefaultValue *string      `json:"defaultValue"`
}

type introField struct {
	Name string       `json:"name"`
	Args []introInput `json:"args"`
	Type introTypeRef `json:"type"`
}

type introType struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Fields      []introField `json:"fields"`
	InputFields []introInput `json:"inputFields"`
	EnumValues  []struct {
		Name string `json:"name"`
	} `json:"enumValues"`
}

const typeRef = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`

// discoverOperations reads every Query and Mutation field by introspection.
func discoverOperations(t *testing.T, c *apitest.Client) []operation {
	t.Helper()
	var got struct {
		Schema struct {
			QueryType    struct{ Name string }
			MutationType struct{ Name string }
			Types        []introType
		} `json:"__schema"`
	}
	c.Must(t, `{ __schema { queryType { name } mutationType { name } types { kind name
		fields { name args { name defaultValue type { `+typeRef+` } } type { `+typeRef+` } }
		inputFields { name defaultValue type { `+typeRef+` } }
		enumValues { name } } } }`, nil, &got)
	schema := map[string]introType{}
	for _, typ := range got.Schema.Types {
		schema[typ.Name] = typ
	}
	var ops []operation
	for kind, root := range map[string]string{"query": got.Schema.QueryType.Name, "mutation": got.Schema.MutationType.Name} {
		for _, f := range schema[root].Fields {
			ops = append(ops, operation{key: root + "." + f.Name, kind: kind, field: f, schema: schema})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key < ops[j].key })
	if len(ops) < 30 {
		t.Fatalf("introspection found %d operations", len(ops))
	}
	return ops
}

// document is a minimal valid operation calling the field: its required arguments filled
// from their types (ids of the owner's records), and its result's fields selected.
func (op operation) document(fx *securityFixture) (string, error) {
	var args []string
	for _, a := range op.field.Args {
		if a.Type.Kind != "NON_NULL" || a.DefaultValue != nil {
			continue
		}
		v, err := op.value(fx, a.Name, a.Type)
		if err != nil {
			return "", fmt.Errorf("argument %s: %w", a.Name, err)
		}
		args = append(args, a.Name+": "+v)
	}
	call := op.field.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
	}
	return op.kind + " { " + call + op.selection(op.field.Type, 0) + " }", nil
}

// value is a GraphQL literal of the type, plausible for an argument or input field name.
func (op operation) value(fx *securityFixture, name string, ref introTypeRef) (string, error) {
	switch ref.Kind {
	case "NON_NULL":
		return op.value(fx, name, *ref.OfType)
	case "LIST":
		v, err := op.value(fx, name, *ref.OfType)
		return "[" + v + "]", err
	case "ENUM":
		return op.schema[ref.Name].EnumValues[0].Name, nil
	case "INPUT_OBJECT":
		var fields []string
		for _, f := range op.schema[ref.Name].InputFields {
			if f.Type.Kind != "NON_NULL" || f.DefaultValue != nil {
				continue
			}
			v, err := op.value(fx, f.Name, f.Type)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", ref.Name, f.Name, err)
			}
			fields = append(fields, f.Name+": "+v)
		}
		return "{" + strings.Join(fields, ", ") + "}", nil
	}
	switch ref.Name {
	case "UUID":
		return fmt.Sprintf("%q", fx.idFor(op.field.Name, name)), nil
	case "String":
		return fmt.Sprintf("%q", fx.stringFor(name)), nil
	case "Int":
		return "1", nil
	case "Boolean":
		return "false", nil
	case "Decimal":
		return `"10.00"`, nil
	case "Date":
		return `"2025-06-02"`, nil
	case "DateTime":
		return `"2025-06-02T15:04:05Z"`, nil
	case "JSON":
		return "{}", nil
	}
	return "", fmt.Errorf("no value for the type %s", ref.Name)
}

// selection selects the type's fields without required arguments, two levels deep.
func (op operation) selection(ref introTypeRef, depth int) string {
	for ref.OfType != nil {
		ref = *ref.OfType
	}
	typ := op.schema[ref.Name]
	if typ.Kind != "OBJECT" {
		return ""
	}
	parts := []string{"__typename"}
	for _, f := range typ.Fields {
		if slices.ContainsFunc(f.Args, func(a introInput) bool { return a.Type.Kind == "NON_NULL" && a.DefaultValue == nil }) {
			continue
		}
		inner := f.Type
		for inner.OfType != nil {
			inner = *inner.OfType
		}
		if op.schema[inner.Name].Kind == "OBJECT" {
			if depth < 2 {
				parts = append(parts, f.Name+op.selection(f.Type, depth+1))
			}
			continue
		}
		parts = append(parts, f.Name)
	}
	return " { " + strings.Join(parts, " ") + " }"
}

// securityFixture is the owner's organization: seeded customers with every relation, and
// one purchase.
type securityFixture struct {
	srv                                         *apitest.Server
	org                                         uuid.UUID
	customer, address, creditAccount, usage     uuid.UUID
	other                                       uuid.UUID // another customer (merged into customer)
	email, phone, documentNumber, purchaseOrder string
	markers                                     []string // values only the owner's data holds
	tables                                      []string
}

func newSecurityFixture(t *testing.T, srv *apitest.Server, org uuid.UUID) *securityFixture {
	t.Helper()
	fx := &securityFixture{srv: srv, org: org}
	// A customer with contact data and a credit account (the target of lookups and of
	// customerId), and any address, credit account and charge of the organization.
	err := srv.Owner.QueryRowContext(context.Background(), `
		SELECT c.customer_id, c.email, c.phone, c.document_number,
			(SELECT address_id FROM addresses WHERE organization_id = ?0 LIMIT 1),
			(SELECT credit_account_id FROM credit_accounts WHERE organization_id = ?0 LIMIT 1),
			(SELECT usage_id FROM credit_usage WHERE organization_id = ?0 LIMIT 1)
		FROM customers c LEFT JOIN credit_accounts ca ON ca.organization_id = c.organization_id AND ca.customer_id = c.customer_id
		WHERE c.organization_id = ?0 AND c.email IS NOT NULL AND c.phone IS NOT NULL AND c.document_number IS NOT NULL
		ORDER BY ca.customer_id IS NULL, c.customer_id LIMIT 1`, org).
		Scan(&fx.customer, &fx.email, &fx.phone, &fx.documentNumber, &fx.address, &fx.creditAccount, &fx.usage)
	if err != nil {
		t.Fatalf("the seeded organization lacks a customer, an address, a credit account or a charge: %v", err)
	}
	// Another customer, for the ids a merge merges into fx.customer.
	if err := srv.Owner.QueryRowContext(context.Background(), `SELECT customer_id FROM customers
		WHERE organization_id = ? AND customer_id <> ? ORDER BY customer_id DESC LIMIT 1`, org, fx.customer).Scan(&fx.other); err != nil {
		t.Fatal(err)
	}
	fx.purchaseOrder = "sec-order-" + uuid.NewString()
	if _, err := srv.Owner.ExecContext(context.Background(), `INSERT INTO purchases (organization_id, customer_id, order_id, amount, occurred_at)
		VALUES (?, ?, ?, 120, now() - interval '1 day')`, org, fx.customer, fx.purchaseOrder); err != nil {
		t.Fatal(err)
	}
	rows, err := srv.Owner.QueryContext(context.Background(), `
		SELECT customer_id::text FROM customers WHERE organization_id = ?0
		UNION ALL SELECT email FROM customers WHERE organization_id = ?0 AND email IS NOT NULL
		UNION ALL SELECT phone FROM customers WHERE organization_id = ?0 AND phone IS NOT NULL
		UNION ALL SELECT document_number FROM customers WHERE organization_id = ?0 AND document_number IS NOT NULL
		UNION ALL SELECT address_id::text FROM addresses WHERE organization_id = ?0
		UNION ALL SELECT credit_account_id::text FROM credit_accounts WHERE organization_id = ?0
		UNION ALL SELECT loyalty_account_id::text FROM loyalty_accounts WHERE organization_id = ?0
		UNION ALL SELECT usage_id::text FROM credit_usage WHERE organization_id = ?0
		UNION ALL SELECT ?0::text`, org)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		fx.markers = append(fx.markers, m)
	}
	// Every table that holds organizations' rows, so new tables are covered too.
	tables, err := srv.Owner.QueryContext(context.Background(), `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'organization_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer tables.Close()
	for tables.Next() {
		var name string
		if err := tables.Scan(&name); err != nil {
			t.Fatal(err)
		}
		fx.tables = append(fx.tables, name)
	}
	if len(fx.markers) < 30 || len(fx.tables) < 8 {
		t.Fatalf("fixture: %d markers, tables %v", len(fx.markers), fx.tables)
	}
	return fx
}

// idFor is the owner's record an id argument most plausibly names.
func (fx *securityFixture) idFor(field, arg string) uuid.UUID {
	if arg == "customerId" {
		return fx.customer
	}
	if arg == "mergedIds" {
		return fx.other
	}
	switch f := strings.ToLower(field); {
	case strings.Contains(f, "address"):
		return fx.address
	case strings.Contains(f, "creditusage"):
		return fx.usage
	case strings.Contains(f, "credit"):
		return fx.creditAccount
	}
	return fx.customer
}

// stringFor is a plausible string for an argument: the owner's values for lookups.
func (fx *securityFixture) stringFor(arg string) string {
	switch arg {
	case "email":
		return fx.email
	case "phone":
		return fx.phone
	case "documentNumber":
		return fx.documentNumber
	case "orderId":
		return fx.purchaseOrder
	case "firstName", "lastName":
		return "Probe"
	case "country":
		return "PA"
	}
	return "security-probe-" + arg
}

// leakIn returns the first of the owner's values found in a response.
func (fx *securityFixture) leakIn(body []byte) string {
	for _, m := range fx.markers {
		if strings.Contains(string(body), m) {
			return m
		}
	}
	return ""
}

// snapshot is a digest of every row of the owner's organization, table by table.
type snapshot map[string]string

func (fx *securityFixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	s := snapshot{}
	for _, table := range fx.tables {
		var count int
		var digest *string
		err := fx.srv.Owner.QueryRowContext(context.Background(), fmt.Sprintf(
			`SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM %q t WHERE organization_id = ?`, table), fx.org).
			Scan(&count, &digest)
		if err != nil {
			t.Fatal(err)
		}
		s[table] = fmt.Sprintf("%d rows %v", count, digest)
		if digest != nil {
			s[table] = fmt.Sprintf("%d rows %s", count, *digest)
		}
	}
	return s
}

func (s snapshot) diff(before snapshot) string {
	var changed []string
	for table, v := range s {
		if before[table] != v {
			changed = append(changed, fmt.Sprintf("%s (%s → %s)", table, before[table], v))
		}
	}
	sort.Strings(changed)
	return strings.Join(changed, ", ")
}

// nonZeroCount finds a count (totalCount, total, count) above zero in a response's data.
func nonZeroCount(data json.RawMessage) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var walk func(path string, v any) string
	walk = func(path string, v any) string {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if n, ok := e.(float64); ok && n > 0 && (k == "totalCount" || k == "total" || k == "count") {
					return path + "." + k
				}
				if found := walk(path+"."+k, e); found != "" {
					return found
				}
			}
		case []any:
			for i, e := range x {
				if found := walk(fmt.Sprintf("%s[%d]", path, i), e); found != "" {
					return found
				}
			}
		}
		return ""
	}
	return walk("data", v)
}
