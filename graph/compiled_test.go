package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
)

// A lookup's compiled selection is kept per document, operation, root field and the values
// of the variables its selection reads: the same document answers each id, each page size,
// each @include condition and each aliased root field with its own selection, and a refused
// argument is refused again (never kept) without spoiling the answers after it.
func TestCustomer360_CompiledSelectionsFollowTheirVariables(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	ana := loyCustomer(t, srv, agent.Org)
	loyExec(t, srv, `UPDATE customers SET first_name = 'Beto', last_name = 'Sin Cuenta' WHERE customer_id = ?`, loyCustomer(t, srv, agent.Org))
	var beto uuid.UUID
	if err := srv.Owner.NewRaw(`SELECT customer_id FROM customers WHERE organization_id = ? AND first_name = 'Beto'`, agent.Org).
		Scan(t.Context(), &beto); err != nil {
		t.Fatal(err)
	}
	loyEnroll(t, agent, ana)
	for range 3 {
		loyBuy(t, agent, ana, "10.00")
	}

	const doc = `query Q($id: UUID!, $n: Int, $with: Boolean!) { customer(id: $id) { firstName ...F @include(if: $with)
		loyaltyAccount { transactions(first: $n) { nodes { type } } } } }
		fragment F on Customer { lastName }`
	ask := func(id uuid.UUID, n any, with bool) string {
		t.Helper()
		r := agent.Do(t, doc, map[string]any{"id": id, "n": n, "with": with})
		if len(r.Errors) > 0 {
			return r.Errors[0].Code()
		}
		return compactJSON(t, r.Data)
	}
	one := `{"customer":{"firstName":"Ana","lastName":"Lealtad","loyaltyAccount":{"transactions":{"nodes":[{"type":"EARN"}]}}}}`
	three := `{"customer":{"firstName":"Ana","loyaltyAccount":{"transactions":{"nodes":[{"type":"EARN"},{"type":"EARN"},{"type":"EARN"}]}}}}`
	for i, c := range []struct {
		id   uuid.UUID
		n    any
		with bool
		want string
	}{
		{ana, 1, true, one},
		{ana, 3, false, three},
		{ana, 1, true, one},
		{beto, 1, true, `{"customer":{"firstName":"Beto","lastName":"Sin Cuenta","loyaltyAccount":null}}`},
		{ana, 0, true, "BAD_USER_INPUT"},
		{ana, 0, true, "BAD_USER_INPUT"},
		{ana, 3, false, three},
		{uuid.New(), 3, false, `{"customer":null}`},
	} {
		if got := ask(c.id, c.n, c.with); got != c.want {
			t.Errorf("request %d: got %s\nwant %s", i, got, c.want)
		}
	}

	// Concurrent requests of the same document with other values each get their own answer.
	var wg sync.WaitGroup
	errs := make(chan string, 32)
	for i := range 32 {
		wg.Go(func() {
			n, with, want := 1, true, one
			if i%2 == 1 {
				n, with, want = 3, false, three
			}
			r := agent.Do(t, doc, map[string]any{"id": ana, "n": n, "with": with})
			if got := compactJSON(t, r.Data); got != want || len(r.Errors) > 0 {
				errs <- fmt.Sprintf("concurrent %d: %s %v", i, got, r.Errors)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	// Two root fields of one document, each its own selection; then the same document with
	// the ids swapped.
	const two = `query($a: UUID!, $b: UUID!) { a: customer(id: $a) { firstName } b: customer(id: $b) { lastName } }`
	for _, ids := range [][2]uuid.UUID{{ana, beto}, {beto, ana}} {
		r := agent.Do(t, two, map[string]any{"a": ids[0], "b": ids[1]})
		first, last := map[uuid.UUID]string{ana: "Ana", beto: "Beto"}, map[uuid.UUID]string{ana: "Lealtad", beto: "Sin Cuenta"}
		want := `{"a":{"firstName":"` + first[ids[0]] + `"},"b":{"lastName":"` + last[ids[1]] + `"}}`
		if got := compactJSON(t, r.Data); got != want || len(r.Errors) > 0 {
			t.Errorf("got %s %v\nwant %s", got, r.Errors, want)
		}
	}
}

// The occurrences of one response key are merged into one selection after their own @include
// and @skip (on the root field, or on a fragment around it) are applied, so those conditions
// decide the selection too: each value gets its own, in either order.
func TestCustomer360_CompiledSelectionsFollowTheRootFieldsConditions(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	ana := loyCustomer(t, srv, agent.Org)
	for _, doc := range []string{
		`query($id: UUID!, $a: Boolean!) { c: customer(id: $id) @include(if: $a) { firstName } c: customer(id: $id) { lastName } }`,
		`query($id: UUID!, $a: Boolean!) { ... @skip(if: $a) { c: customer(id: $id) { firstName } } ...R @include(if: $a) c: customer(id: $id) { lastName } }
		fragment R on Query { c: customer(id: $id) { email } }`,
	} {
		for i, a := range []bool{true, false, true, false} {
			r := agent.Do(t, doc, map[string]any{"id": ana, "a": a})
			want := map[bool]string{true: `{"c":{"firstName":"Ana","lastName":"Lealtad"}}`, false: `{"c":{"lastName":"Lealtad"}}`}[a]
			if strings.Contains(doc, "...R") { // $a: the fragment's email, else the inline fragment's first name
				want = map[bool]string{true: `{"c":{"email":null,"lastName":"Lealtad"}}`, false: `{"c":{"firstName":"Ana","lastName":"Lealtad"}}`}[a]
			}
			if len(r.Errors) > 0 {
				t.Fatalf("%s (a=%v): %v", doc, a, r.Errors)
			}
			if got := compactJSON(t, r.Data); got != want {
				t.Errorf("%s\nrequest %d (a=%v): got %s %v\nwant %s", doc, i, a, got, r.Errors, want)
			}
		}
	}
}

// The compiled-selection cache keys documents by their hash and never keeps a large one
// (bodies may reach 1 MiB): a 40 KiB document is answered and not kept, a small one is, and
// the bytes the cache counts stay within its bound.
func TestCustomer360_CompiledSelectionsOfLargeDocumentsAreNotKept(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	ana := loyCustomer(t, srv, agent.Org)
	small := `query($id: UUID!) { customer(id: $id) { firstName lastName } } # small ` + uuid.NewString()
	large := `query($id: UUID!) { customer(id: $id) { firstName lastName } }` + "\n# " + strings.Repeat("padding ", 40<<10/8)
	for _, doc := range []string{small, large} {
		var out struct {
			Customer struct{ FirstName, LastName string }
		}
		agent.Must(t, doc, map[string]any{"id": ana}, &out)
		if out.Customer.FirstName != "Ana" || out.Customer.LastName != "Lealtad" {
			t.Fatalf("document of %d bytes: %+v", len(doc), out)
		}
	}
	if !graph.CompiledCacheHolds(small) {
		t.Error("a small document's selection is not kept")
	}
	if graph.CompiledCacheHolds(large) {
		t.Error("a 40 KiB document's selection is kept")
	}
	if b := graph.CompiledCacheBytes(); b <= 0 || b > graph.MaxCompiledBytes {
		t.Errorf("the cache counts %d bytes, want some and at most %d", b, graph.MaxCompiledBytes)
	}
}

// The compiled-selection cache holds SQL text only: one document kept from a request of one
// organization answers another organization with that organization's rows (and never the
// first's), a token without a role is refused however warm the cache is, and an as-of
// instant passed as a variable is answered at each instant asked.
func TestCustomer360_CompiledSelectionsKeepNoOrganizationRoleOrInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	a := srv.NewOrg(t, auth.Agent)
	b := srv.NewOrg(t, auth.Agent)
	ana := loyCustomer(t, srv, a.Org)
	bea := loyCustomer(t, srv, b.Org)
	loyExec(t, srv, `UPDATE customers SET first_name = 'Bea' WHERE organization_id = ? AND customer_id = ?`, b.Org, bea)

	doc := `query($id: UUID!) { customer(id: $id) { firstName } } # ` + uuid.NewString()
	ask := func(c *apitest.Client, id uuid.UUID) string {
		t.Helper()
		r := c.Do(t, doc, map[string]any{"id": id})
		if len(r.Errors) > 0 {
			return r.Errors[0].Code()
		}
		return compactJSON(t, r.Data)
	}
	for i, c := range []struct {
		who  *apitest.Client
		id   uuid.UUID
		want string
	}{
		{a, ana, `{"customer":{"firstName":"Ana"}}`},
		{b, ana, `{"customer":null}`},
		{b, bea, `{"customer":{"firstName":"Bea"}}`},
		{a, bea, `{"customer":null}`},
		{srv.As(t, a.Org), ana, "FORBIDDEN"},
		{srv.As(t, b.Org), bea, "FORBIDDEN"},
		{srv.As(t, a.Org, auth.Viewer), ana, `{"customer":{"firstName":"Ana"}}`},
		{srv.As(t, b.Org, auth.Viewer), ana, `{"customer":null}`},
	} {
		if got := ask(c.who, c.id); got != c.want {
			t.Errorf("request %d: got %s, want %s", i, got, c.want)
		}
	}
	if !graph.CompiledCacheHolds(doc) {
		t.Fatal("the document's selection is not kept: this test would not test the cache")
	}

	// The instant of asOf is a variable of the selection: each instant is its own answer.
	loyEnroll(t, a, ana)
	loyBuy(t, a, ana, "10.00")
	var between time.Time
	if err := srv.Owner.NewRaw(`SELECT clock_timestamp()`).Scan(t.Context(), &between); err != nil {
		t.Fatal(err)
	}
	loyBuy(t, a, ana, "30.00")
	asOf := `query($id: UUID!, $at: DateTime!) { customer(id: $id) { loyaltyAccount { pointsBalance asOf(at: $at) { balance } } } } # ` + uuid.NewString()
	balanceAt := func(at time.Time) string {
		t.Helper()
		r := a.Do(t, asOf, map[string]any{"id": ana, "at": at.Format(time.RFC3339Nano)})
		if len(r.Errors) > 0 {
			return r.Errors[0].Code()
		}
		return inOrder(t, r.Data)
	}
	now := `{"customer":{"loyaltyAccount":{"pointsBalance":40,"asOf":{"balance":40}}}}`
	then := `{"customer":{"loyaltyAccount":{"pointsBalance":40,"asOf":{"balance":10}}}}`
	for i, c := range []struct {
		at   time.Time
		want string
	}{
		{between, then},
		{time.Now(), now},
		{between, then},
		{time.Now().Add(time.Hour), "BAD_USER_INPUT"},
		{between, then},
	} {
		if got := balanceAt(c.at); got != c.want {
			t.Errorf("as of request %d: got %s, want %s", i, got, c.want)
		}
	}
}

// inOrder is the JSON without its spaces, keys in the order the server wrote them (the
// selection's order).
func inOrder(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
