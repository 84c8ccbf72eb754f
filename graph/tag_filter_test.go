package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// tagCustomers is the organization of the tag filter's tests: tagCustomersN customers created a
// minute apart (N1 the oldest), every one tagged common, the even ones half too; rareA on N100,
// N1500 and N2900; rareB on N1500, N2900 and N4000; odd (quotes, braces, a comma, a
// backslash, an accent) on N2000; the empty tag on N2500; N4500 carries rareA but is merged
// into N100 (§10: in no list, count or stats). Another organization has rareA and common on
// customers of its own. The table is analyzed, so the statistic of the tags knows common
// and half.
type tagCustomers struct {
	org                             uuid.UUID
	ids                             map[int]uuid.UUID // N → id
	common, half, rareA, rareB, odd string
	nobody                          string
}

const tagCustomersN = 5000

func newTagCustomers(t *testing.T, srv *apitest.Server, org uuid.UUID) tagCustomers {
	t.Helper()
	ctx := context.Background()
	tok := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	f := tagCustomers{org: org, ids: map[int]uuid.UUID{},
		common: "common-" + tok, half: "half-" + tok, rareA: "rare-a-" + tok, rareB: "rare-b-" + tok,
		odd: `o'dd "q" {x,y} \ ñ-` + tok, nobody: "nobody-" + tok}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := srv.Owner.ExecContext(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO customers (organization_id, first_name, last_name, created_at, tags)
SELECT ?, 'Tag', 'N' || g, timestamptz '2026-01-01' + g * interval '1 minute',
  CASE WHEN g % 2 = 0 THEN ARRAY[?, ?]::varchar[] ELSE ARRAY[?]::varchar[] END
FROM generate_series(1, ?) AS g`, org, f.common, f.half, f.common, tagCustomersN)
	add := func(tag string, ns ...int) {
		exec(`UPDATE customers SET tags = tags || ARRAY[?]::varchar[] WHERE organization_id = ? AND last_name = ANY(?)`,
			tag, org, pgdialect.Array(lastNames(ns)))
	}
	add(f.rareA, 100, 1500, 2900, 4500)
	add(f.rareB, 1500, 2900, 4000)
	add(f.odd, 2000)
	add("", 2500)
	var rows []struct {
		ID       uuid.UUID `bun:"customer_id"`
		LastName string    `bun:"last_name"`
	}
	if err := srv.Owner.NewRaw("SELECT customer_id, last_name FROM customers WHERE organization_id = ?", org).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var n int
		fmt.Sscanf(r.LastName, "N%d", &n)
		f.ids[n] = r.ID
	}
	exec(`UPDATE customers SET status = 'merged', merged_into = ? WHERE organization_id = ? AND customer_id = ?`, f.ids[100], org, f.ids[4500])
	exec(`INSERT INTO customers (organization_id, first_name, last_name, tags)
SELECT ?, 'Other', 'O' || g, ARRAY[?, ?]::varchar[] FROM generate_series(1, 3) AS g`, uuid.New(), f.rareA, f.common)
	exec("ANALYZE customers")
	return f
}

func lastNames(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint("N", n)
	}
	return out
}

// throughIndex reports whether a statement on customers sent since the last call handed a
// filter to the tags index (customer_tag_ids), and forgets them.
func throughIndex(log *queryLog) bool {
	return slices.ContainsFunc(log.customerSelects(), func(q string) bool { return strings.Contains(q, "customer_tag_ids(") })
}

// Issue 17: a filter by tags few customers have goes through the tags index
// (customer_tag_ids, migration 20261230000001), one most customers have keeps the plain
// condition; either way the customers listed, counted and in the stats are exactly those the
// plain condition selects (any / all, several tags, the empty list, the empty tag, a tag with
// quotes, braces and a backslash, a merged customer, other conditions, a saved segment's
// filter), and only the organization's. On Citus and without the definer role the filter is
// never indexed (customer_tag_ids runs as its caller, like the search).
func TestCustomers_TagFilterThroughTheIndexFindsWhatThePlainConditionFinds(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	log := &queryLog{}
	srv.Statements.Watch(log.record)
	c := srv.NewOrg(t, auth.Viewer)
	manager := srv.As(t, c.Org, auth.Manager)
	f := newTagCustomers(t, srv, c.Org)
	indexes := !testdb.OnCitus()

	segment := segCall(t, manager, createSegment, map[string]any{"input": map[string]any{
		"name": "rare A", "filter": map[string]any{"tags": map[string]any{"any": []string{f.rareA}}}}}).SavedSegment
	if segment == nil {
		t.Fatal("saved segment not created")
	}
	arr := func(tags ...string) any { return pgdialect.Array(tags) }
	cases := []struct {
		name    string
		filter  map[string]any
		where   string // over customers of the organization not merged
		args    []any
		indexed bool
	}{
		{"any rare", map[string]any{"tags": map[string]any{"any": []string{f.rareA}}}, "tags && ?::varchar[]", []any{arr(f.rareA)}, true},
		{"any two rare", map[string]any{"tags": map[string]any{"any": []string{f.rareA, f.rareB}}}, "tags && ?::varchar[]", []any{arr(f.rareA, f.rareB)}, true},
		{"all two rare", map[string]any{"tags": map[string]any{"all": []string{f.rareA, f.rareB}}}, "tags @> ?::varchar[]", []any{arr(f.rareA, f.rareB)}, true},
		{"all rare and common", map[string]any{"tags": map[string]any{"all": []string{f.common, f.rareB, f.half}}}, "tags @> ?::varchar[]", []any{arr(f.common, f.rareB, f.half)}, true},
		{"any rare and common", map[string]any{"tags": map[string]any{"any": []string{f.rareA, f.common}}}, "tags && ?::varchar[]", []any{arr(f.rareA, f.common)}, false},
		{"any common", map[string]any{"tags": map[string]any{"any": []string{f.common}}}, "tags && ?::varchar[]", []any{arr(f.common)}, false},
		{"all common and half", map[string]any{"tags": map[string]any{"all": []string{f.common, f.half}}}, "tags @> ?::varchar[]", []any{arr(f.common, f.half)}, false},
		{"any nobody has", map[string]any{"tags": map[string]any{"any": []string{f.nobody}}}, "false", nil, true},
		{"any empty matches none", map[string]any{"tags": map[string]any{"any": []string{}}}, "false", nil, true},
		{"all empty matches all", map[string]any{"tags": map[string]any{"all": []string{}}}, "true", nil, false},
		{"the empty tag", map[string]any{"tags": map[string]any{"any": []string{""}}}, "tags && '{\"\"}'", nil, true},
		{"odd characters", map[string]any{"tags": map[string]any{"any": []string{f.odd, f.nobody}}}, "tags && ?::varchar[]", []any{arr(f.odd)}, true},
		{"rare any and all", map[string]any{"tags": map[string]any{"any": []string{f.rareB}, "all": []string{f.rareA}}},
			"tags && ?::varchar[] AND tags @> ?::varchar[]", []any{arr(f.rareB), arr(f.rareA)}, true},
		{"rare and a created range", map[string]any{"tags": map[string]any{"any": []string{f.rareA, f.rareB}},
			"createdAt": map[string]any{"from": "2026-01-02T00:00:00Z", "to": "2026-01-03T20:00:00Z"}},
			"tags && ?::varchar[] AND created_at >= '2026-01-02' AND created_at < '2026-01-03 20:00Z'", []any{arr(f.rareA, f.rareB)}, true},
		{"saved segment's rare and a common tag", map[string]any{"savedSegment": segment.ID, "tags": map[string]any{"any": []string{f.half}}},
			"tags && ?::varchar[] AND tags && ?::varchar[]", []any{arr(f.rareA), arr(f.half)}, true},
	}
	ctx := context.Background()
	for _, tc := range cases {
		var want []uuid.UUID
		if err := srv.Owner.NewRaw(`SELECT customer_id FROM customers WHERE organization_id = ? AND merged_into IS NULL AND `+tc.where+`
			ORDER BY created_at DESC, customer_id DESC`, append([]any{c.Org}, tc.args...)...).Scan(ctx, &want); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		throughIndex(log)
		var out struct {
			Customers struct {
				TotalCount int
				Nodes      []struct{ ID uuid.UUID }
			}
			CustomerStats struct{ Total int }
		}
		c.Must(t, `query($f: CustomerFilter) { customers(first: 100, filter: $f) { totalCount nodes { id } }
			customerStats(filter: $f) { total } }`, map[string]any{"f": tc.filter}, &out)
		var got []uuid.UUID
		for _, n := range out.Customers.Nodes {
			got = append(got, n.ID)
		}
		page := want[:min(len(want), 100)]
		if !slices.Equal(got, page) || out.Customers.TotalCount != len(want) || out.CustomerStats.Total != len(want) {
			t.Errorf("%s: %d listed (%d of them the plain condition's first page of %d), totalCount %d, stats %d; want %d",
				tc.name, len(got), len(page), len(want), out.Customers.TotalCount, out.CustomerStats.Total, len(want))
		}
		if indexed := throughIndex(log); indexed != (tc.indexed && indexes) {
			t.Errorf("%s: through the tags index %v, want %v", tc.name, indexed, tc.indexed && indexes)
		}
	}
	// The three the cases name, to be sure the expectations are not all empty.
	var few struct {
		Customers struct{ Nodes []struct{ LastName string } }
	}
	c.Must(t, `query($t: [String!]) { customers(filter: {tags: {any: $t}}) { nodes { lastName } } }`, map[string]any{"t": []string{f.rareA}}, &few)
	if fmt.Sprint(few.Customers.Nodes) != "[{N2900} {N1500} {N100}]" {
		t.Fatalf("rare A: %v, want N2900, N1500, N100 (N4500 merged)", few.Customers.Nodes)
	}

	// The decision is kept (a minute, per organization): the same filter again costs the
	// list's one round trip, as a filter without tags; a new one asks first.
	pageOf := func(tags []string) int64 {
		before := srv.Statements.Count()
		c.Must(t, `query($t: [String!]) { customers(first: 5, filter: {tags: {any: $t}}) { totalCount nodes { id } } }`, map[string]any{"t": tags}, nil)
		return srv.Statements.Count() - before
	}
	if again, fresh := pageOf([]string{f.rareA}), pageOf([]string{f.rareB, f.odd}); again != statementsOf360Page || fresh != statementsOf360Page+readRoundTrip(1) {
		t.Errorf("statements of a page filtered by tags: again %d, want %d; a new filter %d, want %d",
			again, statementsOf360Page, fresh, statementsOf360Page+readRoundTrip(1))
	}

	// Concurrent requests, some deciding, some finding the decision kept: each answers what
	// the plain condition selects (N100, N1500, N2900, N4000).
	var wg sync.WaitGroup
	wrong := make(chan string, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tags := []string{f.rareA, f.rareB, fmt.Sprint("x-", i%4)}
			res := c.Do(t, `query($t: [String!]) { customers(first: 1, filter: {tags: {any: $t}}) { totalCount } }`, map[string]any{"t": tags})
			var out struct{ Customers struct{ TotalCount int } }
			if err := json.Unmarshal(res.Data, &out); err != nil || len(res.Errors) > 0 || out.Customers.TotalCount != 4 {
				wrong <- fmt.Sprintf("%v: %s", tags, clip(res.Body))
			}
		}()
	}
	wg.Wait()
	close(wrong)
	for w := range wrong {
		t.Errorf("concurrent filter %s, want totalCount 4", w)
	}

	// Bad input is refused before anything is asked of the database, as before.
	for name, v := range map[string]string{"NUL": "ra\x00re", "1 MB": strings.Repeat("x", 1<<20)} {
		res := c.Do(t, `query($t: [String!]) { customers(filter: {tags: {all: $t}}) { totalCount } }`, map[string]any{"t": []string{f.rareA, v}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("%s in tags all: %s", name, clip(res.Body))
		}
	}
}

// Issue 17: under row-level security a filter by a tag few customers have reads those
// customers, not the organization's. The statements of a list page with its count, exactly
// as sent, are run again under EXPLAIN ANALYZE as the server's role (sequential scans
// discouraged): no scan of customers reads more rows than the few the tags name — before
// the fix, an index scan of all 5,000 of the organization's. A tag every customer has keeps
// the newest-first scan that stops after a page. On Citus the filter runs as the search does
// there, under RLS without the index: the plain condition, checked instead.
func TestCustomers_TagFilterReadsOnlyTheTaggedCustomersUnderRLS(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	srv := apitest.NewWith(t, apitest.Options{DB: db.Options{Tracers: []pgx.QueryTracer{rec}, NoPreparedStatements: true}})
	c := srv.NewOrg(t, auth.Viewer)
	f := newTagCustomers(t, srv, c.Org)

	list := func(filter map[string]any) []recorded {
		t.Helper()
		rec.start()
		var out struct{ Customers struct{ TotalCount int } }
		c.Must(t, `query($f: CustomerFilter) { customers(first: 20, filter: $f) { totalCount nodes { id } } }`, map[string]any{"f": filter}, &out)
		stmts := rec.stop()
		if out.Customers.TotalCount == 0 {
			t.Fatalf("%v: no customer", filter)
		}
		return stmts
	}
	// rowsRead is the rows of customers each statement on them read, the page's then the
	// count's.
	rowsRead := func(what string, stmts []recorded, indexed bool) []int {
		t.Helper()
		var reads []int
		for _, s := range stmts {
			if !tenantStatement.MatchString(s.sql) {
				continue
			}
			if got := strings.Contains(s.sql, "customer_tag_ids("); got != indexed {
				t.Errorf("%s: through the tags index %v, want %v:\n%s", what, got, indexed, s.sql)
			}
			read := 0
			// The plans made with the filter's values: the generic plan the server's reads run
			// (db.ReadInOrg) read the organization for the common tag's page in some runs
			// (5,000 rows; docs/decisions-reads.md, open).
			for _, scan := range planScans(t, c.Org, s, false, "customers") {
				read += scan.rows
			}
			t.Logf("%s: %d rows of customers read by\n%s", what, read, s.sql)
			reads = append(reads, read)
		}
		if len(reads) != 2 {
			t.Fatalf("%s: %d statements on customers, want the page and its count", what, len(reads))
		}
		return reads
	}

	rare := []map[string]any{
		{"tags": map[string]any{"any": []string{f.rareA}}},
		{"tags": map[string]any{"all": []string{f.rareB, f.common}}},
		{"tags": map[string]any{"any": []string{f.rareA, f.rareB}}, "status": []string{"ACTIVE"}},
	}
	for _, filter := range rare {
		what := fmt.Sprint(filter)
		if reads := rowsRead(what, list(filter), !testdb.OnCitus()); !testdb.OnCitus() && slices.Max(reads) > 10 {
			t.Errorf("%s: the page and the count read %v rows of customers, want at most 10 each (the tagged ones)", what, reads)
		}
	}
	// The common tag: the page is the newest-first scan that stops after the page (21 rows);
	// its count reads the organization's customers, as before.
	if reads := rowsRead("common", list(map[string]any{"tags": map[string]any{"any": []string{f.common}}}), false); !testdb.OnCitus() && reads[0] > 2*21 {
		t.Errorf("common tag: the page read %d rows of customers, want about a page (21)", reads[0])
	}
}
