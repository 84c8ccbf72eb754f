package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
	"customerservice/seed"
)

// The strings every sweep case sends, by name; each must be refused wherever a String is
// taken. 1,000,000 characters fit a 4 MiB body (the server under test allows it, so the
// value, not the body limit, is what is refused).
var badStrings = map[string]string{
	"NUL":          "A\x00na",
	"ESC":          "A\x1bna",
	"DEL":          "A\x7fna",
	"C1":           "A\u0085na",
	"1M":           strings.Repeat("a", 1_000_000),
	"NUL-in-1M":    strings.Repeat("a", 500_000) + "\x00",
	"vertical-tab": "a\vb",
}

// bigBodyLimits lets 1 MB values through the body limit, to reach the rule.
var bigBodyLimits = graph.Limits{MaxBodyBytes: 4 << 20}

// stringSite is one place a String enters: an argument (path[0]) of a field, possibly an
// input field or list element under it; the field is a root field (nested empty) or one
// reached from the root through nested.
type stringSite struct {
	op     operation
	nested []introField // fields from the root's result down to the one with the argument
	path   []string     // the argument, then input fields and list indexes
	typ    string       // the String's type, for the variable: "String" or "String!"
	key    string       // its rule's key
}

func (s stringSite) String() string {
	parts := []string{s.op.key}
	for _, f := range s.nested {
		parts = append(parts, f.Name)
	}
	return strings.Join(parts, ".") + "(" + strings.Join(s.path, ".") + ")"
}

// A refused string never gets past the edge: in every String argument and input field of
// the schema (found by introspection: root fields, nested fields, input objects, lists),
// NUL and other control characters and a 1 MB value are refused cleanly — a mutation's
// argument with its payload's userError INVALID on the argument's path, anything else with
// BAD_USER_INPUT naming the path — and nothing is written, nothing is INTERNAL.
func TestInputCheck_Sweep(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: bigBodyLimits})
	ctx := context.Background()
	owner := srv.NewOrg(t, auth.Admin)
	if _, err := seed.Customers(ctx, srv.App, seed.Options{Org: owner.Org, Customers: 20, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	fx := newSecurityFixture(t, srv, owner.Org)
	sites := stringSites(t, discoverOperations(t, owner))
	caps := graph.TextRuleCaps()
	before := fx.snapshot(t)

	for _, site := range sites {
		for name, bad := range badStrings {
			doc, err := site.document(fx, "$v")
			if err != nil {
				t.Fatalf("%s: %v", site, err)
			}
			res := owner.Do(t, doc, map[string]any{"v": bad})
			expectRefused(t, fmt.Sprintf("%s with %s", site, name), site, res)
		}
		// One character over the cap: refused by the edge, or by the domain with the same cap.
		overCap := strings.Repeat("x", caps[site.key]+1)
		doc, err := site.document(fx, "$v")
		if err != nil {
			t.Fatal(err)
		}
		expectRefused(t, site.String()+" one character over its cap", site, owner.Do(t, doc, map[string]any{"v": overCap}))
		// The same NUL written in the document rather than in a variable.
		doc, err = site.document(fx, `"A\u0000na"`)
		if err != nil {
			t.Fatal(err)
		}
		expectRefused(t, site.String()+" with a NUL literal", site, owner.Do(t, doc, nil))
	}
	if diff := fx.snapshot(t).diff(before); diff != "" {
		t.Errorf("refused strings changed the organization's data: %s", diff)
	}
	if logs := srv.Logs(); strings.Contains(logs, "internal error") || strings.Contains(logs, "invalid byte sequence") {
		t.Errorf("the server logged an internal error:\n%s", logs[:min(len(logs), 4000)])
	}
	// The sweep reached every String that has a rule.
	swept := map[string]bool{}
	for _, s := range sites {
		swept[s.key] = true
	}
	for key := range caps {
		if !swept[key] {
			t.Errorf("the sweep did not reach %s", key)
		}
	}
}

// expectRefused checks the answer to one bad string at site.
func expectRefused(t *testing.T, what string, site stringSite, res apitest.Response) {
	t.Helper()
	if res.Status >= 500 || bytes.Contains(res.Body, []byte("INTERNAL")) {
		t.Errorf("%s: %d %s", what, res.Status, clip(res.Body))
		return
	}
	if site.op.kind == "mutation" && len(site.nested) == 0 {
		var data map[string]struct {
			UserErrors []struct {
				Field []string
				Code  string
			}
		}
		_ = json.Unmarshal(res.Data, &data)
		errs := data[site.op.field.Name].UserErrors
		if res.Status != http.StatusOK || len(res.Errors) > 0 ||
			!slices.ContainsFunc(errs, func(e struct {
				Field []string
				Code  string
			}) bool {
				return e.Code == "INVALID" && slices.Equal(e.Field, site.path)
			}) {
			t.Errorf("%s: want a userError INVALID on %v, got %d %s", what, site.path, res.Status, clip(res.Body))
		}
		return
	}
	if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" || string(res.Data) != "" && string(res.Data) != "null" {
		t.Errorf("%s: want one BAD_USER_INPUT error and no data, got %d %s", what, res.Status, clip(res.Body))
		return
	}
	arg, _ := res.Errors[0].Extensions["argument"].([]any)
	if fmt.Sprint(arg) != fmt.Sprint(site.path) {
		t.Errorf("%s: extensions.argument %v, want %v", what, arg, site.path)
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// stringSites is every place a String enters, from introspection: the arguments of the root
// fields, and of the fields reachable from the query root fields.
func stringSites(t *testing.T, ops []operation) []stringSite {
	var sites []stringSite
	reached := map[string]bool{} // object types whose fields' arguments are swept
	type hop struct {
		op     operation
		nested []introField
		typ    string
	}
	var queue []hop
	for _, op := range ops {
		for _, a := range op.field.Args {
			for _, p := range stringPaths(op.schema, a.Type, []string{a.Name}, op.key+"("+a.Name+")", 0) {
				sites = append(sites, stringSite{op: op, path: p.path, typ: p.typ, key: p.key})
			}
		}
		if op.kind == "query" {
			queue = append(queue, hop{op: op, typ: namedType(op.field.Type)})
		}
	}
	// Breadth first from the query root fields: the shortest way to each object type.
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		typ := h.op.schema[h.typ]
		if typ.Kind != "OBJECT" || reached[h.typ] {
			continue
		}
		reached[h.typ] = true
		for _, f := range typ.Fields {
			if slices.ContainsFunc(f.Args, func(a introInput) bool { return a.Type.Kind == "NON_NULL" && a.DefaultValue == nil }) {
				continue
			}
			nested := append(slices.Clone(h.nested), f)
			for _, a := range f.Args {
				for _, p := range stringPaths(h.op.schema, a.Type, []string{a.Name}, h.typ+"."+f.Name+"("+a.Name+")", 0) {
					sites = append(sites, stringSite{op: h.op, nested: nested, path: p.path, typ: p.typ, key: p.key})
				}
			}
			queue = append(queue, hop{op: h.op, nested: nested, typ: namedType(f.Type)})
		}
	}
	// Every object type with a String argument was reached.
	for _, op := range ops[:1] {
		for name, typ := range op.schema {
			if typ.Kind != "OBJECT" || strings.HasPrefix(name, "__") || name == "Query" || name == "Mutation" || reached[name] {
				continue
			}
			for _, f := range typ.Fields {
				for _, a := range f.Args {
					if len(stringPaths(op.schema, a.Type, nil, "", 0)) > 0 {
						t.Errorf("%s.%s(%s) takes a string but the sweep does not reach %s", name, f.Name, a.Name, name)
					}
				}
			}
		}
	}
	return sites
}

type stringPath struct {
	path []string
	typ  string
	key  string // its rule's key in graph.TextRuleKeys: "Type.field(argument)" or "Input.field"
}

// stringPaths are the Strings inside a value of type ref: itself, its list's elements, its
// input fields.
func stringPaths(schema map[string]introType, ref introTypeRef, path []string, key string, depth int) []stringPath {
	nonNull := ref.Kind == "NON_NULL"
	if nonNull {
		ref = *ref.OfType
	}
	switch ref.Kind {
	case "LIST":
		return stringPaths(schema, *ref.OfType, append(slices.Clone(path), "0"), key, depth)
	case "SCALAR":
		if ref.Name == "String" || ref.Name == "ID" {
			typ := ref.Name
			if nonNull {
				typ += "!"
			}
			return []stringPath{{path: path, typ: typ, key: key}}
		}
	case "INPUT_OBJECT":
		if depth > 4 {
			return nil
		}
		var out []stringPath
		for _, f := range schema[ref.Name].InputFields {
			out = append(out, stringPaths(schema, f.Type, append(slices.Clone(path), f.Name), ref.Name+"."+f.Name, depth+1)...)
		}
		return out
	}
	return nil
}

func namedType(ref introTypeRef) string {
	for ref.OfType != nil {
		ref = *ref.OfType
	}
	return ref.Name
}

// document is an operation that reaches the site with value (a literal, or "$v") there and
// valid values (the owner's records) in every other required place.
func (s stringSite) document(fx *securityFixture, value string) (string, error) {
	target := s.op.field
	if len(s.nested) > 0 {
		target = s.nested[len(s.nested)-1]
	}
	call := func(f introField, withTarget bool) (string, error) {
		var args []string
		for _, a := range f.Args {
			if withTarget && a.Name == s.path[0] {
				v, err := s.value(fx, a.Type, s.path[1:], value)
				if err != nil {
					return "", err
				}
				args = append(args, a.Name+": "+v)
				continue
			}
			if a.Type.Kind != "NON_NULL" || a.DefaultValue != nil {
				continue
			}
			v, err := s.op.value(fx, a.Name, a.Type)
			if err != nil {
				return "", err
			}
			args = append(args, a.Name+": "+v)
		}
		if len(args) == 0 {
			return f.Name, nil
		}
		return f.Name + "(" + strings.Join(args, ", ") + ")", nil
	}
	root, err := call(s.op.field, len(s.nested) == 0)
	if err != nil {
		return "", err
	}
	var inner string
	if len(s.nested) == 0 {
		inner = s.op.selection(s.op.field.Type, 1)
	} else {
		leaf, err := call(target, true)
		if err != nil {
			return "", err
		}
		inner = leaf + s.op.selection(target.Type, 2)
		for i := len(s.nested) - 2; i >= 0; i-- {
			inner = s.nested[i].Name + " { " + inner + " }"
		}
		inner = " { " + inner + " }"
	}
	head := s.op.kind
	if value == "$v" {
		head += "($v: " + s.typ + ")"
	}
	return head + " { " + root + inner + " }", nil
}

// value is a literal of type ref with value at path (the rest of the site's path).
func (s stringSite) value(fx *securityFixture, ref introTypeRef, path []string, value string) (string, error) {
	if ref.Kind == "NON_NULL" {
		ref = *ref.OfType
	}
	if len(path) == 0 {
		return value, nil
	}
	switch ref.Kind {
	case "LIST":
		v, err := s.value(fx, *ref.OfType, path[1:], value)
		return "[" + v + "]", err
	case "INPUT_OBJECT":
		var fields []string
		for _, f := range s.op.schema[ref.Name].InputFields {
			if f.Name == path[0] {
				v, err := s.value(fx, f.Type, path[1:], value)
				if err != nil {
					return "", err
				}
				fields = append(fields, f.Name+": "+v)
				continue
			}
			if f.Type.Kind != "NON_NULL" || f.DefaultValue != nil {
				continue
			}
			v, err := s.op.value(fx, f.Name, f.Type)
			if err != nil {
				return "", err
			}
			fields = append(fields, f.Name+": "+v)
		}
		return "{" + strings.Join(fields, ", ") + "}", nil
	}
	return "", fmt.Errorf("no path %v into %s", path, ref.Name)
}

// The cases of the issue, one by one: each answered cleanly, nothing stored altered or at all.
func TestInputCheck_Regressions(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: bigBodyLimits})
	c := srv.NewOrg(t, auth.Admin)
	var created struct {
		CreateCustomer struct{ Customer struct{ ID string } }
	}
	c.Must(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Pérez", email: "ana@example.com", phone: "+50761234567",
		documentType: CEDULA, documentNumber: "8-123-456", tags: ["vip"]}) { customer { id } } }`, nil, &created)
	id := created.CreateCustomer.Customer.ID
	count := func() (n int) {
		t.Helper()
		err := srv.Owner.QueryRowContext(context.Background(), `SELECT
			(SELECT count(*) FROM customers WHERE organization_id = ?0) + (SELECT count(*) FROM addresses WHERE organization_id = ?0)
			+ (SELECT count(*) FROM purchases WHERE organization_id = ?0) + (SELECT count(*) FROM audit_log WHERE organization_id = ?0)`, c.Org).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	rows := count()
	big := strings.Repeat("a", 1_000_000)

	mutations := []struct {
		name, doc string
		vars      map[string]any
		field     []string
	}{
		{"NUL in createCustomer.firstName", `mutation($v: String!) { m: createCustomer(input: {firstName: $v, lastName: "X"}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": "A\x00na"}, []string{"input", "firstName"}},
		{"NUL in a tag", `mutation($v: [String!]) { m: createCustomer(input: {firstName: "A", lastName: "X", tags: $v}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": []string{"ok", "b\x00d"}}, []string{"input", "tags", "1"}},
		{"NUL in a tag of updateCustomer", `mutation($v: [String!]) { m: updateCustomer(id: "` + id + `", input: {tags: $v}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": []string{"b\x00d"}}, []string{"input", "tags", "0"}},
		{"NUL in addAddress", `mutation($v: String!) { m: addAddress(customerId: "` + id + `", input: {addressLine1: $v, city: "Panamá"}) { address { id } userErrors { field code message } } }`,
			map[string]any{"v": "Calle\x00 50"}, []string{"input", "addressLine1"}},
		{"NUL in recordPurchase.channel", `mutation($v: String) { m: recordPurchase(input: {customerId: "` + id + `", orderId: "o-1", amount: "10.00", channel: $v}) { purchase { id } userErrors { field code message } } }`,
			map[string]any{"v": "w\x00eb"}, []string{"input", "channel"}},
		{"NUL in recordPurchase.orderId", `mutation($v: String!) { m: recordPurchase(input: {customerId: "` + id + `", orderId: $v, amount: "10.00"}) { purchase { id } userErrors { field code message } } }`,
			map[string]any{"v": "o\x00-2"}, []string{"input", "orderId"}},
		{"NUL in metadata", `mutation($v: JSON) { m: createCustomer(input: {firstName: "A", lastName: "X", metadata: $v}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": map[string]any{"crm": map[string]any{"note": "x\x00y"}}}, []string{"input", "metadata", "crm", "note"}},
		{"a tab in a name", `mutation($v: String!) { m: createCustomer(input: {firstName: $v, lastName: "X"}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": "An\ta"}, []string{"input", "firstName"}},
		{"1 MB notes", `mutation($v: String) { m: createCustomer(input: {firstName: "A", lastName: "X", notes: $v}) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": big}, []string{"input", "notes"}},
		{"NUL in a status reason", `mutation($v: String) { m: setCustomerStatus(id: "` + id + `", status: BLOCKED, reason: $v) { customer { id } userErrors { field code message } } }`,
			map[string]any{"v": "fraud\x00"}, []string{"reason"}},
	}
	for _, m := range mutations {
		res := c.Do(t, m.doc, m.vars)
		var data struct {
			M struct {
				UserErrors []struct {
					Field   []string
					Code    string
					Message string
				}
			}
		}
		_ = json.Unmarshal(res.Data, &data)
		errs := data.M.UserErrors
		if res.Status != http.StatusOK || len(res.Errors) > 0 || len(errs) != 1 || errs[0].Code != "INVALID" || !slices.Equal(errs[0].Field, m.field) {
			t.Errorf("%s: want one userError INVALID on %v, got %d %s", m.name, m.field, res.Status, clip(res.Body))
		}
	}

	queries := []struct {
		name, doc string
		vars      map[string]any
		argument  []string
	}{
		{"NUL in customerByEmail", `query($v: String!) { customerByEmail(email: $v) { id } }`, map[string]any{"v": "ana@example.com\x00"}, []string{"email"}},
		{"NUL in customerByPhone", `query($v: String!) { customerByPhone(phone: $v) { id } }`, map[string]any{"v": "+507\x006123"}, []string{"phone"}},
		{"NUL in customerByDocument", `query($v: String!) { customerByDocument(documentType: CEDULA, documentNumber: $v) { id } }`, map[string]any{"v": "8-123\x00-456"}, []string{"documentNumber"}},
		{"NUL in a tag filter of customers", `query($v: String!) { customers(filter: {tags: {any: [$v]}}) { totalCount } }`, map[string]any{"v": "v\x00ip"}, []string{"filter", "tags", "any", "0"}},
		{"NUL in a tag filter of customerStats", `query($v: [String!]) { customerStats(filter: {tags: {all: $v}}) { total } }`, map[string]any{"v": []string{"vip", "v\x00ip"}}, []string{"filter", "tags", "all", "1"}},
		{"NUL in search, literal", `{ customers(search: "an\u0000a") { totalCount } }`, nil, []string{"search"}},
		{"1 MB email", `query($v: String!) { customerByEmail(email: $v) { id } }`, map[string]any{"v": big}, []string{"email"}},
		{"1 MB tag in a filter", `query($v: String!) { customers(filter: {tags: {any: [$v]}}) { totalCount } }`, map[string]any{"v": big}, []string{"filter", "tags", "any", "0"}},
		{"1 MB search", `query($v: String) { customers(search: $v) { totalCount } }`, map[string]any{"v": big}, []string{"search"}},
		{"1 MB search of customerStats", `query($v: String) { customerStats(search: $v) { total } }`, map[string]any{"v": big}, []string{"search"}},
		{"NUL in a nested cursor", `query($v: String) { customer(id: "` + id + `") { purchases(after: $v) { totalCount } } }`, map[string]any{"v": "\x00"}, []string{"after"}},
		{"NUL in a mutation's nested cursor", `mutation($v: String) { updateCustomer(id: "` + id + `", input: {firstName: "Changed"}) { customer { purchases(after: $v) { totalCount } } } }`, map[string]any{"v": "\x00"}, []string{"after"}},
	}
	for _, q := range queries {
		res := c.Do(t, q.doc, q.vars)
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" || res.Status != http.StatusOK {
			// a request error: 200 under Accept: application/json (graphql-over-HTTP)
			t.Errorf("%s: want 200 BAD_USER_INPUT, got %d %s", q.name, res.Status, clip(res.Body))
			continue
		}
		if arg, _ := res.Errors[0].Extensions["argument"].([]any); fmt.Sprint(arg) != fmt.Sprint(q.argument) {
			t.Errorf("%s: extensions.argument %v, want %v", q.name, arg, q.argument)
		}
	}

	if n := count(); n != rows {
		t.Errorf("rows %d → %d: a refused input was written", rows, n)
	}
	var got struct {
		Customer struct {
			FirstName string
			Tags      []string
		}
	}
	c.Must(t, `{ customer(id: "`+id+`") { firstName tags } }`, nil, &got)
	if got.Customer.FirstName != "Ana" || !slices.Equal(got.Customer.Tags, []string{"vip"}) {
		t.Errorf("the customer changed: %+v", got.Customer)
	}
	if logs := srv.Logs(); strings.Contains(logs, "internal error") || strings.Contains(logs, "invalid byte sequence") {
		t.Errorf("the server logged an internal error:\n%s", logs[:min(len(logs), 4000)])
	}
}

// Free text keeps its tabs and line breaks as given; the caps let a value at its length in.
func TestInputCheck_FreeTextKeepsLineBreaks(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	notes := "first line\r\nsecond\tcolumn\n"
	name := strings.Repeat("ñ", 100)
	var out struct {
		CreateCustomer struct {
			Customer   struct{ FirstName, Notes string }
			UserErrors []any
		}
	}
	c.Must(t, `mutation($n: String, $f: String!) { createCustomer(input: {firstName: $f, lastName: "X", notes: $n}) {
		customer { firstName notes } userErrors { field } } }`, map[string]any{"n": notes, "f": name}, &out)
	if len(out.CreateCustomer.UserErrors) > 0 || out.CreateCustomer.Customer.Notes != "first line\r\nsecond\tcolumn" ||
		out.CreateCustomer.Customer.FirstName != name {
		t.Errorf("got %+v", out.CreateCustomer)
	}
}

// A caller without the role is told so, whatever its input: the rule does not answer first.
func TestInputCheck_RoleComesFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	res := c.Do(t, `mutation { createCustomer(input: {firstName: "A\u0000", lastName: "X"}) { userErrors { field } } }`, nil)
	if code := res.ErrorCode(t); code != "FORBIDDEN" {
		t.Errorf("want FORBIDDEN, got %s", res.Body)
	}
}

// Text that is not Unicode is refused whole, before it is decoded (decoding would store
// U+FFFD instead): raw invalid UTF-8 in the body or the URL, a JSON escape of a lone
// surrogate, and a GraphQL one.
func TestInputCheck_RawTextThatIsNotUnicode(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	count := func() (n int) {
		t.Helper()
		if err := srv.Owner.QueryRowContext(context.Background(), `SELECT count(*) FROM customers WHERE organization_id = ?`, c.Org).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	post := func(body []byte) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	create := `mutation($v: String!) { createCustomer(input: {firstName: $v, lastName: "X"}) { customer { id } userErrors { field } } }`
	body := func(v string) []byte {
		b, _ := json.Marshal(map[string]any{"query": create, "variables": map[string]any{"v": "MARK"}})
		return bytes.Replace(b, []byte("MARK"), []byte(v), 1)
	}
	for name, b := range map[string][]byte{
		"raw invalid UTF-8":                 body("A\xffna"),
		"a raw encoded surrogate":           body("A\xed\xa0\x80na"),
		"a JSON escape of a lone surrogate": body(`A\ud800na`),
		"a trailing surrogate alone":        body(`A\udc00na`),
	} {
		status, got := post(b)
		if status != http.StatusBadRequest || !bytes.Contains(got, []byte(`"BAD_USER_INPUT"`)) {
			t.Errorf("%s: want 400 BAD_USER_INPUT, got %d %s", name, status, got)
		}
	}
	// A GraphQL escape of a lone surrogate, in the document.
	b, _ := json.Marshal(map[string]any{"query": `mutation { createCustomer(input: {firstName: "A\ud800na", lastName: "X"}) { customer { id } } }`})
	if status, got := post(b); status != http.StatusOK || !bytes.Contains(got, []byte(`"BAD_USER_INPUT"`)) {
		t.Errorf("a GraphQL lone surrogate: want 200 BAD_USER_INPUT, got %d %s", status, got)
	}
	// A pair is one character and is stored as such.
	if status, got := post(body(`\ud83d\ude00 Ana`)); status != http.StatusOK || !bytes.Contains(got, []byte(`"customer":{"id"`)) {
		t.Errorf("a surrogate pair: want it created, got %d %s", status, got)
	}
	// GET: invalid UTF-8 in the URL.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql?query="+url.QueryEscape(`query($e: String!) { customerByEmail(email: $e) { id } }`)+
		"&variables=%7B%22e%22%3A%22a%FFb%22%7D", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !bytes.Contains(got, []byte(`"BAD_USER_INPUT"`)) {
		t.Errorf("GET with invalid UTF-8: want 400 BAD_USER_INPUT, got %d %s", res.StatusCode, got)
	}
	if n := count(); n != 1 {
		t.Errorf("%d customers, want only the one with the surrogate pair", n)
	}
}
