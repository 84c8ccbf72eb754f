// Package apitest drives the real HTTP handler of the service against the test database:
// tests speak GraphQL over HTTP with real tokens, as clients do.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/testkit/proctest"
	"customerservice/internal/testkit/statements"
	"customerservice/internal/testkit/testdb"
	"customerservice/metrics"
	"customerservice/migrations"
	"customerservice/subscriptions"
	"customerservice/tracing"
)

// Secret signs the tests' tokens.
const Secret = "test-secret-at-least-32-bytes-long!!"

// Server is the service under test.
type Server struct {
	URL     string
	App     *db.Pool // the server's pool (non-owner role, under RLS): the primary
	Replica *db.Pool // the server's read replica pool (Options.ReplicaURL), else nil
	Owner   *db.Pool // the owner's pool, for inspecting what the API cannot see
	// Statements counts (and watches) every statement the server's primary pool sends,
	// ReplicaStatements those of its replica pool (nil without one).
	Statements, ReplicaStatements *statements.Counter
	Metrics                       *metrics.Metrics // served at URL/metrics, on a registry of this server's own
	Resolver                      *graph.Resolver  // its Hub is the server's live subscriptions
	log                           *proctest.Output
}

// Options change the server under test; the zero value is the production defaults, with
// introspection on and no rate limit.
type Options struct {
	Limits          graph.Limits
	NoIntrospection bool
	RateLimit       httpapi.RateLimit
	RequestTimeout  time.Duration
	// Resolver replaces the real one (a test may give one with missing services, to provoke
	// a resolver panic through the real handler).
	Resolver *graph.Resolver
	// MetricsMaxOperations bounds the operation names counted (0: the default).
	MetricsMaxOperations int
	// Tracer traces the server's requests and its pool's SQL (nil: tracing off).
	Tracer *tracing.Tracer
	// AppURL is the server's connection instead of the test database's (e.g. through
	// PgBouncer); ReplicaURL, when set, is its read replica (DATABASE_REPLICA_URL).
	AppURL, ReplicaURL string
	// DB tunes the server's pools; MaxConns 0 is 20.
	DB db.Options
	// Subscriptions bounds the live subscriptions (zero: the defaults).
	Subscriptions subscriptions.Config
}

// New starts the service on the test database, with its own pool and log.
func New(t testing.TB) *Server { return NewWith(t, Options{}) }

// NewWith starts the service with opts.
func NewWith(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	tdb := testdb.Get(t)
	m := metrics.New(metrics.Options{MaxOperations: opts.MetricsMaxOperations})
	tracers := []pgx.QueryTracer{m.SQL()}
	if opts.Tracer != nil {
		tracers = append(tracers, opts.Tracer.SQL())
	}
	appURL, poolOpts := tdb.AppURL, opts.DB
	if opts.AppURL != "" {
		appURL = opts.AppURL
	}
	if poolOpts.MaxConns == 0 {
		poolOpts.MaxConns = 20
	}
	poolOpts.Tracers = append(poolOpts.Tracers, tracers...)
	// counted is poolOpts with a count of the pool's statements, and the check that each
	// names its organization.
	tenancy := &statements.Tenancy{}
	counted := func(sent *statements.Counter) db.Options {
		o := poolOpts
		o.Tracers = append([]pgx.QueryTracer{sent, tenancy}, poolOpts.Tracers...)
		return o
	}
	// Every statement the server sends on a tenant table names its organization in SQL
	// (docs/decisions-tenancy-keys.md): row-level security alone isolates, but does not route
	// a statement to its organization's shard. Checked for every test's requests.
	t.Cleanup(func() {
		for _, m := range tenancy.Missing() {
			t.Errorf("a statement without its organization: %s", m)
		}
	})
	sent := &statements.Counter{}
	app, err := db.Open(ctx, appURL, counted(sent))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ObservePool("app", app.DB.DB); err != nil {
		t.Fatal(err)
	}
	var replica *db.Pool
	var replicaSent *statements.Counter
	if opts.ReplicaURL != "" {
		replicaSent = &statements.Counter{}
		if replica, err = db.Open(ctx, opts.ReplicaURL, counted(replicaSent)); err != nil {
			t.Fatal(err)
		}
	}
	handle := db.NewHandle(app, replica)
	owner, err := db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	logs := &proctest.Output{}
	resolver := opts.Resolver
	if resolver == nil {
		resolver = graph.NewResolver(handle, graph.ResolverOptions{
			Subscriptions: opts.Subscriptions, SubscriptionObserver: m.Subscriptions(),
		})
	}
	if resolver.Hub != nil && resolver.Hub.DB() != nil {
		if err := m.ObservePool("subscriptions", resolver.Hub.DB()); err != nil {
			t.Fatal(err)
		}
	}
	limits := opts.Limits
	limits.Introspection = !opts.NoIntrospection
	h := httpapi.New(httpapi.Deps{
		Log:            zerolog.New(logs),
		Verifier:       verifier,
		Resolver:       resolver,
		Limits:         limits,
		RateLimit:      opts.RateLimit,
		RequestTimeout: opts.RequestTimeout,
		Ready:          func(ctx context.Context) error { return handle.EachPool(ctx, migrations.Current) },
		Metrics:        m,
		Tracer:         opts.Tracer,
	})
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("APITEST_LOGS") == "1" {
			t.Logf("server log:\n%s", logs.String())
		}
		if resolver.Hub != nil {
			resolver.Hub.Close() // its listening connection, before the pool
		}
		hs.CloseClientConnections()
		hs.Close()
		handle.Close()
		owner.Close()
	})
	return &Server{URL: hs.URL, App: app, Replica: replica, Owner: owner,
		Statements: sent, ReplicaStatements: replicaSent, Metrics: m, Resolver: resolver, log: logs}
}

// Remote is a server under test that the test started elsewhere (a built binary) at url,
// verifying tokens with JWT_SECRET=Secret: Post, As, DialWS and SSE work on it; it has no
// pools, statement counts or resolver.
func Remote(url string) *Server { return &Server{URL: url, log: &proctest.Output{}} }

// Metric is the value of one series of the server's /metrics (name with its labels, as
// exposed), failing t when it is not there.
func (s *Server) Metric(t testing.TB, series string) float64 {
	t.Helper()
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s", series)
	return 0
}

// Logs is everything the server has logged so far (JSON lines).
func (s *Server) Logs() string { return s.log.String() }

// Client calls the API as one user of one organization.
type Client struct {
	srv   *Server
	Token string
	Org   uuid.UUID
	User  uuid.UUID
}

// As returns a client of organization org with the roles.
func (s *Server) As(t testing.TB, org uuid.UUID, roles ...auth.Role) *Client {
	t.Helper()
	user := uuid.New()
	token, err := auth.Mint(Secret, auth.Principal{UserID: user, OrganizationID: org, Roles: roles}, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return &Client{srv: s, Token: token, Org: org, User: user}
}

// NewOrg returns a client of a fresh organization with the roles: tests isolate by org.
func (s *Server) NewOrg(t testing.TB, roles ...auth.Role) *Client {
	return s.As(t, uuid.New(), roles...)
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Body   []byte          `json:"-"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string { c, _ := e.Extensions["code"].(string); return c }

// Do posts a GraphQL request.
func (c *Client) Do(t testing.TB, query string, vars map[string]any) Response {
	t.Helper()
	return c.srv.Post(t, c.Token, query, vars)
}

// Post posts a GraphQL request with the bearer token (none when empty).
func (s *Server) Post(t testing.TB, token, query string, vars map[string]any) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Body: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return out
}

// Must posts a request that must succeed without errors and decodes its data into out.
func (c *Client) Must(t testing.TB, query string, vars map[string]any, out any) {
	t.Helper()
	res := c.Do(t, query, vars)
	if res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("request failed (%d): %s", res.Status, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode %s: %v", res.Data, err)
		}
	}
}

// ErrorCode returns the code of the response's only error, failing when there is not exactly one.
func (r Response) ErrorCode(t testing.TB) string {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error, got %d: %s", len(r.Errors), r.Body)
	}
	return r.Errors[0].Code()
}
