// Package citusdb starts a throwaway one-machine Citus cluster for the tests that need one:
// a coordinator and two workers, each a PostgreSQL cluster of its own (internal/pgcluster)
// in a temporary directory on a free port, with citus preloaded, the extension created on
// every node, the workers added to the coordinator, then the coordinator migrated and given
// the server's login role exactly as testdb does. Its API mirrors testdb's, so a suite that
// takes testdb's database can be pointed at this one.
//
// The tests that use it run only when asked: CITUS_TEST=1 (and Citus installed for the
// PostgreSQL the tests use: scripts/citus finds or builds it). Otherwise Main runs the
// package's tests without a cluster and Get skips each test that asks for one, so `go test
// ./...` neither fails nor slows down on a machine without Citus.
package citusdb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"customerservice/internal/cituscluster"
	"customerservice/internal/testkit/testdb"
)

// Cluster is the running Citus cluster: the coordinator's database (migrated, with the
// login role) and the workers.
type Cluster = cituscluster.Cluster

var (
	current *Cluster
	skipped string // why there is no cluster (tests are skipped)
)

// Enabled reports whether the Citus tests are asked for (CITUS_TEST=1); Installed whether
// Citus is installed for the PostgreSQL the tests use (the check scripts/citus makes).
var (
	Enabled   = cituscluster.Enabled
	Installed = cituscluster.Installed
)

// Main runs the package's tests, with a fresh Citus cluster when CITUS_TEST=1: call it from
// TestMain. With CITUS_TEST=1 and no Citus installed it fails, saying what to run.
func Main(m *testing.M) int {
	if !Enabled() {
		skipped = "a Citus test: set CITUS_TEST=1 to run it (Citus installed: scripts/citus)"
		return m.Run()
	}
	if !Installed() {
		fmt.Fprintln(os.Stderr, "citusdb: CITUS_TEST=1 but Citus is not installed for the PostgreSQL the tests use: run scripts/citus")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c, stop, err := cituscluster.StartTemp(ctx, "customer_service_test")
	cancel()
	defer stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "citusdb:", err)
		return 1
	}
	current = c
	return m.Run()
}

// Get returns the Citus cluster of this test binary; without one (CITUS_TEST unset) it
// skips the test.
func Get(t testing.TB) *Cluster {
	t.Helper()
	if current == nil {
		if skipped != "" {
			t.Skip(skipped)
		}
		t.Fatal("citusdb: no cluster; call citusdb.Main from TestMain")
	}
	return current
}

// LoginRole creates (or resets) a login role like the server's on the coordinator (Citus
// propagates it to the workers) and returns its URL of the coordinator's database.
func LoginRole(t testing.TB, name string) string {
	t.Helper()
	return testdb.LoginRoleIn(t, Get(t).DB, name)
}

// Open and OpenCounting open pools as testdb's do.
var (
	Open         = testdb.Open
	OpenCounting = testdb.OpenCounting
)
