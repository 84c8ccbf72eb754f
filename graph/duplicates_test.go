package graph_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/customers"
	"customerservice/internal/testkit/apitest"
)

// §10 duplicateCandidates: the pairs of one organization that are probably one person, each
// once, with its score and reasons; erased customers are never candidates.

const duplicatesQuery = `query($first: Int, $after: String, $min: Int) {
	duplicateCandidates(first: $first, after: $after, minScore: $min) {
		edges { cursor node { customer { id fullName } duplicate { id fullName } score reasons } }
		nodes { customer { id } duplicate { id } }
		pageInfo { hasNextPage hasPreviousPage endCursor } } }`

type duplicatesPage struct {
	DuplicateCandidates struct {
		Edges []struct {
			Cursor string
			Node   struct {
				Customer, Duplicate struct{ ID, FullName string }
				Score               int
				Reasons             []string
			}
		}
		Nodes []struct {
			Customer, Duplicate struct{ ID string }
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			EndCursor                    *string
		}
	}
}

// pairOf is a pair as listed: the smaller id first.
func pairOf(a, b uuid.UUID, score int, reasons ...string) string {
	if strings.Compare(a.String(), b.String()) > 0 {
		a, b = b, a
	}
	return fmt.Sprintf("%s %s %d %s", a, b, score, strings.Join(reasons, ","))
}

func TestDuplicateCandidates_ListsPairsWithScoresAndReasons(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	other := srv.NewOrg(t, auth.Viewer)
	customer := func(org uuid.UUID, first, last string, birth any, docType, doc any, extra string) uuid.UUID {
		id := uuid.New()
		mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, birth_date, document_type, document_number, erased_at)
			VALUES (?, ?, ?, ?, ?::date, ?, ?, `+extra+`)`, id, org, first, last, birth, docType, doc)
		return id
	}
	address := func(org, customerID uuid.UUID, line string, isDefault bool) {
		mustExec(t, srv, `INSERT INTO addresses (organization_id, customer_id, address_line1, city, is_default) VALUES (?, ?, ?, 'Panamá', ?)`,
			org, customerID, line, isDefault)
	}
	// Similar names, one birth date.
	ana1 := customer(c.Org, "Ana María", "Pérez", "1990-04-17", nil, nil, "NULL")
	ana2 := customer(c.Org, "ana maria", "perez", "1990-04-17", nil, nil, "NULL")
	// The same birth date, another name; and an erased customer like Ana.
	customer(c.Org, "Roberto", "Castillo", "1990-04-17", nil, nil, "NULL")
	customer(c.Org, "Ana María", "Pérez", "1990-04-17", nil, nil, "now()")
	// One document: a cédula stored before §10 and the natural person's RUC.
	doc1 := customer(c.Org, "Luis", "Gómez", nil, "cedula", "8-0123-004567", "NULL")
	doc2 := customer(c.Org, "Luisa", "Vega", nil, "ruc", "8-123-4567", "NULL")
	// Similar names, the same default address line (spelled differently), no birth date.
	jose1 := customer(c.Org, "José", "Rodríguez", nil, nil, nil, "NULL")
	jose2 := customer(c.Org, "Jose", "Rodriguez", nil, nil, nil, "NULL")
	address(c.Org, jose1, "Calle 50, Casa 12", true)
	address(c.Org, jose2, "  calle 50,   casa 12 ", true)
	// The same line, but not a default address: no reason.
	mar1 := customer(c.Org, "Marta", "Ríos", nil, nil, nil, "NULL")
	mar2 := customer(c.Org, "Marta", "Rios", nil, nil, nil, "NULL")
	address(c.Org, mar1, "Vía España 1", true)
	address(c.Org, mar2, "Vía España 1", false)
	// Both name reasons: 90.
	eva1 := customer(c.Org, "Eva", "Sánchez", "1985-01-02", nil, nil, "NULL")
	eva2 := customer(c.Org, "Eva", "Sanchez", "1985-01-02", nil, nil, "NULL")
	address(c.Org, eva1, "Calle 1", true)
	address(c.Org, eva2, "Calle 1", true)
	// Another organization's customers like Ana.
	customer(other.Org, "Ana María", "Pérez", "1990-04-17", nil, nil, "NULL")
	customer(other.Org, "Ana María", "Pérez", "1990-04-17", nil, nil, "NULL")

	list := func(cl *apitest.Client, vars map[string]any) duplicatesPage {
		t.Helper()
		var out duplicatesPage
		cl.Must(t, duplicatesQuery, vars, &out)
		return out
	}
	pairs := func(p duplicatesPage) []string {
		var out []string
		for i, e := range p.DuplicateCandidates.Edges {
			n := e.Node
			if n.Customer.ID >= n.Duplicate.ID || p.DuplicateCandidates.Nodes[i].Customer.ID != n.Customer.ID ||
				p.DuplicateCandidates.Nodes[i].Duplicate.ID != n.Duplicate.ID || n.Customer.FullName == "" || n.Duplicate.FullName == "" {
				t.Fatalf("pair %d rendered wrong: %+v / %+v", i, n, p.DuplicateCandidates.Nodes[i])
			}
			out = append(out, fmt.Sprintf("%s %s %d %s", n.Customer.ID, n.Duplicate.ID, n.Score, strings.Join(n.Reasons, ",")))
		}
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }

	want := sorted(
		pairOf(ana1, ana2, 50, "SIMILAR_NAME_AND_BIRTH_DATE"),
		pairOf(doc1, doc2, 60, "SAME_DOCUMENT"),
		pairOf(eva1, eva2, 90, "SIMILAR_NAME_AND_ADDRESS", "SIMILAR_NAME_AND_BIRTH_DATE"),
	)
	if got := pairs(list(c, nil)); !slices.Equal(got, want) {
		t.Fatalf("default minScore:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	want40 := sorted(append(slices.Clone(want), pairOf(jose1, jose2, 40, "SIMILAR_NAME_AND_ADDRESS"))...)
	if got := pairs(list(c, map[string]any{"min": 40})); !slices.Equal(got, want40) {
		t.Fatalf("minScore 40:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want40, "\n"))
	}
	if got := pairs(list(c, map[string]any{"min": 61})); !slices.Equal(got, []string{pairOf(eva1, eva2, 90, "SIMILAR_NAME_AND_ADDRESS", "SIMILAR_NAME_AND_BIRTH_DATE")}) {
		t.Fatalf("minScore 61: %v", got)
	}

	// Pages of one pair walk the same list.
	var walked []string
	var after any
	for i := 0; ; i++ {
		p := list(c, map[string]any{"first": 1, "after": after, "min": 40})
		walked = append(walked, pairs(p)...)
		if p.DuplicateCandidates.PageInfo.HasPreviousPage != (i > 0) {
			t.Fatalf("page %d: hasPreviousPage %v", i, p.DuplicateCandidates.PageInfo.HasPreviousPage)
		}
		if !p.DuplicateCandidates.PageInfo.HasNextPage {
			break
		}
		after = *p.DuplicateCandidates.PageInfo.EndCursor
	}
	if !slices.Equal(walked, want40) {
		t.Fatalf("paged:\n%s\nwant\n%s", strings.Join(walked, "\n"), strings.Join(want40, "\n"))
	}

	// §7: the other organization sees its own pair only.
	if got := list(other, nil).DuplicateCandidates.Edges; len(got) != 1 || got[0].Node.Score != 50 {
		t.Fatalf("another organization: %+v", got)
	}

	for name, vars := range map[string]map[string]any{
		"minScore 0": {"min": 0}, "minScore 101": {"min": 101}, "first 0": {"first": 0}, "first 101": {"first": 101},
		"a foreign cursor": {"after": "eyJvIjoiY3JlYXRlZF9hdDpkZXNjIiwiayI6IngiLCJpZCI6IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMSJ9"},
	} {
		if code := c.Do(t, duplicatesQuery, vars).ErrorCode(t); code != "BAD_USER_INPUT" {
			t.Errorf("%s: %s, want BAD_USER_INPUT", name, code)
		}
	}
}

// The address reason's probe is an index condition on the line's key under row-level
// security too (app_address_line_key is LEAKPROOF). The whole page's plan over a million
// customers — the primary key walked, an index probed per reason, no sequential scan — is
// BenchmarkDuplicateCandidates1M's (BENCHMARKS.md).
func TestDuplicateCandidates_AddressProbeReadsItsIndex(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	plan := explainAsApp(t, srv, org, `SELECT bd.customer_id FROM addresses AS bd WHERE bd.organization_id = '`+org.String()+`'::uuid
		AND `+customers.AddressLineKeySQL("bd")+` = 'calle 50' AND bd.is_default AND bd.is_active`)
	if !strings.Contains(plan, "addresses_default_line_idx") || !regexp.MustCompile(`Index Cond: .*app_address_line_key`).MatchString(plan) {
		t.Fatalf("the probe does not read its index:\n%s", plan)
	}
}
