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
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/proctest"
	"customerservice/internal/testdb"
	"customerservice/metrics"
	"customerservice/migrations"
	"customerservice/tracing"
)

// Secret signs the tests' tokens.
const Secret = "test-secret-at-least-32-bytes-long!!"

// Server is the service under test.
type Server struct {
	URL        string
	App        *bun.DB // the server's pool (non-owner role, under RLS): the primary
	Replica    *bun.DB // the server's read replica pool (Options.ReplicaURL), else nil
	Owner      *bun.DB // the owner's pool, for inspecting what the API cannot see
	Statements *db.StatementCounter
	Metrics    *metrics.Metrics // served at URL/metrics, on a registry of this server's own
	log        *proctest.Output
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
	// NoRenderInSQL answers every field through the resolvers (graph.Resolver.RenderInSQL
	// off), to compare with the answers PostgreSQL renders.
	NoRenderInSQL bool
	// MetricsMaxOperations bounds the operation names counted (0: the default).
	MetricsMaxOperations int
	// Tracer traces the server's requests and its pool's SQL (nil: tracing off).
	Tracer *tracing.Tracer
	// AppURL is the server's connection instead of the test database's (e.g. through
	// PgBouncer); ReplicaURL, when set, is its read replica (DATABASE_REPLICA_URL).
	AppURL, ReplicaURL string
	// DB tunes the server's pools; MaxConns 0 is 20.
	DB db.Options
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
	app, err := db.Open(ctx, appURL, poolOpts)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ObservePool("app", app.DB); err != nil {
		t.Fatal(err)
	}
	var replica *bun.DB
	if opts.ReplicaURL != "" {
		if replica, err = db.Open(ctx, opts.ReplicaURL, poolOpts); err != nil {
			t.Fatal(err)
		}
	}
	handle := db.NewHandle(app, replica)
	owner, err := db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	counter := &db.StatementCounter{}
	// In place, not WithQueryHook: that returns a clone, which the db package would not know
	// as the pool Open returned (db.infoOf: prepared statements, sent statements).
	app.AddQueryHook(counter) //lint:ignore SA1019 WithQueryHook clones the pool; see above
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	logs := &proctest.Output{}
	resolver := opts.Resolver
	if resolver == nil {
		resolver = graph.NewResolver(handle)
		resolver.RenderInSQL = !opts.NoRenderInSQL
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
		hs.Close()
		handle.Close()
		owner.Close()
	})
	return &Server{URL: hs.URL, App: app, Replica: replica, Owner: owner, Statements: counter, Metrics: m, log: logs}
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
