package customer360

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/paging"
)

// The types of the schema this package renders, and the connection types around its lists.
var (
	renderedTypes   = []string{"Customer", "Address", "LoyaltyAccount", "PendingLot", "LoyaltyAccountAsOf", "LoyaltyTransaction", "Purchase", "CreditAccount", "CreditAging", "CreditUsage", "CreditPayment", "CreditPolicyWarning", "CreditAccountAsOf", "CustomerSegment"}
	connectionTypes = []string{"LoyaltyTransactionConnection", "LoyaltyTransactionEdge", "PurchaseConnection", "PurchaseEdge",
		"CreditUsageConnection", "CreditUsageEdge", "CreditPaymentConnection", "CreditPaymentEdge", "PageInfo"}
)

func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if gqlErr != nil {
		t.Fatal(gqlErr)
	}
	return schema
}

// everything is the whole selection of a type of the schema, every field with its
// defaults, each object field's own selection included (list arguments left out).
func everything(schema *ast.Schema, typeName string) []Field {
	var out []Field
	for _, f := range schema.Types[typeName].Fields {
		field := Field{Name: f.Name, Alias: f.Name, Args: map[string]any{}}
		for _, a := range f.Arguments { // a required argument gets a value (asOf's instant)
			if a.Type.NonNull && a.Type.Name() == "DateTime" {
				field.Args[a.Name] = "2026-11-30T23:59:59Z"
			}
		}
		if def := schema.Types[f.Type.Name()]; def.Kind == ast.Object {
			field.Selection = everything(schema, def.Name)
		}
		out = append(out, field)
	}
	return append(out, Field{Name: "__typename", Alias: "__typename"})
}

func compileOne(t *testing.T, typeName string, sel []Field) (string, []any, error) {
	t.Helper()
	types := map[string]*objectType{"Customer": customerType, "LoyaltyAccount": loyaltyAccountType, "CreditAccount": creditAccountType}
	var args db.Args
	_, sql, err := compileAll(types[typeName], "x", "", Selections{"": sel}, &args)
	return sql, args.Values(), err
}

// A field added to a rendered type of the schema must be added to the field table (and
// nothing stays in the table that the schema dropped).
func TestFieldTable_HasEveryFieldOfTheSchema(t *testing.T) {
	schema := loadSchema(t)
	table := fieldTable()
	for _, name := range renderedTypes {
		var want []string
		for _, f := range schema.Types[name].Fields {
			want = append(want, f.Name)
		}
		got := table[name]
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the table has %v, the schema %v", name, got, want)
		}
	}
	// The connection types are compiled in connection.go: their whole selection compiles.
	for _, root := range []string{"Customer", "LoyaltyAccount", "CreditAccount"} {
		if _, _, err := compileOne(t, root, everything(schema, root)); err != nil {
			t.Errorf("%s's whole selection: %v", root, err)
		}
	}
	for _, name := range connectionTypes {
		if schema.Types[name] == nil {
			t.Errorf("the schema has no %s", name)
		}
	}
}

// §8 field directives: the compiler implements none, so no field it renders may carry one
// (@hasRole on a 360 field would otherwise be skipped); a field that does is refused.
func TestNo360FieldCarriesADirective(t *testing.T) {
	schema := loadSchema(t)
	for _, name := range append(slices.Clone(renderedTypes), connectionTypes...) {
		for _, f := range schema.Types[name].Fields {
			for _, d := range f.Directives {
				if d.Name != "deprecated" {
					t.Errorf("%s.%s carries @%s, which package customer360 does not implement", name, f.Name, d.Name)
				}
			}
		}
	}
	_, _, err := compileOne(t, "Customer", []Field{{Name: "email", Alias: "email", Directives: []string{"hasRole"}}})
	if err == nil || !strings.Contains(err.Error(), "@hasRole") {
		t.Fatalf("a field with a directive compiled: %v", err)
	}
}

// Every value of the request is a bind parameter: whatever the cursors, page sizes, filters,
// horizons and response keys that are not GraphQL names, the statement's text is the same.
// (A response key that is a name is a literal: TestCompile_ResponseKeysThatAreNamesAreLiterals.)
func TestCompile_TextIsTheSameForEveryValue(t *testing.T) {
	cursor := func(key string, id uuid.UUID) string {
		return paging.Cursor{Order: "created_at:desc", Key: key, ID: id}.String()
	}
	selection := func(alias, after string, first int, status, typ string, days int, inactive bool) []Field {
		return []Field{
			{Name: "id", Alias: alias},
			{Name: "addresses", Alias: alias + "2", Args: map[string]any{"type": typ, "includeInactive": inactive},
				Selection: []Field{{Name: "city", Alias: alias}}},
			{Name: "loyaltyAccount", Alias: "la", Selection: []Field{
				{Name: "pointsExpiringSoon", Alias: alias, Args: map[string]any{"days": days}},
				{Name: "transactions", Alias: "t", Args: map[string]any{"first": first, "after": onList(after, "transactions:created_at:desc"), "type": "EARN"},
					Selection: []Field{{Name: "edges", Alias: alias, Selection: []Field{{Name: "cursor", Alias: "c"}}}}},
			}},
			{Name: "creditAccount", Alias: "ca", Selection: []Field{
				{Name: "usages", Alias: "u", Args: map[string]any{"first": first, "after": onList(after, "usages:created_at:desc"), "status": status},
					Selection: []Field{{Name: "totalCount", Alias: alias}}},
				{Name: "payments", Alias: "p", Args: map[string]any{"first": first, "after": onList(after, "payments:created_at:desc")}, Selection: []Field{{Name: "pageInfo", Alias: "i",
					Selection: []Field{{Name: "hasNextPage", Alias: alias}}}}},
			}},
			{Name: "purchases", Alias: "pu", Args: map[string]any{"first": first, "after": onList(after, "purchases:occurred_at:desc")}, Selection: []Field{{Name: "nodes", Alias: "n",
				Selection: []Field{{Name: "amount", Alias: alias}}}}},
		}
	}
	hostile := []struct {
		alias, after string
		first        int
		status, typ  string
		days         int
		inactive     bool
	}{
		{"1a", cursor("2026-01-02T03:04:05Z", uuid.New()), 1, "PENDING", "SHIPPING", 1, false},
		{"x'); DROP TABLE customers; --", cursor("2026-12-31T23:59:59.999999Z", uuid.New()), 100, "OVERDUE", "BOTH", 365, true},
		{`"quoted" \ $1 ?`, cursor("1999-01-01T00:00:00+05:00", uuid.New()), 37, "CANCELLED", "BILLING", 90, false},
	}
	var first string
	var firstArgs []any
	for i, h := range hostile {
		sql, args, err := compileOne(t, "Customer", selection(h.alias, h.after, h.first, h.status, h.typ, h.days, h.inactive))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		for _, v := range []string{h.alias, h.after} {
			if len(v) > 1 && strings.Contains(sql, v) {
				t.Errorf("%d: the value %q is in the SQL text", i, v)
			}
		}
		if i == 0 {
			first, firstArgs = sql, args
			continue
		}
		if sql != first {
			t.Errorf("%d: the text differs:\n%s\n%s", i, sql, first)
		}
		if slices.EqualFunc(args, firstArgs, func(a, b any) bool { return a == b }) {
			t.Errorf("%d: the same arguments for other values", i)
		}
	}
}

// onList is the cursor after's position in the list ordered by order.
func onList(after, order string) string {
	c, err := paging.Decode("after", after, "created_at:desc", func(string) bool { return true })
	if err != nil {
		panic(err)
	}
	c.Order = order
	return c.String()
}

// A refused argument is an error of the field that has it, before any SQL runs.
func TestCompile_RefusesBadArgumentsAtTheirField(t *testing.T) {
	for name, tc := range map[string]struct {
		sel  []Field
		path string
	}{
		"days 0": {[]Field{{Name: "loyaltyAccount", Alias: "la", Selection: []Field{
			{Name: "pointsExpiringSoon", Alias: "soon", Args: map[string]any{"days": 0}}}}}, ".la.soon"},
		"first 101": {[]Field{{Name: "purchases", Alias: "p", Args: map[string]any{"first": 101},
			Selection: []Field{{Name: "totalCount", Alias: "n"}}}}, ".p"},
		"a cursor of nothing": {[]Field{{Name: "creditAccount", Alias: "ca", Selection: []Field{
			{Name: "usages", Alias: "u", Args: map[string]any{"after": "'; DROP TABLE x; --"},
				Selection: []Field{{Name: "totalCount", Alias: "n"}}}}}}, ".ca.u"},
		"a cursor of another nested list": {[]Field{{Name: "creditAccount", Alias: "ca", Selection: []Field{
			{Name: "payments", Alias: "p", Args: map[string]any{"after": paging.Cursor{Order: "usages:created_at:desc",
				Key: time.Now().Format(time.RFC3339Nano), ID: uuid.New()}.String()}, Selection: []Field{{Name: "totalCount", Alias: "n"}}}}}}, ".ca.p"},
		"a cursor of another list": {[]Field{{Name: "purchases", Alias: "p",
			Args:      map[string]any{"after": paging.Cursor{Order: "created_at:desc", Key: time.Now().Format(time.RFC3339Nano), ID: uuid.New()}.String()},
			Selection: []Field{{Name: "totalCount", Alias: "n"}}}}, ".p"},
	} {
		_, _, err := compileOne(t, "Customer", tc.sel)
		var arg *ArgumentError
		if !errors.As(err, &arg) || !apperr.Is(err, apperr.Invalid) || strings.Join(arg.Path, ".") != tc.path {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An empty after is the first page, in every list (as an omitted one).
func TestCompile_EmptyAfterIsTheFirstPage(t *testing.T) {
	page := func(after any) string {
		sel := []Field{{Name: "purchases", Alias: "p", Args: map[string]any{"after": after},
			Selection: []Field{{Name: "pageInfo", Alias: "i", Selection: []Field{{Name: "hasPreviousPage", Alias: "h"}}}}}}
		sql, _, err := compileOne(t, "Customer", sel)
		if err != nil {
			t.Fatal(err)
		}
		return sql
	}
	if page("") != page(nil) {
		t.Fatal(`after: "" does not read the first page`)
	}
}

// Past json_build_object's 100 arguments, an object's fields are joined as text: a
// selection of more than 50 fields compiles to JSON text that keeps every key.
func TestCompile_ObjectsOfMoreThanFiftyFields(t *testing.T) {
	var sel []Field
	for i := range 120 {
		sel = append(sel, Field{Name: "id", Alias: "k" + strings.Repeat("x", i)})
	}
	sql, args, err := compileOne(t, "Customer", sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 0 || strings.Count(sql, "json_build_object(") != 3 || !strings.Contains(sql, "'k"+strings.Repeat("x", 119)+"'::text") {
		t.Fatalf("%d arguments, %d objects: %s", len(args), strings.Count(sql, "json_build_object("), sql)
	}
}

// A response key that is a GraphQL name is written into the SQL as a literal (it needs no
// quoting); any other key — which the GraphQL parser never gives, but this package does not
// rely on it — is a bind parameter.
func TestCompile_ResponseKeysThatAreNamesAreLiterals(t *testing.T) {
	for key, literal := range map[string]bool{
		"firstName": true, "_x9": true, "A": true, "__typename": true,
		"": false, "9a": false, "a-b": false, "a b": false, "x'y": false, "é": false, `a\`: false, "a;": false,
	} {
		sql, args, err := compileOne(t, "Customer", []Field{{Name: "id", Alias: key}})
		if err != nil {
			t.Fatal(err)
		}
		want := "json_build_object('" + key + "'::text, x.customer_id)"
		if !literal {
			want = "json_build_object($1::text, x.customer_id)"
		}
		if sql != want+"::text" || literal != (len(args) == 0) || !literal && args[0] != key {
			t.Errorf("%q: %s %v, want %s", key, sql, args, want)
		}
	}
}
