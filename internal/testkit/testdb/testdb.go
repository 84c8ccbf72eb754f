// Package testdb starts the throwaway PostgreSQL the tests run against: one cluster per
// test binary, from the binaries installed on the machine, in a temporary directory,
// migrated, with the non-owner login role the server uses. Tests isolate themselves by
// organization id, so they can run in parallel on one database.
//
// With CITUS_TEST=1 the database is instead the coordinator of a one-machine Citus cluster
// (internal/cituscluster: a coordinator and two workers) with the service's schema
// distributed as `customer-service citus distribute` does (package citus), so that the same
// tests — the API suite of graph/ above all — run on Citus unchanged. Without it nothing
// of Citus is needed or started.
package testdb

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"customerservice/citus"
	"customerservice/db"
	"customerservice/internal/cituscluster"
	"customerservice/internal/embedded"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/statements"
)

var current *embedded.DB

// settings are the test cluster's: speed over durability (a crash loses a throwaway
// cluster), and connections for the parallel tests.
var settings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"}

// OnCitus reports whether this test binary's database is a Citus coordinator (CITUS_TEST=1;
// Main fails rather than fall back to plain PostgreSQL, so it holds from package
// initialization on): for the few figures that legitimately differ there (a test says why).
func OnCitus() bool { return cituscluster.Enabled() }

// Main runs the package's tests against a fresh cluster: call it from TestMain.
func Main(m *testing.M) int {
	if cituscluster.Enabled() {
		return mainCitus(m)
	}
	dir, err := os.MkdirTemp("", "customer-service-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach its data directory
	port, err := pgcluster.FreePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	d, err := embedded.Provision(ctx, dir+"/pg", port, "customer_service_test", settings...)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb:", err)
		return 1
	}
	defer d.Cluster.Stop() //nolint:errcheck
	current = d
	return m.Run()
}

// Get returns the database of this test binary.
func Get(t testing.TB) *embedded.DB {
	t.Helper()
	if current == nil {
		t.Fatal("testdb: no database; call testdb.Main from TestMain")
	}
	return current
}

// LoginRole creates (or resets) a login role like the server's — a member of
// customer_service_app and nothing more — and returns its URL of the test database: for a
// test that must tell its own server connections from the other tests' (pg_stat_activity).
func LoginRole(t testing.TB, name string) string {
	t.Helper()
	return LoginRoleIn(t, Get(t), name)
}

// LoginRoleIn is LoginRole in the database d (the coordinator of a Citus test cluster, say).
func LoginRoleIn(t testing.TB, d *embedded.DB, name string) string {
	t.Helper()
	ctx := context.Background()
	owner, err := db.Open(ctx, d.OwnerURL, db.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	password := pgcluster.RandomSecret(16)
	if err := db.EnsureLoginRole(ctx, owner, name, password); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", name, password, d.Cluster.Port, d.Name)
}

// Open opens a pool of 4 connections to url (the owner's or the server's role), closed when
// t ends.
func Open(t testing.TB, url string) *db.Pool {
	t.Helper()
	return open(t, url, db.Options{MaxConns: 4})
}

// OpenCounting is Open with a count of the statements the pool sends.
func OpenCounting(t testing.TB, url string) (*db.Pool, *statements.Counter) {
	t.Helper()
	sent := &statements.Counter{}
	return open(t, url, db.Options{MaxConns: 4, Tracers: []pgx.QueryTracer{sent}}), sent
}

func open(t testing.TB, url string, opts db.Options) *db.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// mainCitus is Main on a fresh Citus cluster with the schema distributed.
func mainCitus(m *testing.M) int {
	if !cituscluster.Installed() {
		fmt.Fprintln(os.Stderr, "testdb: CITUS_TEST=1 but Citus is not installed for the PostgreSQL the tests use: run scripts/citus")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, stop, err := cituscluster.StartTemp(ctx, "customer_service_test")
	defer stop()
	if err == nil {
		err = distribute(ctx, c.OwnerURL)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testdb (Citus):", err)
		return 1
	}
	current, settings = c.DB, cituscluster.Settings
	return m.Run()
}

// Redistribute runs the distribution again on the test database, as an operator runs
// `customer-service citus distribute` after moving shards: Citus does not copy column-level
// grants to a moved shard, and the second run re-asserts them (README, Scaling out).
func Redistribute(t testing.TB) {
	t.Helper()
	if err := distribute(context.Background(), Get(t).OwnerURL); err != nil {
		t.Fatalf("citus distribute after the move: %v", err)
	}
}

// distribute distributes the migrated schema as `customer-service citus distribute` does.
func distribute(ctx context.Context, ownerURL string) error {
	owner, err := db.Open(ctx, ownerURL, db.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	defer owner.Close()
	conn, err := owner.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return citus.Distribute(ctx, conn, "public", io.Discard)
}
