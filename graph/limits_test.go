package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/testkit/apitest"
	"customerservice/seed"
)

// The Customer 360 dashboard page of the brief, with every field of every object: the most
// a dashboard of 100 customers can ask for.
const dashboardQuery = `query Dashboard {
  customers(first: 100) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id customerType firstName lastName fullName email phone documentType documentNumber
      birthDate gender status statusReason preferredLanguage marketingConsent tags metadata
      notes createdAt updatedAt lastPurchaseAt
      addresses { id customerId addressType recipientName addressLine1 addressLine2 city state postalCode country phone isDefault isActive createdAt updatedAt }
      defaultShippingAddress { id addressLine1 addressLine2 city state postalCode country phone }
      loyaltyAccount {
        id pointsBalance lifetimePoints pointsRedeemed tier tierSince tierExpiresAt totalPurchases totalSpent createdAt nextTier pointsToNextTier
        transactions(first: 5) { edges { cursor node { id type points balanceAfter referenceType referenceId description expiresAt createdAt } } }
      }
      creditAccount {
        id creditLimit creditUsed creditAvailable paymentTermDays status approvedAt approvedBy approvalNotes
        suspendedAt suspensionReason cancelledAt cancellationReason createdAt outstanding overdueAmount
        usages { edges { cursor node { id orderId amount amountPaid outstanding status dueDate createdAt } } }
        aging { current days1To30 days31To60 days61To90 over90 }
      }
      segment { segmentCode rfmRecency rfmFrequency rfmMonetary rfmScore lifetimeValue averageOrderValue totalOrders daysSinceLastPurchase isVip isAtRisk calculatedAt }
    } }
  }
}`

// Two pages of 100 nested in a page of 100, and more: a million rows asked for at once.
const abusiveQuery = `{
  customers(first: 100) { nodes {
    purchases(first: 100) { nodes { id amount } }
    loyaltyAccount { transactions(first: 100) { nodes { id points } } }
    creditAccount { usages(first: 100) { nodes { id amount } } payments(first: 100) { nodes { id amount } } }
  } }
}`

// rawResponse is an HTTP response with its headers, for what apitest.Response leaves out.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
	Errors []apitest.Error `json:"errors"`
	Data   json.RawMessage `json:"data"`
}

func (r rawResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// send makes one HTTP request to the server's /graphql.
func send(t testing.TB, srv *apitest.Server, method, token, contentType, body string, query url.Values) rawResponse {
	t.Helper()
	u := srv.URL + "/graphql"
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := rawResponse{Status: res.StatusCode, Header: res.Header, Body: raw}
	_ = json.Unmarshal(raw, &out) // not every answer is JSON; the callers check
	return out
}

// post sends a GraphQL request as JSON.
func post(t testing.TB, srv *apitest.Server, token string, params map[string]any) rawResponse {
	t.Helper()
	b, _ := json.Marshal(params)
	return send(t, srv, http.MethodPost, token, "application/json", string(b), nil)
}

// wantRejected checks a request refused before it ran, sent accepting application/json: HTTP
// 200 (the GraphQL-over-HTTP spec's status for a well-formed request in that media type), one
// error with the code, its message naming the limit, and no data entry.
func wantRejected(t testing.TB, r rawResponse, code, limit string) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.code() != code ||
		!strings.Contains(r.Errors[0].Message, limit) || r.Data != nil {
		t.Fatalf("want HTTP 200 with one %s error naming %s and no data, got %d: %s", code, limit, r.Status, r.Body)
	}
}

// stillServes checks the server answers a normal request after a refused one.
func stillServes(t testing.TB, c *apitest.Client) {
	t.Helper()
	var got struct {
		Me struct{ OrganizationID string }
	}
	c.Must(t, `{ me { organizationId } }`, nil, &got)
	if got.Me.OrganizationID != c.Org.String() {
		t.Fatalf("me = %+v", got)
	}
}

// Every field that takes first/last costs its selection per item of the page, so a new
// connection cannot be added without a cost.
func TestLimits_EveryPagedFieldCostsItsSelectionPerItem(t *testing.T) {
	es := graph.NewSchema(nil)
	ctx := context.Background()
	found := 0
	for _, typ := range es.Schema().Types {
		for _, f := range typ.Fields {
			for _, arg := range []string{"first", "last"} {
				if f.Arguments.ForName(arg) == nil {
					continue
				}
				found++
				name := typ.Name + "." + f.Name
				for _, tc := range []struct {
					args map[string]any
					want int
				}{
					{map[string]any{arg: 50}, 1 + 50*7},
					{map[string]any{arg: 100}, 1 + 100*7},
					{map[string]any{arg: 100000}, 1 + 100*7}, // a page never holds more than 100
					{map[string]any{}, 1 + 20*7},             // §8: 20 by default
				} {
					got, ok := es.Complexity(ctx, typ.Name, f.Name, 7, tc.args)
					if !ok || got != tc.want {
						t.Errorf("%s(%v) costs %d (set: %v), want %d: add it to setComplexity in graph/limits.go", name, tc.args, got, ok, tc.want)
					}
				}
			}
		}
	}
	if found < 5 {
		t.Fatalf("found %d paged fields, want at least customers, purchases, transactions, usages, payments", found)
	}
}

// The 360 dashboard page of 100 customers, with every field, passes the default limits;
// two nested pages of 100 do not.
func TestLimits_DashboardPassesAndAbusiveNestingIsTooComplex(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	var page struct {
		Customers struct{ TotalCount int }
	}
	c.Must(t, dashboardQuery, nil, &page)

	r := post(t, srv, c.Token, map[string]any{"query": abusiveQuery})
	wantRejected(t, r, "QUERY_TOO_COMPLEX", fmt.Sprint(graph.DefaultMaxComplexity))
	stillServes(t, c)
}

// The dashboard page runs against real data: 100 customers with every relation resolve
// under the default limits.
func TestLimits_DashboardRunsOnAFullPage(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	if _, err := seed.Customers(context.Background(), srv.App, seed.Options{Org: org, Customers: 120, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	c := srv.As(t, org, auth.Viewer)
	var page struct {
		Customers struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	c.Must(t, dashboardQuery, nil, &page)
	if page.Customers.TotalCount != 120 || len(page.Customers.Edges) != 100 {
		t.Fatalf("dashboard: %d of %d customers", len(page.Customers.Edges), page.Customers.TotalCount)
	}
}

func TestLimits_DepthAliasesAndTokensAreCapped(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: graph.Limits{MaxDepth: 4, MaxAliases: 3, MaxComplexity: 1000}})
	c := srv.NewOrg(t, auth.Viewer)

	// customers(1) nodes(2) loyaltyAccount(3) tier(4): at the limit.
	c.Must(t, `{ customers { nodes { loyaltyAccount { tier } } } }`, nil, nil)

	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: me { userId }", i)
		}
		return b.String() + " }"
	}
	c.Must(t, aliases(3), nil, nil)

	// Forty fragments that each spread the next twice: 2^40 copies of one field if expanded.
	var bomb strings.Builder
	bomb.WriteString("{ me { ...F0 } }\n")
	for i := range 40 {
		fmt.Fprintf(&bomb, "fragment F%d on Me { userId ...F%d ...F%d }\n", i, i+1, i+1)
	}
	bomb.WriteString("fragment F40 on Me { userId }\n")

	for name, tc := range map[string]struct {
		query, limit string
	}{
		"too deep":        {`{ customers { nodes { loyaltyAccount { transactions { nodes { id } } } } } }`, "limit of 4"},
		"too many alias":  {aliases(4), "3 aliased fields"},
		"fragment bomb":   {bomb.String(), "1000"},
		"too many tokens": {"{" + strings.Repeat(" __typename", 16_000) + " }", "15000 tokens"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			wantRejected(t, post(t, srv, c.Token, map[string]any{"query": tc.query}), "QUERY_TOO_COMPLEX", tc.limit)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("rejecting took %v", d)
			}
			stillServes(t, c)
		})
	}
}

func TestLimits_DefaultAliasCap(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	var b strings.Builder
	b.WriteString("{")
	for i := range graph.DefaultMaxAliases + 1 {
		fmt.Fprintf(&b, " a%d: __typename", i)
	}
	b.WriteString(" }")
	wantRejected(t, post(t, srv, c.Token, map[string]any{"query": b.String()}), "QUERY_TOO_COMPLEX", fmt.Sprint(graph.DefaultMaxAliases))
}

func TestLimits_BodyOverTheLimitIs413(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: graph.Limits{MaxBodyBytes: 4096}})
	c := srv.NewOrg(t, auth.Agent)
	big := strings.Repeat("x", 5000)
	r := post(t, srv, c.Token, map[string]any{
		"query":     `mutation($n: String) { createCustomer(input: {firstName: "A", lastName: "B", notes: $n}) { customer { id } } }`,
		"variables": map[string]any{"n": big},
	})
	if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "4096") {
		t.Fatalf("want 413 BAD_USER_INPUT naming 4096, got %d: %s", r.Status, r.Body)
	}
	if n := limCount(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 0 {
		t.Fatalf("the oversized mutation created %d customers", n)
	}
	stillServes(t, c)
}

// gqlgen's POST takes one operation: a JSON array (a batch) is refused whole.
func TestLimits_BatchIsRefused(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	op := map[string]any{"query": `mutation { createCustomer(input: {firstName: "Batch", lastName: "One"}) { customer { id } } }`}
	b, _ := json.Marshal([]any{op, op})
	r := send(t, srv, http.MethodPost, c.Token, "application/json", string(b), nil)
	if r.Status != http.StatusBadRequest || r.code() != "BAD_USER_INPUT" || bytes.Contains(r.Body, []byte("Batch")) {
		t.Fatalf("want 400 BAD_USER_INPUT without the body echoed, got %d: %s", r.Status, r.Body)
	}
	if n := limCount(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 0 {
		t.Fatalf("the batch created %d customers", n)
	}
	stillServes(t, c)
}

// GET runs queries only: a mutation over GET is refused and changes nothing.
func TestLimits_GETRunsQueriesNeverMutations(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	r := send(t, srv, http.MethodGet, c.Token, "", "", url.Values{"query": {`{ me { organizationId } }`}})
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), c.Org.String()) {
		t.Fatalf("GET query: %d %s", r.Status, r.Body)
	}
	r = send(t, srv, http.MethodGet, c.Token, "", "", url.Values{
		"query": {`mutation { createCustomer(input: {firstName: "Get", lastName: "Request"}) { customer { id } } }`}})
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != http.MethodPost || len(r.Errors) != 1 ||
		r.code() != "METHOD_NOT_ALLOWED" || r.Data != nil {
		t.Fatalf("GET mutation: want 405, Allow: POST and one METHOD_NOT_ALLOWED error without data, got %d %v: %s", r.Status, r.Header, r.Body)
	}
	if n := limCount(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ?", c.Org); n != 0 {
		t.Fatalf("the GET mutation created %d customers", n)
	}
}

// The request deadline cancels the work, its SQL included: a page of 100 customers with
// every relation cannot finish in a millisecond, the client gets 503 TIMEOUT at once, and
// the server's connections are back in the pool right after (the SQL did not run on).
func TestLimits_DeadlineAnswers503AndCancelsTheSQL(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{RequestTimeout: time.Millisecond})
	org := uuid.New()
	if _, err := seed.Customers(context.Background(), srv.App, seed.Options{Org: org, Customers: 100, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	c := srv.As(t, org, auth.Viewer)
	for range 5 {
		start := time.Now()
		r := post(t, srv, c.Token, map[string]any{"query": dashboardQuery})
		// http.TimeoutHandler answers 503; when the cancelled work returns at the same
		// instant, its own answer (coded TIMEOUT too) may win the race.
		if r.code() != "TIMEOUT" || r.Status != http.StatusServiceUnavailable && r.Status != http.StatusOK {
			t.Fatalf("want 503 TIMEOUT, got %d: %s", r.Status, r.Body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("the timeout took %v to answer", d)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for srv.App.Stats().InUse > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still busy after the deadline: the SQL was not cancelled", srv.App.Stats().InUse)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPersistedQueries_AutomaticRegistersThenRunsByHash(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	query := `{ me { organizationId } }`
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": graph.QueryHash(query)}}

	r := post(t, srv, c.Token, map[string]any{"extensions": ext})
	if r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: want PERSISTED_QUERY_NOT_FOUND, got %d: %s", r.Status, r.Body)
	}
	r = post(t, srv, c.Token, map[string]any{"query": query, "extensions": ext})
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	r = post(t, srv, c.Token, map[string]any{"extensions": ext})
	if r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), c.Org.String()) {
		t.Fatalf("by hash: %d %s", r.Status, r.Body)
	}
	// GET by hash too: what makes persisted queries cacheable by a CDN.
	b, _ := json.Marshal(ext)
	r = send(t, srv, http.MethodGet, c.Token, "", "", url.Values{"extensions": {string(b)}})
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("GET by hash: %d %s", r.Status, r.Body)
	}
	r = post(t, srv, c.Token, map[string]any{"query": `{ me { userId } }`, "extensions": ext})
	if r.Status == http.StatusOK && len(r.Errors) == 0 {
		t.Fatalf("a query that does not match its hash ran: %s", r.Body)
	}
}

func TestPersistedQueries_OnlyModeRunsTheManifestOnly(t *testing.T) {
	t.Parallel()
	query := "query Me { me { organizationId } }"
	manifest := fmt.Sprintf(`{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": [{"id": %q, "name": "Me", "type": "query", "body": %q}]}`, graph.QueryHash(query), query)
	path := filepath.Join(t.TempDir(), "operations.json")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	known, err := graph.LoadPersistedQueries(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := apitest.NewWith(t, apitest.Options{Limits: graph.Limits{PersistedQueries: known, PersistedOnly: true}})
	c := srv.NewOrg(t, auth.Viewer)
	ext := func(hash string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}

	for name, params := range map[string]map[string]any{
		"by hash":        {"extensions": ext(graph.QueryHash(query))},
		"hash and query": {"query": query, "extensions": ext(graph.QueryHash(query))},
	} {
		if r := post(t, srv, c.Token, params); r.Status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), c.Org.String()) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	other := `{ me { userId } }`
	for name, params := range map[string]map[string]any{
		"plain query":           {"query": query},
		"unknown hash":          {"extensions": ext(graph.QueryHash(other))},
		"registering a new one": {"query": other, "extensions": ext(graph.QueryHash(other))},
		"known hash, other doc": {"query": other, "extensions": ext(graph.QueryHash(query))},
	} {
		if r := post(t, srv, c.Token, params); r.Status != http.StatusOK || r.code() != "PERSISTED_QUERY_REQUIRED" || r.Data != nil {
			t.Errorf("%s: want 200 PERSISTED_QUERY_REQUIRED without data, got %d: %s", name, r.Status, r.Body)
		}
	}

	if err := os.WriteFile(path, []byte(`{"operations": [{"id": "abc", "name": "Bad", "body": "{ me { userId } }"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := graph.LoadPersistedQueries(path); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("a manifest with a wrong id: %v", err)
	}
}

func TestIntrospection_OnByDefaultConfigurableOff(t *testing.T) {
	t.Parallel()
	const q = `{ __schema { queryType { name } } }`
	on := apitest.New(t)
	var got struct {
		Schema struct{ QueryType struct{ Name string } } `json:"__schema"`
	}
	on.NewOrg(t, auth.Viewer).Must(t, q, nil, &got)
	if got.Schema.QueryType.Name != "Query" {
		t.Fatalf("introspection on: %+v", got)
	}
	off := apitest.NewWith(t, apitest.Options{NoIntrospection: true})
	c := off.NewOrg(t, auth.Viewer)
	r := c.Do(t, q, nil)
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "introspection") {
		t.Fatalf("introspection off: %d %s", r.Status, r.Body)
	}
	stillServes(t, c)
}

// Each user and each organization has its bucket: over it, 429 with Retry-After and
// RATE_LIMITED; another organization is not affected.
func TestRateLimit_PerUserAndPerOrganization(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{RateLimit: httpapi.RateLimit{
		SubjectRPS: 0.1, SubjectBurst: 3, OrgRPS: 0.1, OrgBurst: 5,
	}})
	org := uuid.New()
	alice, bob := srv.As(t, org, auth.Viewer), srv.As(t, org, auth.Viewer)
	query := map[string]any{"query": `{ me { userId } }`}

	for i := range 3 {
		if r := post(t, srv, alice.Token, query); r.Status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := post(t, srv, alice.Token, query)
	if r.Status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" ||
		!strings.Contains(r.Errors[0].Message, "user") {
		t.Fatalf("over the user's burst: want 429 RATE_LIMITED for the user with Retry-After, got %d %v: %s", r.Status, r.Header, r.Body)
	}
	// Bob has his own bucket, but the organization's (burst 5) holds only 2 more.
	for i := range 2 {
		if r := post(t, srv, bob.Token, query); r.Status != http.StatusOK {
			t.Fatalf("bob's request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r = post(t, srv, bob.Token, query)
	if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Errors[0].Message, "organization") {
		t.Fatalf("over the organization's burst: want 429 for the organization, got %d: %s", r.Status, r.Body)
	}
	if got, _ := strconv.Atoi(r.Header.Get("Retry-After")); got < 1 || got > 10 {
		t.Errorf("Retry-After = %q, want 1–10 s (one token at 0.1 a second)", r.Header.Get("Retry-After"))
	}
	// Another organization is unaffected.
	if r := post(t, srv, srv.NewOrg(t, auth.Viewer).Token, query); r.Status != http.StatusOK {
		t.Fatalf("another organization: %d %s", r.Status, r.Body)
	}
}

func limCount(t testing.TB, srv *apitest.Server, query string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.Owner.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// nestedType is an introspection query depth fields deep: __type, fields, type, then
// ofType down to a name.
func nestedType(depth int) string {
	return `{ __type(name: "Customer") { fields { type { ` + strings.Repeat("ofType { ", depth-4) + "name" +
		strings.Repeat(" }", depth-4) + " } } } }"
}

// MAX_DEPTH counts introspection fields too, against a fixed cap of their own that the
// standard introspection query (GraphiQL's) fits: it is 15 deep, more than the default
// MAX_DEPTH of 10, and runs under any MAX_DEPTH; ofType nested 50 deep does not run.
func TestLimits_DepthCountsIntrospection(t *testing.T) {
	t.Parallel()
	standard, err := os.ReadFile(filepath.Join("testdata", "introspection.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, limits := range []graph.Limits{{}, {MaxDepth: 4, MaxAliases: 3, MaxComplexity: 1000}} {
		srv := apitest.NewWith(t, apitest.Options{Limits: limits})
		c := srv.NewOrg(t, auth.Viewer)
		var got struct {
			Schema struct {
				QueryType struct{ Name string }
				Types     []struct{ Name string }
			} `json:"__schema"`
		}
		c.Must(t, string(standard), nil, &got)
		if got.Schema.QueryType.Name != "Query" || len(got.Schema.Types) < 20 {
			t.Fatalf("MAX_DEPTH %d: the standard introspection query: %+v", limits.MaxDepth, got.Schema.QueryType)
		}
		c.Must(t, nestedType(graph.IntrospectionMaxDepth), nil, nil)
		for _, depth := range []int{graph.IntrospectionMaxDepth + 1, 50} {
			r := post(t, srv, c.Token, map[string]any{"query": nestedType(depth)})
			wantRejected(t, r, "QUERY_TOO_COMPLEX", fmt.Sprintf("more than the limit of %d for introspection", graph.IntrospectionMaxDepth))
		}
		stillServes(t, c)
	}
}

// The status and body of each kind of refusal, in both media types (the GraphQL-over-HTTP
// spec): a request error (parse, validation, variable coercion, a limit, persisted-only) is
// 200 under application/json and 400 under application/graphql-response+json, never with a
// data entry; a request that cannot be read (no query, a body that is not JSON) is 400 in
// both; a mutation over GET is 405 with Allow: POST.
func TestLimits_StatusOfEachRefusalByMediaType(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{Limits: graph.Limits{MaxDepth: 4}})
	c := srv.NewOrg(t, auth.Viewer)
	do := func(method, accept, body string, query url.Values) rawResponse {
		u := srv.URL + "/graphql"
		if query != nil {
			u += "?" + query.Encode()
		}
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.Token)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		out := rawResponse{Status: res.StatusCode, Header: res.Header, Body: raw}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("not JSON: %d %s", res.StatusCode, raw)
		}
		return out
	}
	const (
		jsonMedia = "application/json"
		gqlMedia  = "application/graphql-response+json"
	)
	for _, tc := range []struct {
		name, method, body string
		query              url.Values
		code               string
		jsonStatus         int // accepting application/json (and with no Accept)
		gqlStatus          int // accepting application/graphql-response+json
	}{
		{"parse", "POST", `{"query": "{"}`, nil, "BAD_USER_INPUT", 200, 400},
		{"validation", "POST", `{"query": "{ noSuchField }"}`, nil, "BAD_USER_INPUT", 200, 400},
		{"unused variable", "POST", `{"query": "query($id: ID!) { __typename }", "variables": {"id": null}}`, nil, "BAD_USER_INPUT", 200, 400},
		{"variable coercion", "POST", `{"query": "query($id: ID!) { customer(id: $id) { id } }", "variables": {"id": null}}`, nil, "BAD_USER_INPUT", 200, 400},
		{"too deep", "POST", `{"query": "{ customers { nodes { loyaltyAccount { transactions { nodes { id } } } } } }"}`, nil, "QUERY_TOO_COMPLEX", 200, 400},
		{"GET parse", "GET", "", url.Values{"query": {"{"}}, "BAD_USER_INPUT", 200, 400},
		{"no query", "POST", `{"qeury": "{ __typename }"}`, nil, "BAD_USER_INPUT", 400, 400},
		{"GET no query", "GET", "", url.Values{}, "BAD_USER_INPUT", 400, 400},
		{"not JSON", "POST", `{ "not JSON`, nil, "BAD_USER_INPUT", 400, 400},
		{"query not a string", "POST", `{"query": 1}`, nil, "BAD_USER_INPUT", 400, 400},
		{"GET variables not JSON", "GET", "", url.Values{"query": {"{ __typename }"}, "variables": {"{"}}, "BAD_USER_INPUT", 400, 400},
		{"GET mutation", "GET", "", url.Values{"query": {"mutation { __typename }"}}, "METHOD_NOT_ALLOWED", 405, 405},
	} {
		for accept, want := range map[string]int{"": tc.jsonStatus, jsonMedia: tc.jsonStatus, gqlMedia: tc.gqlStatus} {
			r := do(tc.method, accept, tc.body, tc.query)
			wantMedia := jsonMedia
			if accept == gqlMedia {
				wantMedia = gqlMedia
			}
			if r.Status != want || len(r.Errors) != 1 || r.code() != tc.code || r.Data != nil || r.Header.Get("Content-Type") != wantMedia {
				t.Errorf("%s, Accept %q: want %d %s, one %s error and no data entry; got %d %s: %s",
					tc.name, accept, want, wantMedia, tc.code, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			if tc.name == "GET mutation" && r.Header.Get("Allow") != http.MethodPost {
				t.Errorf("GET mutation: Allow = %q, want POST", r.Header.Get("Allow"))
			}
		}
	}
	// An operation that ran keeps its data entry, null included, with 200 in both media types.
	for _, accept := range []string{jsonMedia, gqlMedia} {
		r := do("POST", accept, `{"query": "{ customer(id: \"00000000-0000-0000-0000-000000000000\") { id } }"}`, nil)
		if r.Status != http.StatusOK || r.Data == nil {
			t.Errorf("Accept %s: an operation that ran: %d %s", accept, r.Status, r.Body)
		}
	}
	stillServes(t, c)
}
