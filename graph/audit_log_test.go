package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/segments"
)

type auditEntry struct {
	ID            string
	OccurredAt    string
	Actor         string
	Action        string
	EntityType    string
	EntityID      *string
	ChangedFields []string
	Details       map[string]any
}

type auditConn struct {
	TotalCount int
	Nodes      []auditEntry
	Edges      []struct{ Cursor string }
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		EndCursor                    *string
	}
}

const auditQuery = `query($filter: AuditLogFilter, $first: Int, $after: String) { auditLog(filter: $filter, first: $first, after: $after) {
	totalCount nodes { id occurredAt actor action entityType entityId changedFields details } edges { cursor }
	pageInfo { hasNextPage hasPreviousPage endCursor } } }`

func auditRead(t testing.TB, c *apitest.Client, filter map[string]any, vars map[string]any) auditConn {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["filter"] = filter
	var out struct{ AuditLog auditConn }
	c.Must(t, auditQuery, vars, &out)
	return out.AuditLog
}

func auditActions(c auditConn) string {
	var out []string
	for _, e := range c.Nodes {
		out = append(out, e.Action)
	}
	return strings.Join(out, " ")
}

// §12: the audit trail, newest first, for managers: by entity, actor (a user or SYSTEM for
// the jobs), action and time; paged by keyset cursors.
func TestAuditLog_FiltersPagesAndShowsTheJobsAsSystem(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	start := time.Now().Add(-time.Second)

	created := tlDo(t, agent, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Pérez"}) { customer { id } userErrors { code } } }`, nil)
	customer := created["customer"].(map[string]any)["id"].(string)
	tlDo(t, agent, `mutation($id: UUID!) { updateCustomer(id: $id, input: {notes: "secret note"}) { userErrors { code } } }`, map[string]any{"id": customer})
	tlDo(t, agent, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, map[string]any{"id": customer})
	tlDo(t, manager, `mutation($id: UUID!) { adjustPoints(input: {customerId: $id, points: 7, reason: "welcome", idempotencyKey: "audit-log-adjust"}) { userErrors { code } } }`, map[string]any{"id": customer})
	if _, err := segments.RecalculateOrg(t.Context(), srv.App, agent.Org); err != nil {
		t.Fatal(err)
	}
	// Another organization's trail is not this one's.
	other := srv.NewOrg(t, auth.Agent)
	tlDo(t, other, `mutation { createCustomer(input: {firstName: "Otra", lastName: "Org"}) { customer { id } userErrors { code } } }`, nil)

	all := auditRead(t, manager, nil, nil)
	if got := auditActions(all); got != "segments.recalculate loyalty.adjust loyalty.enroll customer.update customer.create" || all.TotalCount != 5 {
		t.Fatalf("the trail: %s (%d)", got, all.TotalCount)
	}
	system := all.Nodes[0]
	if system.Actor != "SYSTEM" || system.EntityType != "organization" || *system.EntityID != agent.Org.String() {
		t.Fatalf("the nightly recalculation: %+v", system)
	}
	update := all.Nodes[3]
	if update.Actor != agent.User.String() || update.EntityType != "customer" || *update.EntityID != customer ||
		strings.Join(update.ChangedFields, ",") != "notes" || strings.Contains(fmt.Sprint(update.Details), "secret") {
		t.Fatalf("the update: %+v", update)
	}
	for _, c := range []struct {
		filter map[string]any
		want   string
	}{
		{map[string]any{"actor": "SYSTEM"}, "segments.recalculate"},
		{map[string]any{"actor": agent.User.String()}, "loyalty.enroll customer.update customer.create"},
		{map[string]any{"actor": manager.User.String()}, "loyalty.adjust"},
		{map[string]any{"action": "customer.update"}, "customer.update"},
		{map[string]any{"entityType": "customer"}, "customer.update customer.create"},
		{map[string]any{"entityType": "customer", "entityId": customer}, "customer.update customer.create"},
		{map[string]any{"entityId": customer, "action": "customer.create"}, "customer.create"},
		{map[string]any{"entityType": "loyalty_account", "actor": "SYSTEM"}, ""},
		{map[string]any{"from": start.Format(time.RFC3339Nano), "to": all.Nodes[2].OccurredAt}, "customer.update customer.create"},
		{map[string]any{"from": all.Nodes[0].OccurredAt}, "segments.recalculate"},
		{map[string]any{"actor": uuid.NewString()}, ""},
	} {
		got := auditRead(t, manager, c.filter, nil)
		if auditActions(got) != c.want || got.TotalCount != len(got.Nodes) {
			t.Errorf("%v: %q (%d), want %q", c.filter, auditActions(got), got.TotalCount, c.want)
		}
	}
	// Pages of two walk the trail, and stay put while entries arrive.
	page := auditRead(t, manager, nil, map[string]any{"first": 2})
	if auditActions(page) != "segments.recalculate loyalty.adjust" || !page.PageInfo.HasNextPage || page.PageInfo.HasPreviousPage || page.TotalCount != 5 {
		t.Fatalf("first page: %+v", page)
	}
	tlDo(t, agent, `mutation($id: UUID!) { updateCustomer(id: $id, input: {notes: "again"}) { userErrors { code } } }`, map[string]any{"id": customer})
	page = auditRead(t, manager, nil, map[string]any{"first": 2, "after": *page.PageInfo.EndCursor})
	if auditActions(page) != "loyalty.enroll customer.update" || !page.PageInfo.HasNextPage || !page.PageInfo.HasPreviousPage {
		t.Fatalf("second page: %+v", page)
	}
	page = auditRead(t, manager, nil, map[string]any{"first": 2, "after": page.Edges[1].Cursor})
	if auditActions(page) != "customer.create" || page.PageInfo.HasNextPage {
		t.Fatalf("last page: %+v", page)
	}
}

// auditLog is a manager's; its bad arguments are BAD_USER_INPUT, never a server error.
func TestAuditLog_RolesAndBadArguments(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	manager := srv.NewOrg(t, auth.Manager)
	for _, role := range []auth.Role{auth.Viewer, auth.Agent} {
		if res := srv.As(t, manager.Org, role).Do(t, auditQuery, nil); res.ErrorCode(t) != "FORBIDDEN" {
			t.Errorf("%s: %s", role, res.Body)
		}
	}
	var tl struct {
		Customer struct {
			Timeline struct{ PageInfo struct{ EndCursor *string } }
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(srv.Logs())
		}
	})
	customer := loyCustomer(t, srv, manager.Org)
	loyEnroll(t, srv.As(t, manager.Org, auth.Agent), customer)
	manager.Must(t, `query($id: UUID!) { customer(id: $id) { timeline(first: 1) { pageInfo { endCursor } } } }`, map[string]any{"id": customer}, &tl)
	long := strings.Repeat("x", 51)
	for _, vars := range []map[string]any{
		{"first": 0}, {"first": 101}, {"after": "bm9wZQ"}, {"after": *tl.Customer.Timeline.PageInfo.EndCursor},
		{"filter": map[string]any{"actor": "bob"}},
		{"filter": map[string]any{"actor": uuid.Nil.String()}},
		{"filter": map[string]any{"entityType": ""}},
		{"filter": map[string]any{"entityType": long[:31]}},
		{"filter": map[string]any{"action": long}},
		{"filter": map[string]any{"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T00:00:00Z"}},
	} {
		res := manager.Do(t, auditQuery, vars)
		if res.ErrorCode(t) != "BAD_USER_INPUT" || strings.Contains(string(res.Body), "SELECT") {
			t.Errorf("%v: %s", vars, res.Body)
		}
	}
}

// Each filter of auditLog reads an index of its own column(s) in order: a page never sorts
// or scans the organization's trail (the plan, with scans and sorts made unattractive so
// only an index that serves the order can win on a small table).
func TestAuditLog_EachFilterReadsAnIndexInOrder(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	manager := srv.NewOrg(t, auth.Manager)
	var sqls []string
	for _, c := range []struct {
		filter map[string]any
		index  string
	}{
		{nil, "audit_log_org_time_idx"},
		{map[string]any{"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}, "audit_log_org_time_idx"},
		{map[string]any{"actor": "SYSTEM"}, "audit_log_actor_idx"},
		{map[string]any{"action": "customer.update"}, "audit_log_action_idx"},
		{map[string]any{"entityType": "customer", "entityId": uuid.NewString()}, "audit_log_entity_time_idx"},
		{map[string]any{"entityId": uuid.NewString()}, "audit_log_entity_time_idx"},
		{map[string]any{"entityType": "customer"}, "audit_log_org_time_idx"},
	} {
		sqls = sqls[:0]
		srv.Statements.Watch(func(sql string) {
			if strings.Contains(sql, "FROM \"audit_log\"") && strings.Contains(sql, "LIMIT") {
				sqls = append(sqls, sql)
			}
		})
		auditRead(t, manager, c.filter, map[string]any{"first": 5})
		srv.Statements.Watch(nil)
		if len(sqls) != 1 {
			t.Fatalf("%v: %d statements on audit_log: %v", c.filter, len(sqls), sqls)
		}
		tx, err := srv.Owner.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		// SET LOCAL (not set_config): on Citus, with propagate_set_commands, it reaches the
		// worker that plans the shard's scan too (on plain PostgreSQL the citus setting is an
		// inert placeholder).
		_, err = tx.ExecContext(t.Context(), "SELECT set_config('app.current_organization_id', ?, true)", manager.Org.String())
		for _, set := range []string{"citus.propagate_set_commands = 'local'", "enable_seqscan = off", "enable_bitmapscan = off", "enable_sort = off"} {
			if err == nil {
				_, err = tx.ExecContext(t.Context(), "SET LOCAL "+set)
			}
		}
		if err == nil {
			err = tx.NewRaw("EXPLAIN "+strings.ReplaceAll(sqls[0], "?", "??")).Scan(t.Context(), &plan)
		}
		_ = tx.Rollback()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "Index Scan using "+c.index) || strings.Contains(text, "Sort") {
			t.Errorf("%v:\n%s", c.filter, text)
		}
	}
}
