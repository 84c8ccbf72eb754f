package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/privacy"
)

// §11 the privacy requests log: due dates from the organization's response days, the
// overdue filter and field, completion once, the settings, audit rows, and isolation.

const privacyRequestFields = `id customerId type status receivedAt dueDate responseDays overdue notes outcome recordedBy recordedAt completedBy completedAt`

type privacyRequestOut struct {
	ID           string
	CustomerID   *string
	Type         string
	Status       string
	ReceivedAt   time.Time
	DueDate      string
	ResponseDays int
	Overdue      bool
	Notes        *string
	Outcome      *string
	RecordedBy   string
	RecordedAt   time.Time
	CompletedBy  *string
	CompletedAt  *time.Time
}

type privacyRequestPayload struct {
	PrivacyRequest *privacyRequestOut
	UserErrors     []userError
}

func recordPrivacyRequest(t *testing.T, c *apitest.Client, input map[string]any) privacyRequestPayload {
	t.Helper()
	var out struct{ R privacyRequestPayload }
	c.Must(t, `mutation($input: RecordPrivacyRequestInput!) { r: recordPrivacyRequest(input: $input) { privacyRequest { `+privacyRequestFields+` } userErrors { field message code } } }`,
		map[string]any{"input": input}, &out)
	return out.R
}

func completePrivacyRequest(t *testing.T, c *apitest.Client, input map[string]any) privacyRequestPayload {
	t.Helper()
	var out struct{ R privacyRequestPayload }
	c.Must(t, `mutation($input: CompletePrivacyRequestInput!) { r: completePrivacyRequest(input: $input) { privacyRequest { `+privacyRequestFields+` } userErrors { field message code } } }`,
		map[string]any{"input": input}, &out)
	return out.R
}

type privacyPage struct {
	TotalCount int
	Nodes      []privacyRequestOut
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
}

func listPrivacyRequests(t *testing.T, c *apitest.Client, args map[string]any) privacyPage {
	t.Helper()
	var out struct{ PrivacyRequests privacyPage }
	c.Must(t, `query($first: Int, $after: String, $status: PrivacyRequestStatus, $overdue: Boolean, $customerId: UUID) {
		privacyRequests(first: $first, after: $after, status: $status, overdue: $overdue, customerId: $customerId) {
			totalCount nodes { `+privacyRequestFields+` } pageInfo { hasNextPage endCursor } } }`, args, &out)
	return out.PrivacyRequests
}

func auditCount(t *testing.T, srv *apitest.Server, org uuid.UUID, action string) int {
	t.Helper()
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = ?", org, action).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPrivacyRequests_DueDatesOverdueAndCompletion(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	cust := mustCreateCustomer(t, c, ana())
	now := time.Now().UTC()

	old := now.AddDate(0, 0, -30).Truncate(time.Second)
	late := recordPrivacyRequest(t, c, map[string]any{"customerId": cust.ID, "type": "ACCESS", "receivedAt": old.Format(time.RFC3339),
		"notes": "  Pidió una copia de sus datos por correo.\n "})
	if late.PrivacyRequest == nil || len(late.UserErrors) != 0 {
		t.Fatalf("record: %+v", late)
	}
	r := *late.PrivacyRequest
	wantDue := privacy.DueDate(old, privacy.DefaultResponseDays).Format(time.DateOnly)
	if r.Type != "ACCESS" || r.Status != "OPEN" || deref(r.CustomerID) != cust.ID || !r.ReceivedAt.Equal(old) || r.DueDate != wantDue ||
		r.ResponseDays != 10 || !r.Overdue || deref(r.Notes) != "Pidió una copia de sus datos por correo." || r.RecordedBy != c.User.String() ||
		r.CompletedBy != nil || r.CompletedAt != nil {
		t.Fatalf("recorded: %+v (want due %s, overdue)", r, wantDue)
	}
	fresh := recordPrivacyRequest(t, c, map[string]any{"type": "PORTABILITY", "receivedAt": now.Add(-time.Hour).Format(time.RFC3339Nano)}).PrivacyRequest
	if fresh == nil || fresh.Overdue || fresh.CustomerID != nil || fresh.Status != "OPEN" {
		t.Fatalf("fresh: %+v", fresh)
	}

	// The filters: overdue true is the late one alone, false the other; status; customer.
	if got := listPrivacyRequests(t, c, map[string]any{"overdue": true}); got.TotalCount != 1 || len(got.Nodes) != 1 || got.Nodes[0].ID != r.ID {
		t.Fatalf("overdue: %+v", got)
	}
	if got := listPrivacyRequests(t, c, map[string]any{"overdue": false}); got.TotalCount != 1 || got.Nodes[0].ID != fresh.ID {
		t.Fatalf("not overdue: %+v", got)
	}
	if got := listPrivacyRequests(t, c, map[string]any{"customerId": cust.ID}); got.TotalCount != 1 || got.Nodes[0].ID != r.ID {
		t.Fatalf("by customer: %+v", got)
	}
	// Newest received first, paged.
	p1 := listPrivacyRequests(t, c, map[string]any{"first": 1})
	if p1.TotalCount != 2 || len(p1.Nodes) != 1 || p1.Nodes[0].ID != fresh.ID || !p1.PageInfo.HasNextPage {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := listPrivacyRequests(t, c, map[string]any{"first": 1, "after": *p1.PageInfo.EndCursor})
	if len(p2.Nodes) != 1 || p2.Nodes[0].ID != r.ID || p2.PageInfo.HasNextPage {
		t.Fatalf("page 2: %+v", p2)
	}

	// Completed once: then it is no longer overdue; a second completion is INVALID_STATE.
	done := completePrivacyRequest(t, c, map[string]any{"id": r.ID, "outcome": "Enviado el export v1."})
	if d := done.PrivacyRequest; d == nil || d.Status != "COMPLETED" || d.Overdue || deref(d.CompletedBy) != c.User.String() || d.CompletedAt == nil ||
		deref(d.Outcome) != "Enviado el export v1." || d.DueDate != wantDue {
		t.Fatalf("complete: %+v", done)
	}
	again := completePrivacyRequest(t, c, map[string]any{"id": r.ID, "status": "REJECTED", "outcome": "x"})
	if again.PrivacyRequest != nil || len(again.UserErrors) != 1 || again.UserErrors[0].Code != "INVALID_STATE" || strings.Join(again.UserErrors[0].Field, ".") != "input.id" {
		t.Fatalf("complete twice: %+v", again)
	}
	if got := listPrivacyRequests(t, c, map[string]any{"overdue": true}); got.TotalCount != 0 {
		t.Fatalf("overdue after completion: %+v", got)
	}
	if got := listPrivacyRequests(t, c, map[string]any{"status": "COMPLETED"}); got.TotalCount != 1 || got.Nodes[0].ID != r.ID {
		t.Fatalf("completed: %+v", got)
	}

	// A rejection needs its reason; with it, REJECTED. OPEN is not an ending.
	for name, in := range map[string]map[string]any{
		"rejected without outcome": {"id": fresh.ID, "status": "REJECTED"},
		"rejected blank outcome":   {"id": fresh.ID, "status": "REJECTED", "outcome": "  "},
		"OPEN":                     {"id": fresh.ID, "status": "OPEN"},
	} {
		if got := completePrivacyRequest(t, c, in); got.PrivacyRequest != nil || len(got.UserErrors) != 1 || got.UserErrors[0].Code != "INVALID" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	rej := completePrivacyRequest(t, c, map[string]any{"id": fresh.ID, "status": "REJECTED", "outcome": "No es titular de los datos."})
	if rej.PrivacyRequest == nil || rej.PrivacyRequest.Status != "REJECTED" {
		t.Fatalf("reject: %+v", rej)
	}
	if got := completePrivacyRequest(t, c, map[string]any{"id": uuid.NewString()}); len(got.UserErrors) != 1 || got.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("unknown id: %+v", got)
	}

	// Audited: two records, two completions; the refusals wrote nothing.
	if n, m := auditCount(t, srv, c.Org, "privacy_request.record"), auditCount(t, srv, c.Org, "privacy_request.complete"); n != 2 || m != 2 {
		t.Fatalf("audit rows: %d records, %d completions", n, m)
	}
	// The audit rows hold no text of the request.
	var leaks int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM audit_log WHERE organization_id = ? AND details::text LIKE '%correo%'", c.Org).Scan(context.Background(), &leaks); err != nil || leaks != 0 {
		t.Fatalf("audit details hold the notes: %d %v", leaks, err)
	}
}

// Two admins complete one request at once: exactly one succeeds, the other is INVALID_STATE.
func TestPrivacyRequests_ConcurrentCompletionOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	other := srv.As(t, c.Org, auth.Admin)
	for round := 0; round < 5; round++ {
		r := recordPrivacyRequest(t, c, map[string]any{"type": "OPPOSITION", "receivedAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}).PrivacyRequest
		var wg sync.WaitGroup
		results := make([]privacyRequestPayload, 2)
		for i, cl := range []*apitest.Client{c, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = completePrivacyRequest(t, cl, map[string]any{"id": r.ID})
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, res := range results {
			switch {
			case res.PrivacyRequest != nil && len(res.UserErrors) == 0:
				ok++
			case len(res.UserErrors) == 1 && res.UserErrors[0].Code == "INVALID_STATE":
				refused++
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %+v", round, results)
		}
	}
	if n := auditCount(t, srv, c.Org, "privacy_request.complete"); n != 5 {
		t.Fatalf("%d completion audit rows, want 5", n)
	}
}

// With an idempotency key a replay answers the original and writes nothing; the key with
// another request is IDEMPOTENCY_CONFLICT. Without a key each call is a new request.
func TestPrivacyRequests_Replay(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	at := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	in := map[string]any{"type": "RECTIFICATION", "receivedAt": at, "notes": "Cambio de apellido", "idempotencyKey": "ticket-77"}
	first := recordPrivacyRequest(t, c, in).PrivacyRequest
	second := recordPrivacyRequest(t, c, in).PrivacyRequest
	if first == nil || second == nil || first.ID != second.ID || !first.RecordedAt.Equal(second.RecordedAt) {
		t.Fatalf("replay: %+v %+v", first, second)
	}
	conflict := map[string]any{"type": "CANCELLATION", "receivedAt": at, "notes": "Cambio de apellido", "idempotencyKey": "ticket-77"}
	if got := recordPrivacyRequest(t, c, conflict); got.PrivacyRequest != nil || len(got.UserErrors) != 1 || got.UserErrors[0].Code != "IDEMPOTENCY_CONFLICT" ||
		strings.Join(got.UserErrors[0].Field, ".") != "input.idempotencyKey" {
		t.Fatalf("conflict: %+v", got)
	}
	delete(in, "idempotencyKey")
	a, b := recordPrivacyRequest(t, c, in).PrivacyRequest, recordPrivacyRequest(t, c, in).PrivacyRequest
	if a == nil || b == nil || a.ID == b.ID {
		t.Fatalf("without a key: %+v %+v", a, b)
	}
	if n := auditCount(t, srv, c.Org, "privacy_request.record"); n != 3 {
		t.Fatalf("%d record audit rows, want 3 (the replay and the conflict write none)", n)
	}
	// Concurrent first calls with one key record it once.
	in["idempotencyKey"] = "ticket-race"
	var wg sync.WaitGroup
	got := make([]*privacyRequestOut, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = recordPrivacyRequest(t, c, in).PrivacyRequest
		}()
	}
	wg.Wait()
	for _, g := range got {
		if g == nil || g.ID != got[0].ID {
			t.Fatalf("concurrent replays: %+v", got)
		}
	}
}

func TestPrivacyRequests_RefusesBadInput(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	now := time.Now().UTC()
	base := func(k string, v any) map[string]any {
		in := map[string]any{"type": "ACCESS", "receivedAt": now.Add(-time.Minute).Format(time.RFC3339)}
		in[k] = v
		return in
	}
	for name, tc := range map[string]struct {
		input map[string]any
		code  string
		field string
	}{
		"received in the future": {base("receivedAt", now.Add(time.Hour).Format(time.RFC3339)), "INVALID", "input.receivedAt"},
		"received before 2019":   {base("receivedAt", "2018-12-31T23:59:59Z"), "INVALID", "input.receivedAt"},
		"notes of 10,001":        {base("notes", strings.Repeat("n", 10_001)), "INVALID", "input.notes"},
		"notes of 1 MB":          {base("notes", strings.Repeat("n", 1_000_000)), "INVALID", "input.notes"},
		"notes with NUL":         {base("notes", "a\x00b"), "INVALID", "input.notes"},
		"notes with a control":   {base("notes", "a\x07b"), "INVALID", "input.notes"},
		"key with a line feed":   {base("idempotencyKey", "k\n"), "INVALID", "input.idempotencyKey"},
		"key of 256":             {base("idempotencyKey", strings.Repeat("k", 256)), "INVALID", "input.idempotencyKey"},
		"key empty":              {base("idempotencyKey", ""), "INVALID", "input.idempotencyKey"},
		"unknown customer":       {base("customerId", uuid.NewString()), "NOT_FOUND", "input.customerId"},
	} {
		got := recordPrivacyRequest(t, c, tc.input)
		if got.PrivacyRequest != nil || len(got.UserErrors) != 1 || got.UserErrors[0].Code != tc.code || strings.Join(got.UserErrors[0].Field, ".") != tc.field {
			t.Errorf("%s: %+v, want %s on %s", name, got, tc.code, tc.field)
		}
	}
	// The boundaries accepted: notes of 10,000 with line breaks, a key of 255, received just now.
	ok := recordPrivacyRequest(t, c, map[string]any{"type": "ACCESS", "receivedAt": now.Format(time.RFC3339Nano),
		"notes": strings.Repeat("n", 9_998) + "\r\n", "idempotencyKey": strings.Repeat("k", 255)})
	if ok.PrivacyRequest == nil {
		t.Fatalf("boundaries: %+v", ok.UserErrors)
	}
	// A complete's outcome: the same rule.
	if got := completePrivacyRequest(t, c, map[string]any{"id": ok.PrivacyRequest.ID, "outcome": strings.Repeat("o", 1_000_000)}); len(got.UserErrors) != 1 ||
		got.UserErrors[0].Code != "INVALID" || strings.Join(got.UserErrors[0].Field, ".") != "input.outcome" {
		t.Fatalf("outcome of 1 MB: %+v", got)
	}
	// A type outside the enum and a malformed date are refused by GraphQL before anything runs.
	for name, in := range map[string]map[string]any{
		"type":       {"type": "DELETE_ME", "receivedAt": now.Format(time.RFC3339)},
		"receivedAt": {"type": "ACCESS", "receivedAt": "yesterday"},
	} {
		r := c.Do(t, `mutation($input: RecordPrivacyRequestInput!) { recordPrivacyRequest(input: $input) { userErrors { code } } }`, map[string]any{"input": in})
		if code := r.ErrorCode(t); code != "BAD_USER_INPUT" {
			t.Errorf("%s: %s", name, code)
		}
	}
	// Raw invalid UTF-8 in the notes: refused whole.
	b, _ := json.Marshal(map[string]any{"query": `mutation($n: String!) { recordPrivacyRequest(input: {type: ACCESS, receivedAt: "2026-01-05T10:00:00Z", notes: $n}) { userErrors { code } } }`,
		"variables": map[string]any{"n": "MARK"}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(bytes.Replace(b, []byte("MARK"), []byte("A\xffB"), 1)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("BAD_USER_INPUT")) {
		t.Fatalf("invalid UTF-8: %d %s", res.StatusCode, body)
	}
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM privacy_requests WHERE organization_id = ?", c.Org).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("%d requests stored (%v), want the one accepted", n, err)
	}
	// Only an admin: a manager is FORBIDDEN.
	m := srv.As(t, c.Org, auth.Manager)
	if code := m.Do(t, `{ privacyRequests { totalCount } }`, nil).ErrorCode(t); code != "FORBIDDEN" {
		t.Fatalf("manager: %s", code)
	}
}

func TestPrivacySettings_ResponseDays(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	type settings struct {
		ResponseDays int
		UpdatedAt    *time.Time
	}
	read := func() settings {
		var out struct{ PrivacySettings settings }
		c.Must(t, `{ privacySettings { responseDays updatedAt } }`, nil, &out)
		return out.PrivacySettings
	}
	update := func(days any) (settings, []userError) {
		var out struct {
			R struct {
				PrivacySettings *settings
				UserErrors      []userError
			}
		}
		c.Must(t, `mutation($d: Int) { r: updatePrivacySettings(input: {responseDays: $d}) { privacySettings { responseDays updatedAt } userErrors { field message code } } }`,
			map[string]any{"d": days}, &out)
		if out.R.PrivacySettings == nil {
			return settings{}, out.R.UserErrors
		}
		return *out.R.PrivacySettings, out.R.UserErrors
	}
	if s := read(); s.ResponseDays != 10 || s.UpdatedAt != nil {
		t.Fatalf("defaults: %+v", s)
	}
	received := time.Now().UTC().AddDate(0, 0, -1)
	before := recordPrivacyRequest(t, c, map[string]any{"type": "ACCESS", "receivedAt": received.Format(time.RFC3339)}).PrivacyRequest
	for _, bad := range []int{0, -1, 91} {
		if _, ue := update(bad); len(ue) != 1 || ue[0].Code != "INVALID" || strings.Join(ue[0].Field, ".") != "input.responseDays" {
			t.Errorf("%d: %+v", bad, ue)
		}
	}
	if s, ue := update(90); len(ue) != 0 || s.ResponseDays != 90 || s.UpdatedAt == nil {
		t.Fatalf("90: %+v %+v", s, ue)
	}
	if s, ue := update(1); len(ue) != 0 || s.ResponseDays != 1 {
		t.Fatalf("1: %+v %+v", s, ue)
	}
	after := recordPrivacyRequest(t, c, map[string]any{"type": "ACCESS", "receivedAt": received.Format(time.RFC3339)}).PrivacyRequest
	if after.ResponseDays != 1 || after.DueDate != privacy.DueDate(received, 1).Format(time.DateOnly) {
		t.Fatalf("after the change: %+v", after)
	}
	// The request recorded before keeps its due date.
	got := listPrivacyRequests(t, c, map[string]any{})
	for _, r := range got.Nodes {
		if r.ID == before.ID && (r.ResponseDays != 10 || r.DueDate != before.DueDate) {
			t.Fatalf("the earlier request moved: %+v", r)
		}
	}
	if n := auditCount(t, srv, c.Org, "privacy.update_settings"); n != 2 {
		t.Fatalf("%d settings audit rows, want 2", n)
	}
}

// §7: another organization neither sees nor changes the log, the settings or a request.
func TestIsolation_PrivacyRequests(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Admin)
	other := srv.NewOrg(t, auth.Admin)
	cust := mustCreateCustomer(t, owner, ana())
	r := recordPrivacyRequest(t, owner, map[string]any{"customerId": cust.ID, "type": "ACCESS",
		"receivedAt": time.Now().AddDate(0, 0, -40).Format(time.RFC3339), "notes": "nota", "idempotencyKey": "k-1"}).PrivacyRequest
	if r == nil {
		t.Fatal("record")
	}
	for name, args := range map[string]map[string]any{"list": {}, "overdue": {"overdue": true}, "by customer": {"customerId": cust.ID}} {
		if got := listPrivacyRequests(t, other, args); got.TotalCount != 0 || len(got.Nodes) != 0 {
			t.Errorf("%s: another organization sees %+v", name, got)
		}
	}
	if got := completePrivacyRequest(t, other, map[string]any{"id": r.ID}); len(got.UserErrors) != 1 || got.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("complete: %+v", got)
	}
	// Recording for the owner's customer is NOT_FOUND; the same idempotency key is free there.
	if got := recordPrivacyRequest(t, other, map[string]any{"customerId": cust.ID, "type": "ACCESS", "receivedAt": time.Now().Format(time.RFC3339)}); len(got.UserErrors) != 1 || got.UserErrors[0].Code != "NOT_FOUND" {
		t.Fatalf("record for the owner's customer: %+v", got)
	}
	if got := recordPrivacyRequest(t, other, map[string]any{"type": "ACCESS", "receivedAt": time.Now().Format(time.RFC3339), "idempotencyKey": "k-1"}); got.PrivacyRequest == nil || got.PrivacyRequest.ID == r.ID {
		t.Fatalf("the same key in another organization: %+v", got)
	}
	var out struct {
		R struct{ UserErrors []userError }
	}
	other.Must(t, `mutation { r: updatePrivacySettings(input: {responseDays: 30}) { userErrors { code } } }`, nil, &out)
	var st struct{ PrivacySettings struct{ ResponseDays int } }
	owner.Must(t, `{ privacySettings { responseDays } }`, nil, &st)
	if st.PrivacySettings.ResponseDays != 10 {
		t.Fatalf("another organization's settings changed the owner's: %+v", st)
	}
	got := listPrivacyRequests(t, owner, map[string]any{})
	if got.TotalCount != 1 || got.Nodes[0].Status != "OPEN" || deref(got.Nodes[0].Notes) != "nota" {
		t.Fatalf("the owner's log changed: %+v", got)
	}
}
