// Package testdb starts the throwaway PostgreSQL the tests run against: one cluster per
// test binary, from the binaries installed on the machine, in a temporary directory,
// migrated, with the non-owner login role the server uses. Tests isolate themselves by
// organization id, so they can run in parallel on one database.
package testdb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"customerservice/internal/devdb"
	"customerservice/internal/pgcluster"
)

var current *devdb.DB

// settings are the test cluster's: speed over durability (a crash loses a throwaway
// cluster), and connections for the parallel tests.
var settings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"}

// Main runs the package's tests against a fresh cluster: call it from TestMain.
func Main(m *testing.M) int {
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
	d, err := devdb.Start(ctx, dir+"/pg", port, "customer_service_test", settings...)
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
func Get(t testing.TB) *devdb.DB {
	t.Helper()
	if current == nil {
		t.Fatal("testdb: no database; call testdb.Main from TestMain")
	}
	return current
}
