package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// scrape reads srv's /metrics (no token) as series ("name{labels}", as exposed) → value.
func scrape(t *testing.T, srv *apitest.Server) (map[string]float64, string) {
	t.Helper()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", res.StatusCode, body)
	}
	out := map[string]float64{}
	lines := bufio.NewScanner(bytes.NewReader(body))
	for lines.Scan() {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, string(body)
}

// nonZero are the series of the metric name (histograms: its _count) that are not zero.
func nonZero(all map[string]float64, name string) map[string]float64 {
	out := map[string]float64{}
	for s, v := range all {
		if v != 0 && strings.HasPrefix(s, name+"{") {
			out[s] = v
		}
	}
	return out
}

func assertSeries(t *testing.T, all map[string]float64, name string, want map[string]float64) {
	t.Helper()
	got := nonZero(all, name)
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s = %v, want %v", s, got[s], v)
		}
	}
	for s, v := range got {
		if _, ok := want[s]; !ok {
			t.Errorf("unexpected %s = %v", s, v)
		}
	}
}

// postNamed posts a GraphQL request that names its operation (as clients such as Apollo do).
func postNamed(t *testing.T, srv *apitest.Server, token, operationName, query string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "operationName": operationName})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

const createCustomer = `mutation Create($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id loyaltyAccount { tier } addresses { city } } userErrors { code } }
}`

// One scenario through the real handler, then /metrics: every request counted once under
// its operation and outcome, errors under their code, userErrors under mutation and code.
func TestMetrics_CountRequestsByOperationOutcomeAndCode(t *testing.T) {
	t.Parallel()
	srv := apitest.NewWith(t, apitest.Options{MetricsMaxOperations: 4})
	agent := srv.NewOrg(t, auth.Agent)
	viewer := srv.As(t, agent.Org, auth.Viewer)
	input := map[string]any{"input": map[string]any{"firstName": "Ana", "lastName": "Núñez", "email": "ana.metrics@example.com"}}

	agent.Must(t, `query Me { me { userId } }`, nil, nil)
	agent.Must(t, `query Me { me { roles } }`, nil, nil)
	agent.Must(t, `{ me { organizationId } }`, nil, nil)
	var created struct {
		CreateCustomer struct {
			Customer struct{ ID string }
		}
	}
	agent.Must(t, createCustomer, input, &created)
	// The Customer 360 read: one pipeline (set_config, then the customer's statement).
	agent.Must(t, `query ($id: UUID!) { customer(id: $id) { fullName loyaltyAccount { tier } } }`,
		map[string]any{"id": created.CreateCustomer.Customer.ID}, nil)
	if res := agent.Do(t, createCustomer, input); !strings.Contains(string(res.Body), `"TAKEN"`) {
		t.Fatalf("the same email again: %s", res.Body)
	}
	if res := viewer.Do(t, createCustomer, input); res.ErrorCode(t) != "FORBIDDEN" {
		t.Fatalf("a viewer creating: %s", res.Body)
	}
	postNamed(t, srv, agent.Token, "Bad", `query Bad { me { nope } }`)                                     // invalid: BAD_USER_INPUT
	if res := srv.Post(t, agent.Token, `query Broken { me {`, nil); res.ErrorCode(t) != "BAD_USER_INPUT" { // unparsable
		t.Fatalf("unparsable: %s", res.Body)
	}
	agent.Must(t, `query Third { me { userId } }`, nil, nil) // the 4th distinct name: the bound
	agent.Must(t, `query Fifth { me { userId } }`, nil, nil) // over it: "other"
	if res := srv.Post(t, "", `query Me { me { userId } }`, nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.Status)
	}

	m, body := scrape(t, srv)
	assertSeries(t, m, "customer_service_graphql_requests_total", map[string]float64{
		`customer_service_graphql_requests_total{operation="Me",outcome="ok"}`:             2,
		`customer_service_graphql_requests_total{operation="anonymous",outcome="ok"}`:      2,
		`customer_service_graphql_requests_total{operation="Create",outcome="ok"}`:         1,
		`customer_service_graphql_requests_total{operation="Create",outcome="user_error"}`: 1,
		`customer_service_graphql_requests_total{operation="Create",outcome="error"}`:      1,
		`customer_service_graphql_requests_total{operation="Bad",outcome="error"}`:         1,
		`customer_service_graphql_requests_total{operation="unknown",outcome="error"}`:     2, // unparsable, no token
		`customer_service_graphql_requests_total{operation="Third",outcome="ok"}`:          1,
		`customer_service_graphql_requests_total{operation="other",outcome="ok"}`:          1,
	})
	assertSeries(t, m, "customer_service_graphql_request_duration_seconds_count", map[string]float64{
		`customer_service_graphql_request_duration_seconds_count{operation="Me",outcome="ok"}`:             2,
		`customer_service_graphql_request_duration_seconds_count{operation="anonymous",outcome="ok"}`:      2,
		`customer_service_graphql_request_duration_seconds_count{operation="Create",outcome="ok"}`:         1,
		`customer_service_graphql_request_duration_seconds_count{operation="Create",outcome="user_error"}`: 1,
		`customer_service_graphql_request_duration_seconds_count{operation="Create",outcome="error"}`:      1,
		`customer_service_graphql_request_duration_seconds_count{operation="Bad",outcome="error"}`:         1,
		`customer_service_graphql_request_duration_seconds_count{operation="unknown",outcome="error"}`:     2,
		`customer_service_graphql_request_duration_seconds_count{operation="Third",outcome="ok"}`:          1,
		`customer_service_graphql_request_duration_seconds_count{operation="other",outcome="ok"}`:          1,
	})
	assertSeries(t, m, "customer_service_graphql_errors_total", map[string]float64{
		`customer_service_graphql_errors_total{code="FORBIDDEN"}`:       1,
		`customer_service_graphql_errors_total{code="BAD_USER_INPUT"}`:  2,
		`customer_service_graphql_errors_total{code="UNAUTHENTICATED"}`: 1,
	})
	assertSeries(t, m, "customer_service_graphql_user_errors_total", map[string]float64{
		`customer_service_graphql_user_errors_total{code="TAKEN",mutation="createCustomer"}`: 1,
	})

	// Every statement the pool sent is counted, and timed, once.
	var statements, timed float64
	for s, v := range m {
		if strings.HasPrefix(s, "customer_service_sql_statements_total{") {
			statements += v
		}
		if strings.HasPrefix(s, "customer_service_sql_statement_duration_seconds_count{") {
			timed += v
		}
	}
	if sent := float64(srv.Statements.Count()); statements != sent || timed != sent {
		t.Errorf("statements counted %v, timed %v; the pool sent %v", statements, timed, sent)
	}
	if got, want := m["customer_service_sql_round_trips_total"], float64(srv.Statements.RoundTrips()); got != want {
		t.Errorf("round trips counted %v; the pool made %v", got, want)
	}
	// The pool's check for Citus when it opens: a SELECT. The created customer: BEGIN,
	// set_config, SELECT and INSERT organization (its first customer registers it: looked up,
	// missing, inserted), INSERT customer, INSERT audit_log, SELECT pg_notify (its event, for
	// the subscriptions), COMMIT; its payload's customer, rendered: set_config and SELECT,
	// pipelined; the 360 read: the same; the taken email: BEGIN, set_config, INSERT (unique
	// violation), ROLLBACK — the organization is registered by this server already.
	assertSeries(t, m, "customer_service_sql_statements_total", map[string]float64{
		`customer_service_sql_statements_total{outcome="ok",statement="BEGIN"}`:     2,
		`customer_service_sql_statements_total{outcome="ok",statement="SELECT"}`:    9,
		`customer_service_sql_statements_total{outcome="ok",statement="INSERT"}`:    3,
		`customer_service_sql_statements_total{outcome="error",statement="INSERT"}`: 1,
		`customer_service_sql_statements_total{outcome="ok",statement="COMMIT"}`:    1,
		`customer_service_sql_statements_total{outcome="ok",statement="ROLLBACK"}`:  1,
	})
	if got := m[`customer_service_go_sql_max_open_connections{db_name="app"}`]; got != 20 {
		t.Errorf("pool size = %v, want 20", got)
	}

	// /metrics holds nothing of the organization, its users or its customers.
	for _, secret := range []string{agent.Org.String(), agent.User.String(), viewer.User.String(),
		created.CreateCustomer.Customer.ID, "ana.metrics", "Núñez", "N\\u00fa"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
}

// /metrics also serves what other packages register on prometheus.DefaultRegisterer (the
// jobs' metrics), and the Go runtime's.
func TestMetrics_ServeTheDefaultRegistererToo(t *testing.T) {
	t.Parallel()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "customer_service_test_default_registerer_total", Help: "test"})
	prometheus.MustRegister(c)
	t.Cleanup(func() { prometheus.Unregister(c) })
	c.Add(3)
	m, _ := scrape(t, apitest.New(t))
	if got := m["customer_service_test_default_registerer_total"]; got != 3 {
		t.Fatalf("default registerer's counter = %v, want 3", got)
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Fatal("no Go runtime metrics")
	}
}
