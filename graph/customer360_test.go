package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
)

// leafFields is the selection of every scalar and enum field of a type of the schema, in the
// schema's order: what the equivalence test compares (a field added to the type is compared
// from then on).
func leafFields(t *testing.T, typeName string) string {
	t.Helper()
	schema := loadSchemaForTest(t)
	var names []string
	for _, f := range schema.Types[typeName].Fields {
		if k := schema.Types[f.Type.Name()].Kind; k == ast.Scalar || k == ast.Enum {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s has no leaf fields", typeName)
	}
	return strings.Join(names, " ")
}

// pick walks a JSON document by keys (and list positions as numbers).
func pick(t *testing.T, doc json.RawMessage, path ...any) string {
	t.Helper()
	var v any = doc
	for _, p := range path {
		var next any
		switch k := p.(type) {
		case string:
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v.(json.RawMessage), &m); err != nil {
				t.Fatalf("%v at %v: %v", path, p, err)
			}
			next = m[k]
		case int:
			var l []json.RawMessage
			if err := json.Unmarshal(v.(json.RawMessage), &l); err != nil || k >= len(l) {
				t.Fatalf("%v at %v: %v", path, p, err)
			}
			next = l[k]
		}
		v = next
	}
	return string(v.(json.RawMessage))
}

// The rows a mutation returns (written by gqlgen from Go values) and the same rows in a
// Customer 360 (rendered by PostgreSQL) are the same JSON, field for field, for every leaf
// field of their types: the two ways of writing a row cannot drift apart.
func TestCustomer360_RendersRowsAsTheMutationsReturnThem(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	credit := newCreditTeam(t, srv)
	agent := credit.agent
	customerID, account := credit.approved(t, "1000.00")
	agentVars := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}

	address, purchase, transaction, usage, payment := leafFields(t, "Address"), leafFields(t, "Purchase"),
		leafFields(t, "LoyaltyTransaction"), leafFields(t, "CreditUsage"), leafFields(t, "CreditPayment")
	added := agent.Do(t, `mutation($id: UUID!) { addAddress(customerId: $id, input: {addressLine1: "Calle 50", city: "Panamá",
		recipientName: "Ana", phone: "6123-4567", isDefault: true}) { address { `+address+` } } }`, agentVars("id", customerID))
	if len(added.Errors) > 0 {
		t.Fatal(string(added.Body))
	}
	if r := agent.Do(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, agentVars("id", customerID)); len(r.Errors) > 0 {
		t.Fatal(string(r.Body))
	}
	bought := agent.Do(t, `mutation($id: UUID!) { recordPurchase(input: {customerId: $id, orderId: "o-1", amount: "123.45", channel: "web"}) {
		purchase { `+purchase+` } transaction { `+transaction+` } } }`, agentVars("id", customerID))
	credit.charge(t, customerID, "c-1", "250.50")
	paid := agent.Do(t, `mutation($id: UUID!) { recordCreditPayment(input: {customerId: $id, paymentReference: "p-1", amount: "100.00"}) {
		payment { `+payment+` } } }`, agentVars("id", customerID))
	// a charge after the payment, which changes no usage after it
	charged := agent.Do(t, `mutation($id: UUID!) { chargeCredit(input: {customerId: $id, orderId: "c-2", amount: "99.99"}) {
		usage { `+usage+` } } }`, agentVars("id", customerID))
	for _, r := range []apitest.Response{bought, charged, paid} {
		if len(r.Errors) > 0 {
			t.Fatal(string(r.Body))
		}
	}

	read := agent.Do(t, `query($id: UUID!) { customer(id: $id) {
		addresses { `+address+` }
		purchases { nodes { `+purchase+` } }
		loyaltyAccount { transactions { nodes { `+transaction+` } } }
		creditAccount { id usages { nodes { `+usage+` } } payments { nodes { `+payment+` } } } } }`, agentVars("id", customerID))
	if len(read.Errors) > 0 {
		t.Fatal(string(read.Body))
	}
	if got := pick(t, read.Data, "customer", "creditAccount", "id"); got != `"`+account.ID+`"` {
		t.Fatalf("credit account %s", got)
	}
	for _, c := range []struct {
		name           string
		payload, in360 string
	}{
		{"Address", pick(t, added.Data, "addAddress", "address"), pick(t, read.Data, "customer", "addresses", 0)},
		{"Purchase", pick(t, bought.Data, "recordPurchase", "purchase"), pick(t, read.Data, "customer", "purchases", "nodes", 0)},
		{"LoyaltyTransaction", pick(t, bought.Data, "recordPurchase", "transaction"),
			pick(t, read.Data, "customer", "loyaltyAccount", "transactions", "nodes", 0)},
		{"CreditUsage", pick(t, charged.Data, "chargeCredit", "usage"), pick(t, read.Data, "customer", "creditAccount", "usages", "nodes", 0)},
		{"CreditPayment", pick(t, paid.Data, "recordCreditPayment", "payment"),
			pick(t, read.Data, "customer", "creditAccount", "payments", "nodes", 0)},
	} {
		if compactJSON(t, []byte(c.payload)) != compactJSON(t, []byte(c.in360)) {
			t.Errorf("%s:\n payload %s\n 360     %s", c.name, c.payload, c.in360)
		}
	}
}

// A field asked for under several response keys with different selections is answered with
// each one's own selection: in lookups, in the customer list (nodes and edges, aliased) and
// in mutation payloads.
func TestCustomer360_AnswersEachPlaceWithItsOwnSelection(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	created := agent.Do(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Pérez", email: "ana@example.com"}) {
		a: customer { id } b: customer { email fullName } customer { __typename }
		... on CreateCustomerPayload { c: customer { lastName } } } }`, nil)
	if len(created.Errors) > 0 {
		t.Fatal(string(created.Body))
	}
	var c struct {
		CreateCustomer struct {
			A struct{ ID uuid.UUID }
		}
	}
	if err := json.Unmarshal(created.Data, &c); err != nil {
		t.Fatal(err)
	}
	id := c.CreateCustomer.A.ID.String()
	if got := string(created.Data); got != `{"createCustomer":{"a":{"id":"`+id+`"},"b":{"email":"ana@example.com","fullName":"Ana Pérez"},"customer":{"__typename":"Customer"},"c":{"lastName":"Pérez"}}}` {
		t.Errorf("payload %s", got)
	}

	r := agent.Do(t, `query($id: UUID!) { x: customer(id: $id) { id } y: customer(id: $id) { firstName }
		customers { nodes { id } n2: nodes { lastName } edges { cursor node { email } } e2: edges { n: node { firstName } } } }`,
		map[string]any{"id": id})
	if len(r.Errors) > 0 {
		t.Fatal(string(r.Body))
	}
	var cursor struct {
		Customers struct{ Edges []struct{ Cursor string } }
	}
	if err := json.Unmarshal(r.Data, &cursor); err != nil || len(cursor.Customers.Edges) != 1 {
		t.Fatalf("%s %v", r.Data, err)
	}
	want := `{"x":{"id":"` + id + `"},"y":{"firstName":"Ana"},"customers":{"nodes":[{"id":"` + id + `"}],"n2":[{"lastName":"Pérez"}],` +
		`"edges":[{"cursor":"` + cursor.Customers.Edges[0].Cursor + `","node":{"email":"ana@example.com"}}],"e2":[{"n":{"firstName":"Ana"}}]}}`
	if got := compactJSON(t, r.Data); got != compactJSON(t, []byte(want)) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// §8: an empty `after` is the first page, in the customer list and in every nested list
// alike (as an omitted one): no previous page.
func TestCustomer360_EmptyAfterIsTheFirstPageEverywhere(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	credit := newCreditTeam(t, srv)
	customerID, _ := credit.approved(t, "500.00")
	credit.charge(t, customerID, "o-1", "10.00")
	credit.pay(t, customerID, "p-1", "5.00")
	if r := credit.agent.Do(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, map[string]any{"id": customerID}); len(r.Errors) > 0 {
		t.Fatal(string(r.Body))
	}
	loyBuy(t, credit.agent, customerID, "20.00")
	page := `pageInfo { hasPreviousPage } totalCount`
	query := func(after string) string {
		r := credit.agent.Do(t, `query($id: UUID!, $after: String) { customers(after: $after) { `+page+` }
			customer(id: $id) { purchases(after: $after) { `+page+` } loyaltyAccount { transactions(after: $after) { `+page+` } }
				creditAccount { usages(after: $after) { `+page+` } payments(after: $after) { `+page+` } } } }`,
			map[string]any{"id": customerID, "after": after})
		if len(r.Errors) > 0 {
			t.Fatal(string(r.Body))
		}
		return compactJSON(t, r.Data)
	}
	empty := query("")
	want := `{"customers":{"pageInfo":{"hasPreviousPage":false},"totalCount":1},"customer":{"purchases":{"pageInfo":{"hasPreviousPage":false},"totalCount":1},` +
		`"loyaltyAccount":{"transactions":{"pageInfo":{"hasPreviousPage":false},"totalCount":1}},` +
		`"creditAccount":{"usages":{"pageInfo":{"hasPreviousPage":false},"totalCount":1},"payments":{"pageInfo":{"hasPreviousPage":false},"totalCount":1}}}}`
	if empty != compactJSON(t, []byte(want)) {
		t.Fatalf("after \"\":\n got %s\nwant %s", empty, want)
	}
}

// A nested argument its rule refuses is BAD_USER_INPUT at the field that has it, and the
// root field it is under answers null; nothing is read.
func TestCustomer360_ABadNestedArgumentIsBadUserInputAtItsField(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	for name, q := range map[string]string{
		"days 0":       `{ customers { nodes { la: loyaltyAccount { soon: pointsExpiringSoon(days: 0) } } } }`,
		"first 101":    `{ customers { nodes { p: purchases(first: 101) { totalCount } } } }`,
		"forged after": `{ customers { nodes { creditAccount { usages(after: "bm90IGEgY3Vyc29y") { totalCount } } } } }`,
	} {
		r := c.Do(t, q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || compactJSON(t, r.Data) != `{"customers":null}` &&
			string(r.Data) != "null" {
			t.Errorf("%s: %s", name, r.Body)
			continue
		}
		if path, _ := json.Marshal(r.Errors[0].Path); !strings.HasPrefix(string(path), `["customers","nodes"`) {
			t.Errorf("%s: path %s", name, path)
		}
	}
}

// A mutation whose payload selects a rendered object with a refused argument is refused
// before it writes: BAD_USER_INPUT at the field, and nothing stored.
func TestCustomer360_ABadPayloadArgumentRefusesTheMutationBeforeItWrites(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	r := agent.Do(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Pérez"}) {
		customer { purchases(first: 0) { totalCount } } } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" {
		t.Fatalf("%s", r.Body)
	}
	if path, _ := json.Marshal(r.Errors[0].Path); string(path) != `["createCustomer","customer","purchases"]` {
		t.Errorf("path %s", path)
	}
	var n struct{ Customers struct{ TotalCount int } }
	agent.Must(t, `{ customers { totalCount } }`, nil, &n)
	if n.Customers.TotalCount != 0 {
		t.Fatalf("the refused mutation wrote %d customers", n.Customers.TotalCount)
	}
}

// An object of more than 50 fields (json_build_object takes 100 arguments) is valid JSON,
// whatever the field at each boundary: an object at the 50th place, three parts of fields.
func TestCustomer360_ObjectsOfMoreThanFiftyFields(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: graph.Limits{MaxAliases: 200, MaxComplexity: 50000, MaxDepth: 10, MaxBodyBytes: 1 << 20}})
	agent := srv.NewOrg(t, auth.Agent)
	created := agent.Do(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Pérez"}) { customer { id } } }`, nil)
	var c struct {
		CreateCustomer struct{ Customer struct{ ID string } }
	}
	if err := json.Unmarshal(created.Data, &c); err != nil {
		t.Fatal(err)
	}
	aliases := func(prefix string, n int) string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%d: firstName", prefix, i))
		}
		return strings.Join(out, " ")
	}
	for name, sel := range map[string]string{
		"an object 50th":   aliases("a", 49) + " loyaltyAccount { tier } segment { isVip } lastName",
		"an object 100th":  aliases("a", 99) + " addresses { city } lastName",
		"120 fields":       aliases("a", 120),
		"objects at edges": aliases("a", 49) + " segment { isVip } " + aliases("b", 49) + " addresses { city } lastName",
	} {
		r := agent.Do(t, `query($id: UUID!) { customer(id: $id) { `+sel+` } }`, map[string]any{"id": c.CreateCustomer.Customer.ID})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %s", name, r.Body)
		}
		var out struct{ Customer map[string]json.RawMessage }
		if err := json.Unmarshal(r.Data, &out); err != nil {
			t.Fatalf("%s: %v: %s", name, err, r.Data)
		}
		if want := len(strings.Fields(strings.NewReplacer("{ tier }", "", "{ isVip }", "", "{ city }", "").Replace(sel))) -
			strings.Count(sel, ":"); len(out.Customer) != want {
			t.Fatalf("%s: %d keys, want %d", name, len(out.Customer), want)
		}
	}
}
