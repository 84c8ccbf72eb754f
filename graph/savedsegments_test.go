package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

const savedSegmentFields = `id name description filter search version createdBy customerCount
	customers(first: 10, orderBy: {field: LAST_NAME, direction: ASC}) { totalCount nodes { lastName } }`

type savedSegment struct {
	ID            string
	Name          string
	Description   *string
	Filter        map[string]any
	Search        *string
	Version       int
	CreatedBy     string
	CustomerCount int
	Customers     struct {
		TotalCount int
		Nodes      []struct{ LastName string }
	}
}

type savedSegmentPayload struct {
	SavedSegment          *savedSegment
	DeletedSavedSegmentID *string
	UserErrors            []struct {
		Field []string
		Code  string
	}
}

// segCall runs a saved-segment mutation and returns its payload (fails on a top-level error).
func segCall(t testing.TB, c *apitest.Client, query string, vars map[string]any) savedSegmentPayload {
	t.Helper()
	res := c.Do(t, query, vars)
	if len(res.Errors) > 0 {
		t.Fatalf("%s: %s", query, res.Body)
	}
	var data map[string]savedSegmentPayload
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	for _, p := range data {
		return p
	}
	t.Fatalf("no payload: %s", res.Body)
	return savedSegmentPayload{}
}

const (
	createSegment = `mutation($input: CreateSavedSegmentInput!) { r: createSavedSegment(input: $input) {
		savedSegment { ` + savedSegmentFields + ` } userErrors { field code } } }`
	updateSegment = `mutation($id: UUID!, $input: UpdateSavedSegmentInput!) { r: updateSavedSegment(id: $id, input: $input) {
		savedSegment { ` + savedSegmentFields + ` } userErrors { field code } } }`
	deleteSegment = `mutation($id: UUID!) { r: deleteSavedSegment(id: $id) { deletedSavedSegmentId userErrors { field code } } }`
)

func segNames(s *savedSegment) string {
	var out []string
	for _, n := range s.Customers.Nodes {
		out = append(out, n.LastName)
	}
	return strings.Join(out, ",")
}

// §12: a saved segment is its filter and search, evaluated live: its customers and count
// follow the data; customers(filter: {savedSegment}) adds it to a live filter; names are
// unique per organization; update and delete; audited; a tag or tier that disappears makes
// it match no one, never an error.
func TestSavedSegments_EvaluateLiveAndSurviveVanishedValues(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	manager := srv.NewOrg(t, auth.Manager)
	viewer := srv.As(t, manager.Org, auth.Viewer)
	add := func(last, tags, tier string) uuid.UUID {
		id := uuid.New()
		mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, tags) VALUES (?, ?, 'A', ?, ?::varchar[])`,
			id, manager.Org, last, tags)
		if tier != "" {
			mustExec(t, srv, `INSERT INTO loyalty_accounts (organization_id, customer_id, tier) VALUES (?, ?, ?)`, manager.Org, id, tier)
		}
		return id
	}
	add("Alba", "{vip,norte}", "gold")
	add("Bravo", "{vip}", "silver")
	add("Cruz", "{norte}", "gold")

	created := segCall(t, manager, createSegment, map[string]any{"input": map[string]any{
		"name": "  Gold VIPs ", "description": "for the campaign",
		"filter": map[string]any{"tier": []string{"GOLD", "PLATINUM"}, "tags": map[string]any{"any": []string{"vip"}}},
	}})
	s := created.SavedSegment
	if len(created.UserErrors) > 0 || s == nil || s.Name != "Gold VIPs" || *s.Description != "for the campaign" || s.Version != 1 ||
		s.CreatedBy != manager.User.String() || s.CustomerCount != 1 || segNames(s) != "Alba" || s.Customers.TotalCount != 1 {
		t.Fatalf("created: %+v", created)
	}
	if f, _ := json.Marshal(s.Filter); string(f) != `{"tags":{"any":["vip"]},"tier":["GOLD","PLATINUM"]}` {
		t.Fatalf("stored filter %s", f)
	}
	// Live: a new gold VIP is in it at once.
	add("Delta", "{vip}", "gold")
	var read struct{ SavedSegment *savedSegment }
	viewer.Must(t, `query($id: UUID!) { savedSegment(id: $id) { `+savedSegmentFields+` } }`, map[string]any{"id": s.ID}, &read)
	if read.SavedSegment == nil || read.SavedSegment.CustomerCount != 2 || segNames(read.SavedSegment) != "Alba,Delta" {
		t.Fatalf("read live: %+v", read.SavedSegment)
	}
	// customers(filter: {savedSegment}) is the segment and the other conditions.
	var list struct {
		Customers struct {
			TotalCount int
			Nodes      []struct{ LastName string }
		}
		CustomerStats struct{ Total int }
	}
	viewer.Must(t, `query($id: UUID!) { customers(filter: {savedSegment: $id, tags: {any: ["norte"]}}) { totalCount nodes { lastName } }
		customerStats(filter: {savedSegment: $id}) { total } }`, map[string]any{"id": s.ID}, &list)
	if list.Customers.TotalCount != 1 || list.Customers.Nodes[0].LastName != "Alba" || list.CustomerStats.Total != 2 {
		t.Fatalf("customers of the segment: %+v", list)
	}
	// Names are unique per organization (trimmed), never a 500; another organization may
	// use the name.
	dup := segCall(t, manager, createSegment, map[string]any{"input": map[string]any{"name": "Gold VIPs"}})
	if dup.SavedSegment != nil || len(dup.UserErrors) != 1 || dup.UserErrors[0].Code != "TAKEN" || strings.Join(dup.UserErrors[0].Field, ".") != "input.name" {
		t.Fatalf("duplicate name: %+v", dup)
	}
	other := srv.NewOrg(t, auth.Manager)
	if p := segCall(t, other, createSegment, map[string]any{"input": map[string]any{"name": "Gold VIPs"}}); p.SavedSegment == nil || p.SavedSegment.CustomerCount != 0 {
		t.Fatalf("another organization's segment of the same name: %+v", p)
	}
	// The tier and the tag vanish from the data (a tier dropped from the program, a tag
	// removed from everyone): the segment evaluates to no one, without an error. A stored
	// value the current enum lacks reads the same.
	mustExec(t, srv, `UPDATE customers SET tags = '{}' WHERE organization_id = ?`, manager.Org)
	mustExec(t, srv, `UPDATE saved_segments SET filter = jsonb_set(filter, '{filter,tier}', '["DIAMOND"]') WHERE saved_segment_id = ?`, s.ID)
	viewer.Must(t, `query($id: UUID!) { savedSegment(id: $id) { `+savedSegmentFields+` } }`, map[string]any{"id": s.ID}, &read)
	if read.SavedSegment.CustomerCount != 0 || read.SavedSegment.Customers.TotalCount != 0 {
		t.Fatalf("after the values vanished: %+v", read.SavedSegment)
	}
	viewer.Must(t, `query($id: UUID!) { customers(filter: {savedSegment: $id}) { totalCount } customerStats(filter: {savedSegment: $id}) { total } }`,
		map[string]any{"id": s.ID}, &list)
	if list.Customers.TotalCount != 0 || list.CustomerStats.Total != 0 {
		t.Fatalf("customers of the emptied segment: %+v", list)
	}
	// Update: the name, and filter and search together; clearing the description.
	upd := segCall(t, manager, updateSegment, map[string]any{"id": s.ID, "input": map[string]any{
		"name": "Bravo's", "description": "", "search": "brav"}})
	if u := upd.SavedSegment; len(upd.UserErrors) > 0 || u.Name != "Bravo's" || u.Description != nil || *u.Search != "brav" ||
		len(u.Filter) != 0 || segNames(u) != "Bravo" {
		t.Fatalf("updated: %+v", upd)
	}
	// The list, by name, paged.
	segCall(t, manager, createSegment, map[string]any{"input": map[string]any{"name": "Active", "filter": map[string]any{"status": []string{"ACTIVE"}}}})
	var segs struct {
		SavedSegments struct {
			TotalCount int
			Nodes      []struct{ Name string }
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	viewer.Must(t, `{ savedSegments(first: 1) { totalCount nodes { name } pageInfo { hasNextPage endCursor } } }`, nil, &segs)
	if segs.SavedSegments.TotalCount != 2 || segs.SavedSegments.Nodes[0].Name != "Active" || !segs.SavedSegments.PageInfo.HasNextPage {
		t.Fatalf("savedSegments: %+v", segs)
	}
	viewer.Must(t, `query($after: String) { savedSegments(first: 1, after: $after) { totalCount nodes { name } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"after": segs.SavedSegments.PageInfo.EndCursor}, &segs)
	if segs.SavedSegments.Nodes[0].Name != "Bravo's" || segs.SavedSegments.PageInfo.HasNextPage {
		t.Fatalf("savedSegments page 2: %+v", segs)
	}
	// Delete; then it is gone (NOT_FOUND on a second delete, and as a filter).
	if d := segCall(t, manager, deleteSegment, map[string]any{"id": s.ID}); len(d.UserErrors) > 0 || d.DeletedSavedSegmentID == nil || *d.DeletedSavedSegmentID != s.ID {
		t.Fatalf("delete: %+v", d)
	}
	if d := segCall(t, manager, deleteSegment, map[string]any{"id": s.ID}); len(d.UserErrors) != 1 || d.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("second delete: %+v", d)
	}
	if res := viewer.Do(t, `query($id: UUID!) { customers(filter: {savedSegment: $id}) { totalCount } }`, map[string]any{"id": s.ID}); res.ErrorCode(t) != "NOT_FOUND" {
		t.Fatalf("a deleted segment as a filter: %s", res.Body)
	}
	// Audited: create, update, delete (and the second create), by the manager.
	var actions []string
	if err := srv.Owner.NewRaw(`SELECT action FROM audit_log WHERE organization_id = ? AND entity_type = 'saved_segment' AND actor_id = ?
		ORDER BY audit_id`, manager.Org, manager.User).Scan(t.Context(), &actions); err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, " ") != "saved_segment.create saved_segment.update saved_segment.create saved_segment.delete" {
		t.Fatalf("audit: %v", actions)
	}
}

// Saved segments: roles, validation (as the live filter is validated), and another
// organization's segment is invisible and untouchable.
func TestSavedSegments_RolesValidationAndIsolation(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	manager := srv.NewOrg(t, auth.Manager)
	agent := srv.As(t, manager.Org, auth.Agent)
	if res := agent.Do(t, createSegment, map[string]any{"input": map[string]any{"name": "x"}}); res.ErrorCode(t) != "FORBIDDEN" {
		t.Fatalf("agent creates: %s", res.Body)
	}
	mine := segCall(t, manager, createSegment, map[string]any{"input": map[string]any{"name": "Mine"}}).SavedSegment
	for _, c := range []struct {
		input map[string]any
		field string
		code  string
	}{
		{map[string]any{"name": "   "}, "input.name", "INVALID"},
		{map[string]any{"name": strings.Repeat("n", 100) + "x"}, "input.name", "INVALID"},
		{map[string]any{"name": "d", "description": strings.Repeat("d", 1001)}, "input.description", "INVALID"},
		{map[string]any{"name": "s", "search": strings.Repeat("s", 201)}, "input.search", "INVALID"},
		{map[string]any{"name": "nested", "filter": map[string]any{"savedSegment": mine.ID}}, "input.filter.savedSegment", "INVALID"},
		{map[string]any{"name": "t", "filter": map[string]any{"tags": map[string]any{"all": []string{"ok", strings.Repeat("t", 256)}}}}, "input.filter.tags.all.1", "INVALID"},
		{map[string]any{"name": "Mine"}, "input.name", "TAKEN"},
	} {
		p := segCall(t, manager, createSegment, map[string]any{"input": c.input})
		if p.SavedSegment != nil || len(p.UserErrors) == 0 || strings.Join(p.UserErrors[0].Field, ".") != c.field || p.UserErrors[0].Code != c.code {
			t.Errorf("%v: %+v", c.input, p)
		}
	}
	if p := segCall(t, manager, updateSegment, map[string]any{"id": uuid.New(), "input": map[string]any{"name": "z"}}); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
		t.Errorf("update of an unknown id: %+v", p)
	}
	// Another organization: not by id, not in the list, not as a filter, not updatable or
	// deletable; nothing of the owner's changes.
	other := srv.NewOrg(t, auth.Admin)
	var got struct {
		SavedSegment  *struct{ ID string }
		SavedSegments struct{ TotalCount int }
	}
	other.Must(t, `query($id: UUID!) { savedSegment(id: $id) { id } savedSegments { totalCount } }`, map[string]any{"id": mine.ID}, &got)
	if got.SavedSegment != nil || got.SavedSegments.TotalCount != 0 {
		t.Fatalf("another organization reads: %+v", got)
	}
	if res := other.Do(t, `query($id: UUID!) { customers(filter: {savedSegment: $id}) { totalCount } }`, map[string]any{"id": mine.ID}); res.ErrorCode(t) != "NOT_FOUND" {
		t.Fatalf("another organization filters by it: %s", res.Body)
	}
	if p := segCall(t, other, updateSegment, map[string]any{"id": mine.ID, "input": map[string]any{"name": "stolen"}}); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("another organization updates: %+v", p)
	}
	if p := segCall(t, other, deleteSegment, map[string]any{"id": mine.ID}); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("another organization deletes: %+v", p)
	}
	var still struct{ SavedSegment *struct{ Name string } }
	manager.Must(t, `query($id: UUID!) { savedSegment(id: $id) { name } }`, map[string]any{"id": mine.ID}, &still)
	if still.SavedSegment == nil || still.SavedSegment.Name != "Mine" {
		t.Fatalf("the owner's segment after another organization's attempts: %+v", still)
	}
}
