package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/metrics"
)

// BenchmarkReadCPU is the Go CPU of one read, in process: Q1, Q2 and Q3 of bench/queries
// (ours-q1.graphql …) through the handler `serve` builds — httpapi.New with
// the request id, access log at warn (bench/run.sh's LOG_LEVEL), the deadline, the metrics,
// authentication, the limits and the input check — called directly (no socket, no HTTP
// client), on a pool opened as `serve` opens it (prepared statements, the metrics' SQL
// tracer; no test tracer), against the test PostgreSQL, with the garbage collector's target of
// `serve` (GOGC 400). Beside ns/op (wall time, the database's included), cpu-µs/op is this
// process's user+system CPU per request (getrusage): PostgreSQL runs in processes of its
// own, so that is our server's CPU alone. Its sub-benchmarks "sql" send the request's very
// statement (captured from the handler's own pipeline, same text, same arguments) through
// db.ReadInOrg alone: the difference is what GraphQL, HTTP handling and authentication cost
// on top of the round trip (BENCHMARKS.md, "Where a read's time went").
//
//	go test ./graph/ -run '^$' -bench ReadCPU -benchtime 3000x -count 5
//	go test ./graph/ -run '^$' -bench 'ReadCPU/Q3/http' -benchtime 5000x -cpuprofile cpu.out
func BenchmarkReadCPU(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	srv := apitest.New(b) // the test database, its owner pool and tokens
	c := srv.NewOrg(b, auth.Viewer)
	full360(b, srv, c.Org, 200)
	ctx := context.Background()
	// 10 transactions a loyalty account and 3 charges a credit account, the pages Q1 reads.
	if _, err := srv.Owner.NewRaw(`INSERT INTO loyalty_transactions (transaction_id, organization_id, loyalty_account_id,
		transaction_type, points, balance_after, reference_type, reference_id, points_remaining, expires_at, created_at)
		SELECT gen_random_uuid(), la.organization_id, la.loyalty_account_id, 'earn', 10, 10 * g, 'bench', 'r' || g,
			10, now() + interval '300 days', now() - g * interval '1 day'
		FROM loyalty_accounts la, generate_series(1, 10) g WHERE la.organization_id = ?`, c.Org).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Owner.NewRaw(`INSERT INTO credit_usage (usage_id, organization_id, credit_account_id, order_id, amount,
		status, due_date)
		SELECT gen_random_uuid(), ca.organization_id, ca.credit_account_id, 'o-' || ca.credit_account_id || '-' || g, 25.50,
			'pending', current_date + 30
		FROM credit_accounts ca, generate_series(1, 3) g WHERE ca.organization_id = ?`, c.Org).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	var ids []uuid.UUID
	if err := srv.Owner.NewRaw("SELECT customer_id FROM customers WHERE organization_id = ? ORDER BY 1", c.Org).Scan(ctx, &ids); err != nil || len(ids) != 200 {
		b.Fatalf("%d customers, %v", len(ids), err)
	}

	m := metrics.New(metrics.Options{})
	capture := &lastStatement{}
	pool, err := db.Open(ctx, testdb.Get(b).AppURL, db.Options{MaxConns: 20, StatementTimeout: 10 * time.Second,
		Tracers: []pgx.QueryTracer{m.SQL(), capture}})
	if err != nil {
		b.Fatal(err)
	}
	handle := db.NewHandle(pool, nil)
	b.Cleanup(func() { _ = handle.Close() })
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: apitest.Secret})
	if err != nil {
		b.Fatal(err)
	}
	resolver := graph.NewResolver(handle, graph.ResolverOptions{})
	b.Cleanup(resolver.Hub.Close)
	h := httpapi.New(httpapi.Deps{
		Log:      zerolog.New(io.Discard).Level(zerolog.WarnLevel),
		Verifier: verifier, Resolver: resolver, RequestTimeout: 10 * time.Second,
		Ready: func(context.Context) error { return nil }, Metrics: m,
	})

	for _, q := range []string{"q1", "q2", "q3"} {
		doc, err := os.ReadFile("../bench/queries/ours-" + q + ".graphql")
		if err != nil {
			b.Fatal(err)
		}
		bodies := make([][]byte, len(ids))
		for i, id := range ids {
			bodies[i], _ = json.Marshal(map[string]any{"query": string(doc), "variables": map[string]any{"id": id}})
		}
		request := func(i int) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+c.Token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		rec := request(0)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) || !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"data":{"customer`)) {
			b.Fatalf("%s: HTTP %d: %s", q, rec.Code, rec.Body)
		}
		stmt := capture.get()
		if stmt.SQL == "" {
			b.Fatalf("%s: no 360 statement captured", q)
		}
		name := strings.ToUpper(q)
		b.Run(name+"/http", func(b *testing.B) {
			n := 0
			cpu := cpuTime()
			for b.Loop() {
				if rec := request(n); rec.Code != http.StatusOK {
					b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/op")
		})
		// The same statement, the same customer each time (its id is one of its arguments).
		b.Run(name+"/sql", func(b *testing.B) {
			n := 0
			cpu := cpuTime()
			for b.Loop() {
				rows := 0
				args := append([]any(nil), stmt.Args...)
				if q != "q2" { // Q2's page has no customer id
					args[len(args)-1] = ids[n%len(ids)].String()
				}
				s := db.Stmt{SQL: stmt.SQL, Args: args, Prepare: true, Row: func([][]byte) error { rows++; return nil }}
				if err := db.ReadInOrg(ctx, handle, c.Org, s); err != nil || rows == 0 {
					b.Fatalf("%d rows, %v", rows, err)
				}
				n++
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lastStatement keeps the last pipelined statement that renders JSON: the 360 statement of
// the last request, its text and arguments (not the settings, nor Citus's BEGIN and COMMIT).
type lastStatement struct {
	mu sync.Mutex
	s  pgx.TraceBatchQueryData
}

func (l *lastStatement) get() pgx.TraceBatchQueryData {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

func (*lastStatement) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (*lastStatement) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (*lastStatement) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (l *lastStatement) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if !strings.Contains(d.SQL, "json_build_object") {
		return
	}
	l.mu.Lock()
	l.s = d
	l.mu.Unlock()
}
func (*lastStatement) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
