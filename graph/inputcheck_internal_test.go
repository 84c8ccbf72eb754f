package graph

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/customers"
)

// Every String argument and input field of the schema has its rule in textRules, and every
// rule names one: a new String must be given its length (and whether it is free text).
func TestInputCheck_EveryStringHasARule(t *testing.T) {
	schema := NewSchema(&Resolver{}).Schema()
	isString := func(typ *ast.Type) bool {
		for typ.Elem != nil {
			typ = typ.Elem
		}
		return typ.NamedType == "String" || typ.NamedType == "ID"
	}
	found := map[string]bool{}
	for _, def := range schema.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			switch def.Kind {
			case ast.InputObject:
				if isString(f.Type) {
					found[def.Name+"."+f.Name] = true
				}
			case ast.Object:
				for _, a := range f.Arguments {
					if isString(a.Type) && !strings.HasPrefix(f.Name, "__") { // __type(name): introspection
						found[def.Name+"."+f.Name+"("+a.Name+")"] = true
					}
				}
			}
		}
	}
	for key := range found {
		if _, ok := textRules[key]; !ok {
			t.Errorf("%s is a String of the schema without a rule in textRules (graph/inputcheck.go): give it its length", key)
		}
	}
	for key, rule := range textRules {
		if !found[key] {
			t.Errorf("textRules has %s, which is no String argument or input field of the schema", key)
		}
		if rule.max <= 0 {
			t.Errorf("%s: max %d", key, rule.max)
		}
	}
	if len(found) < 60 {
		t.Fatalf("found only %d strings: is the walk right?", len(found))
	}
}

// Every mutation can be answered with its payload and userErrors.
func TestInputCheck_EveryMutationHasAPayload(t *testing.T) {
	schema := NewSchema(&Resolver{}).Schema()
	for _, f := range schema.Mutation.Fields {
		build, ok := payloads[f.Name]
		if !ok {
			t.Errorf("Mutation.%s: no payload with userErrors to answer a refused string with", f.Name)
			continue
		}
		if got := reflect.TypeOf(build(nil)).Elem().Name(); got != f.Type.Name() {
			t.Errorf("Mutation.%s: payload %s, want %s", f.Name, got, f.Type.Name())
		}
	}
}

// The edge's lengths are the domain's, where the domain has one.
func TestInputCheck_LengthsAreTheDomains(t *testing.T) {
	if maxSearch != customers.MaxSearchLength {
		t.Errorf("maxSearch %d, customers.MaxSearchLength %d", maxSearch, customers.MaxSearchLength)
	}
	// The longest cursor: a last name of 100 four-byte characters, JSON in base64.
	b, _ := json.Marshal(map[string]any{"f": "last_name", "d": true, "k": strings.Repeat("𝔸", 100), "id": uuid.New()})
	if n := len(base64.RawURLEncoding.EncodeToString(b)); n > maxCursor {
		t.Errorf("a real cursor has %d characters, over maxCursor %d", n, maxCursor)
	}
	// A value at the cap passes the edge and is judged by the domain, at its own cap.
	for _, c := range []struct {
		key, value string
	}{
		{"CreateCustomerInput.firstName", strings.Repeat("é", 100)},
		{"CreateCustomerInput.tags", strings.Repeat("t", 255)},
		{"CreateCustomerInput.notes", strings.Repeat("n", 10_000)},
		{"Query.customerByEmail(email)", strings.Repeat("e", 255)},
	} {
		if msg := checkText(c.value, textRules[c.key]); msg != "" {
			t.Errorf("%s at its cap: %s", c.key, msg)
		}
		if msg := checkText(c.value+"x", textRules[c.key]); !strings.Contains(msg, "at most") {
			t.Errorf("%s over its cap: %q", c.key, msg)
		}
	}
}

func TestInputCheck_Text(t *testing.T) {
	line, free := textRule{max: 10}, textRule{max: 10, freeText: true}
	for _, c := range []struct {
		s    string
		rule textRule
		want string // a part of the message; "" accepted
	}{
		{"Ana", line, ""},
		{"  Ana María  ", line, ""}, // surrounding spaces are not counted
		{"ünïcödé", line, ""},
		{"A\x00na", line, "U+0000 at character 2"},
		{"A\x1bna", line, "U+001B"},
		{"A\x7fna", line, "U+007F"},
		{"A\u0085na", line, "U+0085"},
		{"A\tna", line, "U+0009"},
		{" Pérez\t", line, ""}, // around a value: trimmed by the domain
		{"\r\nAna\n", line, ""},
		{"A\x0b", line, "U+000B"},
		{"o-1\t", textRule{max: 10, asGiven: true}, "U+0009"},
		{"\x00 ", line, "U+0000"},
		{"A\nna", line, "U+000A"},
		{"a\tb\nc\r\n", free, ""},
		{"a\x00b", free, "U+0000"},
		{"a\x0bb", free, "U+000B"},
		{"A\xffna", line, "valid UTF-8"},
		{"\xed\xa0\x80", line, "valid UTF-8"}, // an encoded surrogate
		{strings.Repeat("x", 10), line, ""},
		{strings.Repeat("x", 11), line, "at most 10 characters (got 11)"},
		{strings.Repeat("ñ", 11), line, "got 11"},
		{"   " + strings.Repeat("x", 10) + "   ", line, ""},
	} {
		got := checkText(c.s, c.rule)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("checkText(%q, %+v) = %q, want %q", c.s, c.rule, got, c.want)
		}
	}
}

func TestInputCheck_LoneSurrogate(t *testing.T) {
	for _, c := range []struct {
		s       string
		graphQL bool
		want    bool
	}{
		{`{"a":"\ud800"}`, false, true},
		{`{"a":"\uDC00x"}`, false, true},
		{`{"a":"\ud83d\ude00"}`, false, false}, // a pair
		{`{"a":"\ud83d\u0041"}`, false, true},
		{`{"a":"\\ud800"}`, false, false}, // an escaped backslash, then text
		{`{"a":"\u00e9\u0000"}`, false, false},
		{`{"a":"x"} \ud800`, false, false}, // not in a string
		{`{ f(a: "\ud800") }`, true, true},
		{`{ f(a: "\ud83d\ude00") }`, true, false},
		{`{ f(a: """\ud800""") }`, true, false}, // a block string has no \u escapes
		{`# "\ud800` + "\n{ f }", true, false},  // a comment
		{`{ f(a: """x\"""\ud800""") }`, true, false},
		{`{ f(a: "\"\ud800") }`, true, true},
	} {
		if got := loneSurrogate(c.s, c.graphQL); got != c.want {
			t.Errorf("loneSurrogate(%s, %v) = %v, want %v", c.s, c.graphQL, got, c.want)
		}
	}
}
