package importer

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"customerservice/db"
	"customerservice/internal/testkit/statements"
	"customerservice/internal/testkit/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// env is a test's database: the server's pool (under row-level security, every statement
// checked for its organization) and the owner's, for fixtures and for reading back.
type env struct {
	t     testing.TB
	h     *db.Handle
	owner *db.Pool
	actor uuid.UUID
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	tdb := testdb.Get(t)
	tenancy := &statements.Tenancy{}
	app, err := db.Open(ctx, tdb.AppURL, db.Options{MaxConns: 4, Tracers: []pgx.QueryTracer{tenancy}})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.Close()
		owner.Close()
		for _, m := range tenancy.Missing() {
			t.Errorf("a statement without its organization: %s", m)
		}
	})
	return &env{t: t, h: db.NewHandle(app, nil), owner: owner, actor: uuid.New()}
}

// result is what an import reported.
type result struct {
	sum      Summary
	rejected []string
	progress int
	err      error
}

func (e *env) importCustomers(org uuid.UUID, csv io.Reader, batch int) result {
	var r result
	r.sum, r.err = Customers(context.Background(), e.h, org, csv, e.opts(&r, batch))
	return r
}

func (e *env) importPurchases(org uuid.UUID, csv io.Reader, batch int) result {
	var r result
	r.sum, r.err = Purchases(context.Background(), e.h, org, csv, e.opts(&r, batch))
	return r
}

func (e *env) opts(r *result, batch int) Options {
	return Options{
		Actor: e.actor, BatchSize: batch,
		Rejected: func(rej Rejection) { r.rejected = append(r.rejected, rej.String()) },
		Progress: func() { r.progress++ },
	}
}

func (e *env) file(path string) io.Reader {
	e.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

// scan runs query as the owner into dest.
func (e *env) scan(dest any, query string, args ...any) {
	e.t.Helper()
	if err := e.owner.NewRaw(query, args...).Scan(context.Background(), dest); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	e.scan(&n, query, args...)
	return n
}
