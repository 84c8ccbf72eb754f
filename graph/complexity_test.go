package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
)

// An operation's complexity is kept per document and the values of the variables given to
// priced fields (page sizes): the same document is refused when its variables make it too
// complex, however often it passed before with smaller pages, and passes again after; the
// variables of unpriced fields (the id of a lookup) share one kept figure.
func TestLimits_ComplexityKeptPerDocumentFollowsThePageSizes(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	doc := `query Abusive($n: Int, $m: Int) { customers(first: $n) { nodes {
		purchases(first: $m) { nodes { id amount } }
		loyaltyAccount { transactions(first: $m) { nodes { id points } } }
		creditAccount { usages(first: $m) { nodes { id amount } } payments(first: $m) { nodes { id amount } } }
	} } } # ` + uuid.NewString()
	for i, tc := range []struct {
		vars     map[string]any
		rejected bool
	}{
		{map[string]any{"n": 10, "m": 10}, false},
		{map[string]any{"n": 100, "m": 100}, true},
		{map[string]any{"n": 10, "m": 10}, false},
		{map[string]any{"n": 100, "m": 100}, true},
		{map[string]any{"n": 100, "m": 1}, false},
		{map[string]any{"n": 100}, false},           // m left out: 20 a page (§8), 100 × 4 × 41 + …
		{map[string]any{"n": 100, "m": nil}, false}, // m null: the same
		{map[string]any{"n": 100, "m": 100000}, true},
	} {
		r := post(t, srv, c.Token, map[string]any{"query": doc, "variables": tc.vars})
		if tc.rejected {
			wantRejected(t, r, "QUERY_TOO_COMPLEX", fmt.Sprint(graph.DefaultMaxComplexity))
			if !strings.Contains(r.Errors[0].Message, "operation has complexity") {
				t.Fatalf("%d: the message is not gqlgen's: %s", i, r.Body)
			}
		} else if len(r.Errors) > 0 || r.Data == nil {
			t.Fatalf("%d %v: refused: %s", i, tc.vars, r.Body)
		}
	}
	if n := graph.ComplexityKeptValues(doc); n != 6 {
		t.Fatalf("%d combinations kept, want 6 (the refused ones too: the walk is what is kept)", n)
	}

	lookup := `query($id: UUID!) { customer(id: $id) { firstName } } # ` + uuid.NewString()
	for range 3 {
		c.Must(t, lookup, map[string]any{"id": uuid.New()}, nil)
	}
	if n := graph.ComplexityKeptValues(lookup); n != 1 {
		t.Fatalf("a lookup's ids gave %d kept complexities, want 1", n)
	}
}

// The fields the complexity cache keys on are every field with a cost function, named as
// the schema names them: every paged field, and nothing the schema does not have.
func TestLimits_PricedFieldsAreTheSchemasPagedFields(t *testing.T) {
	es := graph.NewSchema(nil)
	priced := graph.PricedFields()
	want := map[string]bool{}
	for _, typ := range es.Schema().Types {
		for _, f := range typ.Fields {
			if f.Arguments.ForName("first") != nil || f.Arguments.ForName("last") != nil {
				want[strings.ToLower(typ.Name+"."+f.Name)] = true
			}
		}
	}
	for name := range priced {
		if !want[name] {
			t.Errorf("%s has a cost function but is not a paged field of the schema", name)
		}
	}
	for name := range want {
		if !priced[name] {
			t.Errorf("paged field %s has no cost function", name)
		}
	}
}
