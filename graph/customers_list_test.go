package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/models"
)

// ---- listFixtures --------------------------------------------------------------------------

// listFixtures inserts rows of one organization as the owner.
type listFixtures struct {
	t   testing.TB
	srv *apitest.Server
	org uuid.UUID
}

func newListFixtures(t testing.TB, srv *apitest.Server, org uuid.UUID) listFixtures {
	return listFixtures{t: t, srv: srv, org: org}
}

func (f listFixtures) insert(model any) {
	f.t.Helper()
	if _, err := f.srv.Owner.NewInsert().Model(model).Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// customer inserts c with the defaults of the table for what it leaves empty.
func (f listFixtures) customer(c models.Customer) models.Customer {
	f.t.Helper()
	f.fill(&c)
	f.insert(&c)
	return c
}

func (f listFixtures) fill(c *models.Customer) {
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	c.OrganizationID = f.org
	if c.CustomerType == "" {
		c.CustomerType = models.CustomerTypeB2C
	}
	if c.LastName == "" {
		c.LastName = "Test"
	}
	if c.Status == "" {
		c.Status = models.CustomerStatusActive
	}
	if c.PreferredLanguage == "" {
		c.PreferredLanguage = "es"
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
}

func (f listFixtures) loyalty(customer uuid.UUID, tier models.Tier, points int) {
	f.t.Helper()
	f.insert(&models.LoyaltyAccount{ID: uuid.New(), OrganizationID: f.org, CustomerID: customer,
		PointsBalance: points, LifetimePoints: points, Tier: tier, TierSince: time.Now(), TotalSpent: decimal.Zero})
}

func (f listFixtures) segment(customer uuid.UUID, code models.SegmentCode, ltv string, vip, atRisk bool) {
	f.t.Helper()
	f.insert(&models.CustomerSegment{ID: uuid.New(), OrganizationID: f.org, CustomerID: customer, SegmentCode: code,
		LifetimeValue: decimal.RequireFromString(ltv), IsVip: vip, IsAtRisk: atRisk})
}

func (f listFixtures) credit(customer uuid.UUID) {
	f.t.Helper()
	f.insert(&models.CreditAccount{ID: uuid.New(), OrganizationID: f.org, CustomerID: customer,
		CreditLimit: decimal.NewFromInt(1000), PaymentTermDays: 30, Status: models.CreditStatusApproved})
}

// sortedIDs are n random ids in ascending order, to make ties broken by id predictable.
func sortedIDs(n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func refTo[T any](v T) *T { return &v }

// fiveCustomers is the fixture of the filter, order and stats tests: five customers whose
// first names label them, with ids ascending in that order (Ana < Beto < … by id).
//
//	         type status    tags          created     last purchase  loyalty        segment                  credit
//	Ana      b2c  active    vip, news     01-01       03-01          gold 500       champions vip ltv 900    -
//	Beto     b2b  active    news          01-02       03-02          silver 100     at_risk risk ltv 50      yes
//	Carla    b2c  inactive  -             01-03       -              -              -                        -
//	Diego    b2b  blocked   vip           01-04       02-15          bronze 0       loyal ltv 200            yes
//	Elena    b2c  active    other         01-05       -              platinum 2000  -                        -
func fiveCustomers(t *testing.T, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	f := newListFixtures(t, srv, org)
	ids := sortedIDs(5)
	ana := f.customer(models.Customer{ID: ids[0], FirstName: "Ana", LastName: "Pérez", Tags: []string{"vip", "news"},
		CreatedAt: mustTime("2026-01-01T00:00:00Z"), LastPurchaseAt: refTo(mustTime("2026-03-01T00:00:00Z"))})
	beto := f.customer(models.Customer{ID: ids[1], FirstName: "Beto", LastName: "Arias", CustomerType: models.CustomerTypeB2B,
		Tags: []string{"news"}, CreatedAt: mustTime("2026-01-02T00:00:00Z"), LastPurchaseAt: refTo(mustTime("2026-03-02T00:00:00Z"))})
	carla := f.customer(models.Customer{ID: ids[2], FirstName: "Carla", LastName: "Castillo", Status: models.CustomerStatusInactive,
		CreatedAt: mustTime("2026-01-03T00:00:00Z")})
	diego := f.customer(models.Customer{ID: ids[3], FirstName: "Diego", LastName: "Zúñiga", CustomerType: models.CustomerTypeB2B,
		Status: models.CustomerStatusBlocked, Tags: []string{"vip"}, CreatedAt: mustTime("2026-01-04T00:00:00Z"),
		LastPurchaseAt: refTo(mustTime("2026-02-15T00:00:00Z"))})
	elena := f.customer(models.Customer{ID: ids[4], FirstName: "Elena", LastName: "Castillo", Tags: []string{"other"},
		CreatedAt: mustTime("2026-01-05T00:00:00Z")})
	f.loyalty(ana.ID, models.TierGold, 500)
	f.loyalty(beto.ID, models.TierSilver, 100)
	f.loyalty(diego.ID, models.TierBronze, 0)
	f.loyalty(elena.ID, models.TierPlatinum, 2000)
	f.segment(ana.ID, models.SegmentChampions, "900.00", true, false)
	f.segment(beto.ID, models.SegmentAtRisk, "50.00", false, true)
	f.segment(diego.ID, models.SegmentLoyal, "200.00", false, false)
	f.credit(beto.ID)
	f.credit(diego.ID)
	_ = carla
}

// ---- the list query --------------------------------------------------------------------

const listQuery = `query($first: Int, $after: String, $last: Int, $before: String, $filter: CustomerFilter,
		$search: String, $orderBy: CustomerOrder) {
	customers(first: $first, after: $after, last: $last, before: $before, filter: $filter, search: $search, orderBy: $orderBy) {
		edges { cursor node { id firstName } }
		nodes { id }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		totalCount
	}
}`

type listPage struct {
	Edges []struct {
		Cursor string
		Node   struct {
			ID        string
			FirstName string
		}
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount int
}

// names are the first names of the page, in order.
func (p listPage) names() []string {
	out := []string{}
	for _, e := range p.Edges {
		out = append(out, e.Node.FirstName)
	}
	return out
}

// list runs the list query and checks what every page must hold: nodes and edges agree,
// and the start and end cursors are the first and last edges' cursors.
func listCustomers(t *testing.T, c *apitest.Client, vars map[string]any) listPage {
	t.Helper()
	var out struct{ Customers listPage }
	c.Must(t, listQuery, vars, &out)
	p := out.Customers
	if len(p.Nodes) != len(p.Edges) {
		t.Fatalf("%d nodes, %d edges", len(p.Nodes), len(p.Edges))
	}
	for i := range p.Nodes {
		if p.Nodes[i].ID != p.Edges[i].Node.ID {
			t.Fatalf("nodes and edges differ at %d", i)
		}
	}
	if len(p.Edges) == 0 {
		if p.PageInfo.StartCursor != nil || p.PageInfo.EndCursor != nil {
			t.Fatalf("empty page with cursors: %+v", p.PageInfo)
		}
	} else if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
		p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
		t.Fatalf("start/end cursors do not match the edges: %+v", p.PageInfo)
	}
	return p
}

func gqlVars(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// ---- filters ---------------------------------------------------------------------------

func TestCustomers_FiltersByEveryCondition(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	// Another organization with the same kinds of customers must not show up in any of them.
	fiveCustomers(t, srv, uuid.New())

	// Default order: newest first, so Elena (01-05) … Ana (01-01).
	cases := []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"no filter", map[string]any{}, []string{"Elena", "Diego", "Carla", "Beto", "Ana"}},
		{"status one", map[string]any{"status": []string{"ACTIVE"}}, []string{"Elena", "Beto", "Ana"}},
		{"status two", map[string]any{"status": []string{"INACTIVE", "BLOCKED"}}, []string{"Diego", "Carla"}},
		{"status empty list matches none", map[string]any{"status": []string{}}, []string{}},
		{"status null is no condition", map[string]any{"status": nil}, []string{"Elena", "Diego", "Carla", "Beto", "Ana"}},
		{"customerType", map[string]any{"customerType": []string{"B2B"}}, []string{"Diego", "Beto"}},
		{"tier two", map[string]any{"tier": []string{"GOLD", "SILVER"}}, []string{"Beto", "Ana"}},
		{"tier bronze (zero points)", map[string]any{"tier": []string{"BRONZE"}}, []string{"Diego"}},
		{"segment", map[string]any{"segment": []string{"CHAMPIONS", "LOYAL"}}, []string{"Diego", "Ana"}},
		{"segment at risk", map[string]any{"segment": []string{"AT_RISK"}}, []string{"Beto"}},
		{"isVip true", map[string]any{"isVip": true}, []string{"Ana"}},
		{"isVip false includes no segment", map[string]any{"isVip": false}, []string{"Elena", "Diego", "Carla", "Beto"}},
		{"isAtRisk true", map[string]any{"isAtRisk": true}, []string{"Beto"}},
		{"isAtRisk false includes no segment", map[string]any{"isAtRisk": false}, []string{"Elena", "Diego", "Carla", "Ana"}},
		{"tags any", map[string]any{"tags": map[string]any{"any": []string{"vip", "other"}}}, []string{"Elena", "Diego", "Ana"}},
		{"tags all", map[string]any{"tags": map[string]any{"all": []string{"vip", "news"}}}, []string{"Ana"}},
		{"tags all one", map[string]any{"tags": map[string]any{"all": []string{"news"}}}, []string{"Beto", "Ana"}},
		{"tags any and all", map[string]any{"tags": map[string]any{"any": []string{"news", "other"}, "all": []string{"vip"}}}, []string{"Ana"}},
		{"tags any none matching", map[string]any{"tags": map[string]any{"any": []string{"nobody"}}}, []string{}},
		{"tags any empty matches none", map[string]any{"tags": map[string]any{"any": []string{}}}, []string{}},
		{"tags all empty matches all", map[string]any{"tags": map[string]any{"all": []string{}}}, []string{"Elena", "Diego", "Carla", "Beto", "Ana"}},
		{"hasCreditAccount true", map[string]any{"hasCreditAccount": true}, []string{"Diego", "Beto"}},
		{"hasCreditAccount false", map[string]any{"hasCreditAccount": false}, []string{"Elena", "Carla", "Ana"}},
		{"createdAt from inclusive, to exclusive", map[string]any{"createdAt": map[string]any{"from": "2026-01-02T00:00:00Z", "to": "2026-01-04T00:00:00Z"}},
			[]string{"Carla", "Beto"}},
		{"createdAt from only", map[string]any{"createdAt": map[string]any{"from": "2026-01-04T00:00:00Z"}}, []string{"Elena", "Diego"}},
		{"createdAt to only", map[string]any{"createdAt": map[string]any{"to": "2026-01-02T00:00:00Z"}}, []string{"Ana"}},
		{"createdAt from one microsecond later", map[string]any{"createdAt": map[string]any{"from": "2026-01-04T00:00:00.000001Z"}}, []string{"Elena"}},
		{"createdAt in another zone", map[string]any{"createdAt": map[string]any{"from": "2026-01-03T19:00:00-05:00"}}, []string{"Elena", "Diego"}},
		{"lastPurchaseAt range", map[string]any{"lastPurchaseAt": map[string]any{"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}},
			[]string{"Ana"}},
		{"lastPurchaseAt from excludes never purchased", map[string]any{"lastPurchaseAt": map[string]any{"from": "2026-01-01T00:00:00Z"}},
			[]string{"Diego", "Beto", "Ana"}},
		{"lastPurchaseAt to excludes never purchased", map[string]any{"lastPurchaseAt": map[string]any{"to": "2026-03-01T00:00:00Z"}},
			[]string{"Diego"}},
		{"all conditions AND", map[string]any{"status": []string{"ACTIVE"}, "tier": []string{"GOLD", "PLATINUM"}, "hasCreditAccount": false},
			[]string{"Elena", "Ana"}},
		{"isVip false and B2B", map[string]any{"isVip": false, "customerType": []string{"B2B"}}, []string{"Diego", "Beto"}},
		{"tier and segment joins together", map[string]any{"tier": []string{"SILVER", "BRONZE"}, "isAtRisk": false}, []string{"Diego"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := listCustomers(t, c, gqlVars("filter", tc.filter))
			if got := p.names(); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if p.TotalCount != len(tc.want) {
				t.Fatalf("totalCount %d, want %d", p.TotalCount, len(tc.want))
			}
			if p.PageInfo.HasNextPage || p.PageInfo.HasPreviousPage {
				t.Fatalf("one page only: %+v", p.PageInfo)
			}
		})
	}
}

// ---- orders ----------------------------------------------------------------------------

func TestCustomers_OrdersByEveryFieldBothDirections(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)

	// Missing values (never purchased, not enrolled, no segment) sort as the lowest; ties
	// (the two Castillos, the missing values) are broken by id, ascending like the order.
	cases := []struct {
		field string
		asc   []string
	}{
		{"CREATED_AT", []string{"Ana", "Beto", "Carla", "Diego", "Elena"}},
		{"LAST_PURCHASE_AT", []string{"Carla", "Elena", "Diego", "Ana", "Beto"}},
		{"LAST_NAME", []string{"Beto", "Carla", "Elena", "Ana", "Diego"}},
		{"POINTS_BALANCE", []string{"Carla", "Diego", "Beto", "Ana", "Elena"}},
		{"LIFETIME_VALUE", []string{"Carla", "Elena", "Beto", "Diego", "Ana"}},
	}
	for _, tc := range cases {
		desc := slices.Clone(tc.asc)
		slices.Reverse(desc)
		for dir, want := range map[string][]string{"ASC": tc.asc, "DESC": desc} {
			t.Run(tc.field+"_"+dir, func(t *testing.T) {
				order := map[string]any{"field": tc.field, "direction": dir}
				if got := listCustomers(t, c, gqlVars("orderBy", order)).names(); !slices.Equal(got, want) {
					t.Fatalf("one page: got %v, want %v", got, want)
				}
				// Paging two at a time crosses the ties and the missing values through cursors.
				if got := walkForward(t, c, gqlVars("orderBy", order), 2); !slices.Equal(got, want) {
					t.Fatalf("forward by 2: got %v, want %v", got, want)
				}
				if got := walkBackward(t, c, gqlVars("orderBy", order), 2); !slices.Equal(got, want) {
					t.Fatalf("backward by 2: got %v, want %v", got, want)
				}
			})
		}
	}
}

func TestCustomers_DefaultOrderIsNewestFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	explicit := listCustomers(t, c, gqlVars("orderBy", map[string]any{"field": "CREATED_AT", "direction": "DESC"}))
	def := listCustomers(t, c, nil)
	if !slices.Equal(def.names(), []string{"Elena", "Diego", "Carla", "Beto", "Ana"}) || !slices.Equal(def.names(), explicit.names()) {
		t.Fatalf("default %v, explicit %v", def.names(), explicit.names())
	}
	// A cursor of the default order is a cursor of CREATED_AT DESC and back.
	next := listCustomers(t, c, gqlVars("first", 2, "after", def.Edges[1].Cursor, "orderBy", map[string]any{"field": "CREATED_AT", "direction": "DESC"}))
	if !slices.Equal(next.names(), []string{"Carla", "Beto"}) {
		t.Fatalf("got %v", next.names())
	}
}

// walkForward pages with first n from the start to the end and returns every name seen,
// checking hasNextPage and hasPreviousPage on the way.
func walkForward(t *testing.T, c *apitest.Client, base map[string]any, n int) []string {
	t.Helper()
	var seen []string
	var after any
	for i := 0; ; i++ {
		v := withVars(base, "first", n, "after", after)
		p := listCustomers(t, c, v)
		seen = append(seen, p.names()...)
		if p.PageInfo.HasPreviousPage != (i > 0) {
			t.Fatalf("page %d: hasPreviousPage %v", i, p.PageInfo.HasPreviousPage)
		}
		if !p.PageInfo.HasNextPage {
			if len(p.Edges) == 0 && i > 0 {
				t.Fatalf("page %d: an empty last page (the previous one said it had a next page)", i)
			}
			return seen
		}
		if len(p.Edges) != n {
			t.Fatalf("page %d: %d customers with a next page", i, len(p.Edges))
		}
		after = *p.PageInfo.EndCursor
		if i > 100 {
			t.Fatal("no end")
		}
	}
}

// walkBackward pages with last n from the end to the start and returns every name in list
// order.
func walkBackward(t *testing.T, c *apitest.Client, base map[string]any, n int) []string {
	t.Helper()
	var seen []string
	var before any
	for i := 0; ; i++ {
		p := listCustomers(t, c, withVars(base, "last", n, "before", before))
		seen = append(p.names(), seen...)
		if p.PageInfo.HasNextPage != (i > 0) {
			t.Fatalf("backward page %d: hasNextPage %v", i, p.PageInfo.HasNextPage)
		}
		if !p.PageInfo.HasPreviousPage {
			return seen
		}
		if len(p.Edges) != n {
			t.Fatalf("backward page %d: %d customers with a previous page", i, len(p.Edges))
		}
		before = *p.PageInfo.StartCursor
		if i > 100 {
			t.Fatal("no start")
		}
	}
}

func withVars(base map[string]any, kv ...any) map[string]any {
	m := gqlVars(kv...)
	for k, v := range base {
		m[k] = v
	}
	return m
}

// ---- cursor walks ----------------------------------------------------------------------

func TestCustomers_CursorWalkReturnsEveryCustomerOnceInBothDirections(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	f := newListFixtures(t, srv, c.Org)

	// 23 customers; pairs share a creation time, so ties are broken by id.
	base := mustTime("2026-02-01T10:00:00Z")
	type row struct {
		name    string
		id      uuid.UUID
		created time.Time
	}
	var rows []row
	for i := range 23 {
		cu := f.customer(models.Customer{FirstName: fmt.Sprintf("C%02d", i), CreatedAt: base.Add(time.Duration(i/2) * time.Minute)})
		rows = append(rows, row{cu.FirstName, cu.ID, cu.CreatedAt})
	}
	// Newest first, ties by id descending.
	slices.SortFunc(rows, func(a, b row) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	var want []string
	for _, r := range rows {
		want = append(want, r.name)
	}

	// Forward: 5, 5, 5, 5, 3.
	var got []string
	var after any
	for i := range 5 {
		p := listCustomers(t, c, gqlVars("first", 5, "after", after))
		wantLen, wantNext := 5, i < 4
		if i == 4 {
			wantLen = 3
		}
		if len(p.Edges) != wantLen || p.PageInfo.HasNextPage != wantNext || p.PageInfo.HasPreviousPage != (i > 0) || p.TotalCount != 23 {
			t.Fatalf("forward page %d: %d customers, pageInfo %+v, totalCount %d", i, len(p.Edges), p.PageInfo, p.TotalCount)
		}
		got = append(got, p.names()...)
		after = *p.PageInfo.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward walk:\n got %v\nwant %v", got, want)
	}

	// Backward from the end: 5, 5, 5, 5, 3.
	got = nil
	var before any
	for i := range 5 {
		p := listCustomers(t, c, gqlVars("last", 5, "before", before))
		wantLen, wantPrev := 5, i < 4
		if i == 4 {
			wantLen = 3
		}
		if len(p.Edges) != wantLen || p.PageInfo.HasPreviousPage != wantPrev || p.PageInfo.HasNextPage != (i > 0) {
			t.Fatalf("backward page %d: %d customers, pageInfo %+v", i, len(p.Edges), p.PageInfo)
		}
		got = append(p.names(), got...)
		before = *p.PageInfo.StartCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("backward walk:\n got %v\nwant %v", got, want)
	}

	// A window between two cursors, and a step back from the middle.
	p := listCustomers(t, c, gqlVars("first", 5))
	mid := listCustomers(t, c, gqlVars("first", 5, "after", p.Edges[4].Cursor))
	back := listCustomers(t, c, gqlVars("last", 3, "before", mid.Edges[0].Cursor))
	if !slices.Equal(back.names(), want[2:5]) || !back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
		t.Fatalf("back from the middle: %v %+v, want %v", back.names(), back.PageInfo, want[2:5])
	}
	between := listCustomers(t, c, gqlVars("after", p.Edges[1].Cursor, "before", mid.Edges[2].Cursor))
	if !slices.Equal(between.names(), want[2:7]) {
		t.Fatalf("between cursors: %v, want %v", between.names(), want[2:7])
	}
}

func TestCustomers_CursorsStayStableWhenCustomersAreAdded(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	f := newListFixtures(t, srv, c.Org)
	base := mustTime("2026-02-01T10:00:00Z")
	for i := range 10 {
		f.customer(models.Customer{FirstName: fmt.Sprintf("C%d", i), CreatedAt: base.Add(time.Duration(i) * time.Hour)})
	}
	// Newest first: C9 … C0.
	p := listCustomers(t, c, gqlVars("first", 3))
	got := p.names()
	if !slices.Equal(got, []string{"C9", "C8", "C7"}) {
		t.Fatalf("first page %v", got)
	}
	// Mid-walk: newer customers (before the cursor) and one that falls in the unread part.
	for i := range 3 {
		f.customer(models.Customer{FirstName: fmt.Sprintf("New%d", i)})
	}
	f.customer(models.Customer{FirstName: "Late", CreatedAt: base.Add(4*time.Hour + 30*time.Minute)})
	for p.PageInfo.HasNextPage {
		p = listCustomers(t, c, gqlVars("first", 3, "after", *p.PageInfo.EndCursor))
		got = append(got, p.names()...)
	}
	want := []string{"C9", "C8", "C7", "C6", "C5", "Late", "C4", "C3", "C2", "C1", "C0"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk: got %v, want %v", got, want)
	}
}

// A page makes its cursors only when edges or pageInfo are selected; pageInfo alone, or
// inside a fragment, or behind @include, has the same cursors as the edges.
func TestCustomers_PageInfoCursorsWithoutEdges(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	withEdges := listCustomers(t, c, gqlVars("first", 2))
	want := []string{withEdges.Edges[0].Cursor, withEdges.Edges[1].Cursor}
	type info struct{ StartCursor, EndCursor string }
	for name, q := range map[string]string{
		"pageInfo alone":    `{ customers(first: 2) { nodes { id } pageInfo { startCursor endCursor } } }`,
		"in a fragment":     `{ customers(first: 2) { ...page } } fragment page on CustomerConnection { pageInfo { startCursor endCursor } }`,
		"behind @include":   `query($on: Boolean!) { customers(first: 2) { pageInfo @include(if: $on) { startCursor endCursor } } }`,
		"and edges aliased": `{ customers(first: 2) { e: edges { cursor } pageInfo { startCursor endCursor } } }`,
	} {
		var out struct{ Customers struct{ PageInfo info } }
		c.Must(t, q, gqlVars("on", true), &out)
		if got := out.Customers.PageInfo; got.StartCursor != want[0] || got.EndCursor != want[1] {
			t.Fatalf("%s: %+v, want %v", name, got, want)
		}
	}
	var nodesOnly struct {
		Customers struct{ Nodes []struct{ ID string } }
	}
	c.Must(t, `{ customers(first: 2) { nodes { id } } }`, nil, &nodesOnly)
	if len(nodesOnly.Customers.Nodes) != 2 || nodesOnly.Customers.Nodes[0].ID != withEdges.Nodes[0].ID {
		t.Fatalf("nodes only: %+v", nodesOnly)
	}
}

// ---- arguments -------------------------------------------------------------------------

func TestCustomers_RejectsBadPagingArguments(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	byName := listCustomers(t, c, gqlVars("first", 1, "orderBy", map[string]any{"field": "LAST_NAME", "direction": "ASC"}))
	byNewest := listCustomers(t, c, gqlVars("first", 1))
	nameCursor := byName.Edges[0].Cursor
	cursorJSON := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	id := uuid.New()

	cases := map[string]map[string]any{
		"first over 100":           gqlVars("first", 101),
		"first zero":               gqlVars("first", 0),
		"first negative":           gqlVars("first", -1),
		"last over 100":            gqlVars("last", 101),
		"last zero":                gqlVars("last", 0),
		"first and last":           gqlVars("first", 5, "last", 5),
		"after not base64":         gqlVars("after", "not a cursor!"),
		"after not JSON":           gqlVars("after", base64.RawURLEncoding.EncodeToString([]byte("hello"))),
		"before not JSON":          gqlVars("last", 2, "before", base64.RawURLEncoding.EncodeToString([]byte("{"))),
		"cursor of another field":  gqlVars("after", nameCursor),
		"cursor of another way":    gqlVars("after", nameCursor, "orderBy", map[string]any{"field": "LAST_NAME", "direction": "DESC"}),
		"DESC cursor used for ASC": gqlVars("after", byNewest.Edges[0].Cursor, "orderBy", map[string]any{"field": "CREATED_AT", "direction": "ASC"}),
		"unknown order field":      gqlVars("after", cursorJSON(map[string]any{"o": "email", "k": "x", "id": id})),
		"bad time key":             gqlVars("after", cursorJSON(map[string]any{"o": "created_at:desc", "k": "yesterday", "id": id})),
		"bad number key": gqlVars("after", cursorJSON(map[string]any{"o": "points_balance:desc", "k": "1; DROP TABLE customers", "id": id}),
			"orderBy", map[string]any{"field": "POINTS_BALANCE", "direction": "DESC"}),
		"bad decimal key": gqlVars("after", cursorJSON(map[string]any{"o": "lifetime_value", "k": "1e400", "id": id}),
			"orderBy", map[string]any{"field": "LIFETIME_VALUE", "direction": "ASC"}),
		"missing id":                 gqlVars("after", cursorJSON(map[string]any{"o": "created_at:desc", "k": "2026-01-01T00:00:00Z"})),
		"search over 200 characters": gqlVars("search", strings.Repeat("a", 201)),
		"extra JSON field":           gqlVars("after", cursorJSON(map[string]any{"o": "created_at:desc", "k": "2026-01-01T00:00:00Z", "id": id, "x": 1})),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			res := c.Do(t, listQuery, v)
			if code := res.ErrorCode(t); code != "BAD_USER_INPUT" {
				t.Fatalf("code %s: %s", code, res.Body)
			}
			if strings.Contains(strings.ToLower(string(res.Body)), "sql") {
				t.Fatalf("leaks SQL: %s", res.Body)
			}
		})
	}

	res := c.Do(t, statsQuery, gqlVars("search", strings.Repeat("a", 201)))
	if code := res.ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Fatalf("customerStats with an overlong search: %s", res.Body)
	}

	// The limits themselves are fine, and a well-formed cursor with a valid key works even
	// when no customer has it.
	if p := listCustomers(t, c, gqlVars("first", 100)); len(p.Edges) != 5 {
		t.Fatalf("first 100: %d", len(p.Edges))
	}
	if p := listCustomers(t, c, gqlVars("last", 100)); len(p.Edges) != 5 {
		t.Fatalf("last 100: %d", len(p.Edges))
	}
	forged := cursorJSON(map[string]any{"o": "created_at:desc", "k": "2026-01-03T12:00:00Z", "id": id})
	if p := listCustomers(t, c, gqlVars("after", forged)); !slices.Equal(p.names(), []string{"Carla", "Beto", "Ana"}) {
		t.Fatalf("forged cursor: %v", p.names())
	}
}

// ---- search ----------------------------------------------------------------------------

func TestCustomers_SearchMatchesNameEmailPhoneDocumentIgnoringCaseAndAccents(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	f := newListFixtures(t, srv, c.Org)
	add := func(first, last, email, phone string, docType models.DocumentType, doc string, created string) {
		cu := models.Customer{FirstName: first, LastName: last, CreatedAt: mustTime(created)}
		if email != "" {
			cu.Email = &email
		}
		if phone != "" {
			cu.Phone = &phone
		}
		if doc != "" {
			cu.DocumentType, cu.DocumentNumber = &docType, &doc
		}
		f.customer(cu)
	}
	add("Ana", "Pérez", "ana.perez@example.com", "+50761234567", models.DocumentTypeCedula, "8-123-456", "2026-01-01T00:00:00Z")
	add("José", "Núñez", "jnunez@correo.pa", "+50762223333", models.DocumentTypePassport, "PA0012345", "2026-01-02T00:00:00Z")
	add("Xavi", "Ruiz", "ab_cd@example.com", "", "", "", "2026-01-03T00:00:00Z")
	add("Yoli", "Ruiz", "abxcd@example.com", "", "", "", "2026-01-04T00:00:00Z")
	add("Promo", "100%", "", "", "", "", "2026-01-05T00:00:00Z")
	add("ÉMILE", "ÖZIL", "", "+50769990000", "", "", "2026-01-06T00:00:00Z")
	// Another organization's Ana Pérez: never found.
	other := newListFixtures(t, srv, uuid.New())
	other.customer(models.Customer{FirstName: "Ana", LastName: "Pérez", Email: refTo("ana.perez@example.com"), Phone: refTo("+50761234567")})

	cases := []struct {
		search string
		want   []string
	}{
		{"perez", []string{"Ana"}},
		{"PÉREZ", []string{"Ana"}},
		{"Pérez", []string{"Ana"}},
		{"ana pérez", []string{"Ana"}},
		{"  Ana   Pérez  ", []string{"Ana"}},
		{"nunez", []string{"José"}},
		{"NÚÑEZ", []string{"José"}},
		{"jose", []string{"José"}},
		{"emile", []string{"ÉMILE"}},
		{"özil", []string{"ÉMILE"}},
		{"correo.pa", []string{"José"}},
		{"PEREZ@EXAMPLE", []string{"Ana"}},
		{"61234567", []string{"Ana"}},
		{"6123-4567", []string{"Ana"}},
		{"+507 6222-3333", []string{"José"}},
		{"(507) 6999", []string{"ÉMILE"}},
		{"+5076", []string{"ÉMILE", "José", "Ana"}},
		{"8-123-456", []string{"Ana"}},
		{"pa0012345", []string{"José"}},
		{"0012", []string{"José"}},
		{"ruiz", []string{"Yoli", "Xavi"}},
		// LIKE's wildcards are literal, on both the indexed (≥ 3 characters) and short paths.
		{"ab_cd", []string{"Xavi"}},
		{"b_c", []string{"Xavi"}},
		{"_", []string{"Xavi"}},
		{"100%", []string{"Promo"}},
		{"%", []string{"Promo"}},
		{`\`, []string{}},
		{`a\`, []string{}},
		{`%%%`, []string{}},
		// Short terms (fewer than 3 characters).
		{"ez", []string{"José", "Ana"}},
		{"Ñ", []string{"José", "Ana"}}, // "n" in "Núñez", "José" and "Ana"
		{"ÑE", []string{"José"}},
		{"zz", []string{}},
		// Blank is no search.
		{"", []string{"ÉMILE", "Promo", "Yoli", "Xavi", "José", "Ana"}},
		{"   ", []string{"ÉMILE", "Promo", "Yoli", "Xavi", "José", "Ana"}},
		{"nobody at all", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.search, func(t *testing.T) {
			p := listCustomers(t, c, gqlVars("search", tc.search))
			if got := p.names(); !slices.Equal(got, tc.want) {
				t.Fatalf("search %q: got %v, want %v", tc.search, got, tc.want)
			}
			if p.TotalCount != len(tc.want) {
				t.Fatalf("search %q: totalCount %d", tc.search, p.TotalCount)
			}
		})
	}

	// Search combines with the filter, the order and paging.
	p := listCustomers(t, c, gqlVars("search", "ruiz", "first", 1, "orderBy", map[string]any{"field": "CREATED_AT", "direction": "ASC"}))
	if !slices.Equal(p.names(), []string{"Xavi"}) || !p.PageInfo.HasNextPage || p.TotalCount != 2 {
		t.Fatalf("search page: %v %+v %d", p.names(), p.PageInfo, p.TotalCount)
	}
	p = listCustomers(t, c, gqlVars("search", "ruiz", "first", 1, "after", *p.PageInfo.EndCursor, "orderBy", map[string]any{"field": "CREATED_AT", "direction": "ASC"}))
	if !slices.Equal(p.names(), []string{"Yoli"}) || p.PageInfo.HasNextPage {
		t.Fatalf("search second page: %v %+v", p.names(), p.PageInfo)
	}
	p = listCustomers(t, c, gqlVars("search", "example", "filter", map[string]any{"createdAt": map[string]any{"from": "2026-01-02T00:00:00Z"}}))
	if !slices.Equal(p.names(), []string{"Yoli", "Xavi"}) {
		t.Fatalf("search and filter: %v", p.names())
	}
}

// customer_search_ids() is how the search reaches the trigram index under row-level
// security: it must run as a role that bypasses RLS (so the index can serve LIKE), and
// return only the ids of the organization set in the transaction. On Citus it runs as its
// caller (no index) and returns the same.
func TestSearch_IndexFunctionReturnsOnlyTheCallersOrganization(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := context.Background()
	orgA, orgB := uuid.New(), uuid.New()
	a := newListFixtures(t, srv, orgA).customer(models.Customer{FirstName: "Ana", LastName: "Pérez"})
	b := newListFixtures(t, srv, orgB).customer(models.Customer{FirstName: "Ana", LastName: "Pérez"})

	searchAs := func(org uuid.UUID, term string) []uuid.UUID {
		t.Helper()
		var ids []uuid.UUID
		// In the organization's transaction as the service opens it (on Citus the setting
		// then reaches the shards, which the function reads as its caller there).
		err := db.InOrg(ctx, srv.App, org, true, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw("SELECT id FROM customer_search_ids(?) AS id", term).Scan(ctx, &ids)
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := searchAs(orgA, "perez"); !slices.Equal(got, []uuid.UUID{a.ID}) {
		t.Fatalf("org A: %v, want [%s]", got, a.ID)
	}
	if got := searchAs(orgB, "perez"); !slices.Equal(got, []uuid.UUID{b.ID}) {
		t.Fatalf("org B: %v, want [%s]", got, b.ID)
	}
	if got := searchAs(uuid.New(), "perez"); len(got) != 0 {
		t.Fatalf("a third organization: %v", got)
	}
	// Without an organization set, nothing.
	var ids []uuid.UUID
	err := srv.App.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw("SELECT id FROM customer_search_ids('perez') AS id").Scan(ctx, &ids)
	})
	if err != nil || len(ids) != 0 {
		t.Fatalf("no organization: %v %v", ids, err)
	}

	// The function runs as its owner, which bypasses RLS, so the planner may use the
	// trigram index for its LIKE (with RLS it may not: textlike is not leakproof).
	var definer, bypass bool
	var owner string
	if err := srv.Owner.NewRaw(`SELECT p.prosecdef, r.rolbypassrls, r.rolname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
		WHERE p.proname = 'customer_search_ids'`).Scan(ctx, &definer, &bypass, &owner); err != nil {
		t.Fatal(err)
	}
	if testdb.OnCitus() {
		// `citus distribute` made it run as its caller (citus.AsCaller): under RLS, with the
		// organization filter, and without the index; its owner never logs in to a worker.
		if definer {
			t.Fatalf("customer_search_ids on Citus: security definer %v, want SECURITY INVOKER", definer)
		}
		return
	}
	if !definer || !bypass {
		t.Fatalf("customer_search_ids: security definer %v, owner bypasses RLS %v", definer, bypass)
	}
	// The same LIKE, planned with sequential scans discouraged: as the function's owner the
	// trigram index serves it; as the server's role, under RLS, it cannot.
	const like = `EXPLAIN SELECT customer_id FROM public.customers
		WHERE search_text LIKE '%' || public.app_unaccent(lower('perez')) || '%'`
	explain := func(pool *db.Pool, role string) string {
		t.Helper()
		var plan []string
		err := pool.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if testdb.OnCitus() {
				// The settings below reach the shards' planners only with this (db.InOrg).
				if _, err := tx.ExecContext(ctx, "SET LOCAL citus.propagate_set_commands = 'local'"); err != nil {
					return err
				}
			}
			if role != "" {
				if _, err := tx.NewRaw("SET LOCAL ROLE ?", bun.Ident(role)).Exec(ctx); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL app.current_organization_id = ?", orgA.String()); err != nil {
				return err
			}
			return tx.NewRaw(like).Scan(ctx, &plan)
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	if plan := explain(srv.Owner, owner); !strings.Contains(plan, "customers_search_idx") {
		t.Fatalf("as %s the LIKE does not use the trigram index:\n%s", owner, plan)
	}
	if plan := explain(srv.App, ""); strings.Contains(plan, "customers_search_idx") {
		t.Fatalf("under RLS the LIKE uses the trigram index after all (the function would not be needed):\n%s", plan)
	}
}

// ---- stats -----------------------------------------------------------------------------

const statsQuery = `query($filter: CustomerFilter, $search: String) {
	customerStats(filter: $filter, search: $search) {
		total
		byStatus { status count }
		byType { customerType count }
		byTier { tier count }
		bySegment { segment count }
	}
}`

type statsOut struct {
	Total    int
	ByStatus []struct {
		Status string
		Count  int
	}
	ByType []struct {
		CustomerType string
		Count        int
	}
	ByTier []struct {
		Tier  *string
		Count int
	}
	BySegment []struct {
		Segment *string
		Count   int
	}
}

// flat writes the stats as one comparable string: "total=5 ACTIVE=3 … null=1".
func (s statsOut) flat() string {
	var b strings.Builder
	fmt.Fprintf(&b, "total=%d |", s.Total)
	for _, x := range s.ByStatus {
		fmt.Fprintf(&b, " %s=%d", x.Status, x.Count)
	}
	b.WriteString(" |")
	for _, x := range s.ByType {
		fmt.Fprintf(&b, " %s=%d", x.CustomerType, x.Count)
	}
	b.WriteString(" |")
	for _, x := range s.ByTier {
		fmt.Fprintf(&b, " %s=%d", orNull(x.Tier), x.Count)
	}
	b.WriteString(" |")
	for _, x := range s.BySegment {
		fmt.Fprintf(&b, " %s=%d", orNull(x.Segment), x.Count)
	}
	return b.String()
}

func orNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func TestCustomerStats_CountsByStatusTypeTierAndSegment(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	fiveCustomers(t, srv, uuid.New()) // another organization: never counted

	cases := []struct {
		name   string
		filter map[string]any
		search string
		want   string
	}{
		{"all", nil, "",
			"total=5 | ACTIVE=3 INACTIVE=1 BLOCKED=1 | B2C=3 B2B=2 | BRONZE=1 SILVER=1 GOLD=1 PLATINUM=1 null=1 | " +
				"CHAMPIONS=1 LOYAL=1 POTENTIAL_LOYALIST=0 NEW=0 AT_RISK=1 LOST=0 null=2"},
		{"B2B", map[string]any{"customerType": []string{"B2B"}}, "",
			"total=2 | ACTIVE=1 INACTIVE=0 BLOCKED=1 | B2C=0 B2B=2 | BRONZE=1 SILVER=1 GOLD=0 PLATINUM=0 null=0 | " +
				"CHAMPIONS=0 LOYAL=1 POTENTIAL_LOYALIST=0 NEW=0 AT_RISK=1 LOST=0 null=0"},
		{"not VIP, no credit", map[string]any{"isVip": false, "hasCreditAccount": false}, "",
			"total=2 | ACTIVE=1 INACTIVE=1 BLOCKED=0 | B2C=2 B2B=0 | BRONZE=0 SILVER=0 GOLD=0 PLATINUM=1 null=1 | " +
				"CHAMPIONS=0 LOYAL=0 POTENTIAL_LOYALIST=0 NEW=0 AT_RISK=0 LOST=0 null=2"},
		{"search", nil, "castillo",
			"total=2 | ACTIVE=1 INACTIVE=1 BLOCKED=0 | B2C=2 B2B=0 | BRONZE=0 SILVER=0 GOLD=0 PLATINUM=1 null=1 | " +
				"CHAMPIONS=0 LOYAL=0 POTENTIAL_LOYALIST=0 NEW=0 AT_RISK=0 LOST=0 null=2"},
		{"nothing matches", map[string]any{"status": []string{}}, "",
			"total=0 | ACTIVE=0 INACTIVE=0 BLOCKED=0 | B2C=0 B2B=0 | BRONZE=0 SILVER=0 GOLD=0 PLATINUM=0 null=0 | " +
				"CHAMPIONS=0 LOYAL=0 POTENTIAL_LOYALIST=0 NEW=0 AT_RISK=0 LOST=0 null=0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out struct{ CustomerStats statsOut }
			c.Must(t, statsQuery, gqlVars("filter", tc.filter, "search", tc.search), &out)
			if got := out.CustomerStats.flat(); got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestCustomerStats_IsOneStatement(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	countStatements := func(query string, v map[string]any) int64 {
		before := srv.Statements.Count()
		c.Must(t, query, v, nil)
		return srv.Statements.Count() - before
	}
	me := countStatements(`{ me { userId } }`, nil)
	// One transaction around one statement: the same cost as the smallest read, customer(id).
	lookup := countStatements(`query($id: UUID!) { customer(id: $id) { id } }`, gqlVars("id", uuid.New()))
	stats := countStatements(statsQuery, gqlVars("filter", map[string]any{"tier": []string{"GOLD"}}, "search", "perez"))
	if me != 0 || lookup != statementsOf360Lookup || stats != statementsOf360Lookup {
		t.Fatalf("statements: me %d, customer(id) %d, customerStats %d; want 0, %d, %d",
			me, lookup, stats, statementsOf360Lookup, statementsOf360Lookup)
	}
}

// ---- totalCount and column selection ---------------------------------------------------

func TestCustomers_CountsOnlyWhenTotalCountIsAsked(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	fiveCustomers(t, srv, c.Org)
	countStatements := func(query string) int64 {
		before := srv.Statements.Count()
		c.Must(t, query, nil, nil)
		return srv.Statements.Count() - before
	}
	without := countStatements(`{ customers(first: 2) { nodes { id } } }`)
	with := countStatements(`{ customers(first: 2) { nodes { id } totalCount } }`)
	if with != without+1 {
		t.Fatalf("with totalCount %d statements, without %d", with, without)
	}
	var out struct{ Customers struct{ TotalCount int } }
	c.Must(t, `{ customers(first: 1, filter: {status: [ACTIVE]}) { totalCount } }`, nil, &out)
	if out.Customers.TotalCount != 3 {
		t.Fatalf("totalCount %d", out.Customers.TotalCount)
	}
}

// queryLog records the SQL the server sends (apitest.Server.Statements).
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) record(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, q)
}

// customerSelects are the recorded statements that select from customers, and forgets them.
func (l *queryLog) customerSelects() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, q := range l.queries {
		if strings.HasPrefix(q, "SELECT") && strings.Contains(q, `FROM customers AS c`) {
			out = append(out, q)
		}
	}
	l.queries = nil
	return out
}

// The compiled statement reads only what the query asks for.
func TestCustomers_ReadsOnlyTheColumnsTheQueryAsksFor(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	log := &queryLog{}
	srv.Statements.Watch(log.record) // every statement, pipelined reads included
	c := srv.NewOrg(t, auth.Viewer)
	f := newListFixtures(t, srv, c.Org)
	cu := f.customer(models.Customer{FirstName: "Ana", LastName: "Pérez", Email: refTo("ana@example.com"),
		Notes: refTo("secret notes"), Tags: []string{"vip"}, Metadata: map[string]any{"k": "v"}})

	cases := []struct {
		name, query   string
		want          string // the JSON data
		read, notRead []string
	}{
		{"list fragment and fullName",
			`{ customers { edges { node { ...F } } } } fragment F on Customer { fullName }`,
			`{"customers":{"edges":[{"node":{"fullName":"Ana Pérez"}}]}}`,
			[]string{`"c"."first_name"`, `"c"."last_name"`, `"c"."customer_id"`}, []string{`"c"."email"`, `"c"."notes"`, `"c"."metadata"`}},
		{"nodes and edges together, inline fragment",
			`{ customers { nodes { email } edges { node { ... on Customer { tags } } } } }`,
			`{"customers":{"nodes":[{"email":"ana@example.com"}],"edges":[{"node":{"tags":["vip"]}}]}}`,
			[]string{`"c"."email"`, `"c"."tags"`}, []string{`"c"."notes"`, `"c"."first_name"`}},
		{"only relations",
			`{ customers { nodes { __typename loyaltyAccount { id } } } }`,
			`{"customers":{"nodes":[{"__typename":"Customer","loyaltyAccount":null}]}}`,
			[]string{`"c"."customer_id"`}, []string{`"c"."email"`, `"c"."first_name"`}},
		{"no nodes at all",
			`{ customers { totalCount } }`,
			`{"customers":{"totalCount":1}}`,
			[]string{`"c"."customer_id"`}, []string{`"c"."email"`}},
		{"lookup",
			`query($id: UUID!) { customer(id: $id) { notes metadata } }`,
			`{"customer":{"notes":"secret notes","metadata":{"k":"v"}}}`,
			[]string{`"c"."notes"`, `"c"."metadata"`}, []string{`"c"."email"`, `"c"."first_name"`}},
		{"lookup by email with @include",
			`query($yes: Boolean!) { customerByEmail(email: "ANA@example.com") { id @include(if: $yes) email @skip(if: $yes) } }`,
			`{"customerByEmail":{"id":"` + cu.ID.String() + `"}}`,
			[]string{`"c"."customer_id"`}, []string{`"c"."email"`, `"c"."notes"`}},
	}
	for _, tc := range cases {
		res := c.Do(t, tc.query, gqlVars("id", cu.ID, "yes", true))
		if len(res.Errors) > 0 {
			t.Fatalf("%s: %s", tc.name, res.Body)
		}
		if got := compactJSON(t, res.Data); got != compactJSON(t, []byte(tc.want)) {
			t.Errorf("%s: data %s, want %s", tc.name, got, tc.want)
		}
		selects := log.customerSelects()
		if len(selects) == 0 {
			t.Fatalf("%s: no select from customers recorded", tc.name)
		}
		sel := selects[0]
		// the select list, quotes dropped: "c"."email" (decoded) and c.email (rendered) alike
		cols := sel[:strings.Index(sel, ` FROM customers AS c`)]
		reads := func(col string) bool {
			return regexp.MustCompile(regexp.QuoteMeta(strings.ReplaceAll(col, `"`, "")) + `\b`).MatchString(cols)
		}
		for _, col := range tc.read {
			if !reads(col) {
				t.Errorf("%s: %s not read: %s", tc.name, col, cols)
			}
		}
		for _, col := range tc.notRead {
			if reads(col) {
				t.Errorf("%s: %s read: %s", tc.name, col, cols)
			}
		}
	}
}

func compactJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- isolation -------------------------------------------------------------------------

func TestCustomers_NeverShowAnotherOrganizationsCustomers(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	a := srv.NewOrg(t, auth.Viewer)
	b := srv.NewOrg(t, auth.Viewer)
	fa, fb := newListFixtures(t, srv, a.Org), newListFixtures(t, srv, b.Org)
	for i := range 3 {
		cu := fa.customer(models.Customer{FirstName: fmt.Sprintf("A%d", i), LastName: "Pérez", Tags: []string{"vip"}})
		fa.loyalty(cu.ID, models.TierGold, 10)
	}
	for i := range 4 {
		cu := fb.customer(models.Customer{FirstName: fmt.Sprintf("B%d", i), LastName: "Pérez", Tags: []string{"vip"}})
		fb.loyalty(cu.ID, models.TierGold, 10)
		fb.segment(cu.ID, models.SegmentChampions, "10.00", true, false)
	}
	for _, tc := range []struct {
		c      *apitest.Client
		prefix string
		n      int
	}{{a, "A", 3}, {b, "B", 4}} {
		for _, v := range []map[string]any{
			nil,
			gqlVars("search", "perez"),
			gqlVars("search", "pé"),
			gqlVars("filter", map[string]any{"tags": map[string]any{"any": []string{"vip"}}, "tier": []string{"GOLD"}}),
			gqlVars("orderBy", map[string]any{"field": "POINTS_BALANCE", "direction": "DESC"}),
			gqlVars("last", 100),
		} {
			p := listCustomers(t, tc.c, v)
			if len(p.Edges) != tc.n || p.TotalCount != tc.n {
				t.Fatalf("org %s %v: %v (total %d)", tc.prefix, v, p.names(), p.TotalCount)
			}
			for _, name := range p.names() {
				if !strings.HasPrefix(name, tc.prefix) {
					t.Fatalf("org %s sees %s", tc.prefix, name)
				}
			}
		}
		var out struct{ CustomerStats statsOut }
		tc.c.Must(t, statsQuery, gqlVars("search", "perez"), &out)
		if out.CustomerStats.Total != tc.n || out.CustomerStats.ByTier[2].Count != tc.n {
			t.Fatalf("org %s stats: %s", tc.prefix, out.CustomerStats.flat())
		}
	}
	// A cursor made in one organization positions nothing in the other.
	pa := listCustomers(t, a, gqlVars("first", 1))
	pb := listCustomers(t, b, gqlVars("first", 10, "after", pa.Edges[0].Cursor))
	for _, name := range pb.names() {
		if !strings.HasPrefix(name, "B") {
			t.Fatalf("org B sees %s through org A's cursor", name)
		}
	}
}

// ---- the statement count of a 360 page -------------------------------------------------

const page360Query = `query($first: Int!) {
	customers(first: $first) {
		totalCount
		pageInfo { hasNextPage endCursor }
		edges { cursor node {
			id customerType firstName lastName fullName email phone documentType documentNumber birthDate gender
			status statusReason preferredLanguage marketingConsent tags metadata notes createdAt updatedAt lastPurchaseAt
			addresses { id addressType addressLine1 city country isDefault isActive }
			shipping: addresses(type: SHIPPING) { id }
			defaultShippingAddress { id city }
			defaultBillingAddress { id city }
			loyaltyAccount { id pointsBalance tier totalSpent }
			creditAccount { id creditLimit creditAvailable status }
			segment { segmentCode lifetimeValue isVip }
		} }
	}
}`

// full360 inserts n customers, each with a shipping and a billing default address, a
// loyalty account, a credit account and a segment, in a few statements.
func full360(t testing.TB, srv *apitest.Server, org uuid.UUID, n int) {
	t.Helper()
	f := newListFixtures(t, srv, org)
	var cs []models.Customer
	var as []models.Address
	var ls []models.LoyaltyAccount
	var cas []models.CreditAccount
	var ss []models.CustomerSegment
	for i := range n {
		cu := models.Customer{FirstName: fmt.Sprintf("C%03d", i), LastName: "Cliente", CustomerType: models.CustomerTypeB2B,
			Email: refTo(fmt.Sprintf("c%03d@example.com", i)), CreatedAt: mustTime("2026-01-01T00:00:00Z").Add(time.Duration(i) * time.Minute)}
		f.fill(&cu)
		cs = append(cs, cu)
		for _, typ := range []models.AddressType{models.AddressTypeShipping, models.AddressTypeBilling} {
			as = append(as, models.Address{ID: uuid.New(), OrganizationID: org, CustomerID: cu.ID, AddressType: typ,
				AddressLine1: "Calle 50", City: "Panamá", Country: "PA", IsDefault: true, IsActive: true})
		}
		ls = append(ls, models.LoyaltyAccount{ID: uuid.New(), OrganizationID: org, CustomerID: cu.ID, PointsBalance: i,
			Tier: models.TierSilver, TierSince: time.Now(), TotalSpent: decimal.NewFromInt(int64(i))})
		cas = append(cas, models.CreditAccount{ID: uuid.New(), OrganizationID: org, CustomerID: cu.ID,
			CreditLimit: decimal.NewFromInt(500), PaymentTermDays: 30, Status: models.CreditStatusApproved})
		ss = append(ss, models.CustomerSegment{ID: uuid.New(), OrganizationID: org, CustomerID: cu.ID,
			SegmentCode: models.SegmentLoyal, LifetimeValue: decimal.NewFromInt(int64(i))})
	}
	f.insert(&cs)
	f.insert(&as)
	f.insert(&ls)
	f.insert(&cas)
	f.insert(&ss)
}

func TestCustomers_Page360CostsAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	full360(t, srv, c.Org, 100)

	type node360 struct {
		ID                     string
		Addresses              []struct{ ID string }
		Shipping               []struct{ ID string }
		DefaultShippingAddress *struct{ ID string }
		DefaultBillingAddress  *struct{ ID string }
		LoyaltyAccount         *struct{ PointsBalance int }
		CreditAccount          *struct{ CreditAvailable string }
		Segment                *struct{ SegmentCode string }
	}
	run := func(first int) int64 {
		before := srv.Statements.Count()
		var out struct {
			Customers struct {
				TotalCount int
				Edges      []struct{ Node node360 }
			}
		}
		c.Must(t, page360Query, gqlVars("first", first), &out)
		n := srv.Statements.Count() - before
		if len(out.Customers.Edges) != first || out.Customers.TotalCount != 100 {
			t.Fatalf("first %d: %d customers of %d", first, len(out.Customers.Edges), out.Customers.TotalCount)
		}
		for _, e := range out.Customers.Edges {
			nd := e.Node
			if len(nd.Addresses) != 2 || len(nd.Shipping) != 1 || nd.DefaultShippingAddress == nil || nd.DefaultBillingAddress == nil ||
				nd.DefaultShippingAddress.ID == nd.DefaultBillingAddress.ID || nd.LoyaltyAccount == nil ||
				nd.CreditAccount == nil || nd.CreditAccount.CreditAvailable != "500.00" || nd.Segment == nil || nd.Segment.SegmentCode != "LOYAL" {
				b, _ := json.Marshal(nd)
				t.Fatalf("first %d: incomplete 360 %s", first, b)
			}
		}
		return n
	}
	for _, first := range []int{100, 10, 1} {
		if n := run(first); n != statementsOf360Page {
			t.Errorf("a 360 page of %d customers with totalCount cost %d statements, want %d", first, n, statementsOf360Page)
		}
	}

	// The single-customer 360: the same one round trip, without a count.
	var first struct {
		Customers struct{ Nodes []struct{ ID string } }
	}
	c.Must(t, `{ customers(first: 1) { nodes { id } } }`, nil, &first)
	before := srv.Statements.Count()
	var one struct{ Customer *struct{ ID string } }
	c.Must(t, customer360Query, gqlVars("id", first.Customers.Nodes[0].ID), &one)
	if n := srv.Statements.Count() - before; n != statementsOf360Lookup || one.Customer == nil {
		t.Errorf("customer(id) with the whole 360 cost %d statements (found: %v), want %d", n, one.Customer != nil, statementsOf360Lookup)
	}
}

// What a Customer 360 read costs in statements sent (apitest.Server.Statements): one pipelined
// round trip of the set_config of the organization (§7) and the read's one statement
// (customers/view.go), plus, for a page with totalCount, its count. However many customers
// and relations.
//
// On Citus (CITUS_TEST=1) the same single round trip carries four statements more
// (db/read.go): the organization is set with SET LOCAL inside an explicit read-only
// transaction, which is how Citus carries it to the workers — BEGIN READ ONLY,
// citus.propagate_set_commands, the organization, JIT off, the reads, COMMIT — instead of one
// set_config.
var (
	statementsOf360Lookup = readRoundTrip(1)
	statementsOf360Page   = readRoundTrip(2)
)

// readRoundTrip is the statements of one pipelined read of n statements (db.ReadInOrg).
func readRoundTrip(n int64) int64 {
	if testdb.OnCitus() {
		return n + 5
	}
	return n + 1
}

const customer360Query = `query($id: UUID!) {
	customer(id: $id) {
		id customerType firstName lastName fullName email phone documentType documentNumber birthDate gender
		status statusReason preferredLanguage marketingConsent tags metadata notes createdAt updatedAt lastPurchaseAt
		addresses { id addressType addressLine1 city country isDefault isActive }
		defaultShippingAddress { id city }
		defaultBillingAddress { id city }
		loyaltyAccount { id pointsBalance tier totalSpent }
		creditAccount { id creditLimit creditAvailable status }
		segment { segmentCode lifetimeValue isVip }
	}
}`
