package graph_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

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
