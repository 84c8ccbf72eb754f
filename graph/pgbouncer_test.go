package graph_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/pgbouncer"
	"customerservice/internal/testkit/testdb"
)

// Behind PgBouncer in transaction mode (README), configured as documented: the server with
// DB_PREPARED_STATEMENTS=false and a statement timeout, PgBouncer with
// ignore_startup_parameters = statement_timeout and only 3 server connections for the 20 of
// the server's pool. The isolation and concurrency scenarios run through it at once, so
// organizations really share server connections: §7 holds (nobody sees another's data) and
// so do the balance and credit invariants under concurrent redemptions and charges.
func TestPgBouncer_TransactionModeKeepsIsolationAndInvariants(t *testing.T) {
	t.Parallel()
	const role, serverConns = "customer_service_bouncer", 3
	srv := apitest.NewWith(t, apitest.Options{
		AppURL: pgbouncer.Start(t, testdb.LoginRole(t, role), serverConns),
		DB:     db.Options{MaxConns: 20, StatementTimeout: 10 * time.Second, NoPreparedStatements: true},
	})

	// How many connections each side has open, at most, while the scenarios run.
	var mostServers, mostClients int
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var n int
			// PgBouncer's server connections; on Citus not the nodes' own connections as the
			// role (application_name citus_internal …), which PgBouncer does not hold.
			if err := srv.Owner.QueryRowContext(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND application_name NOT LIKE 'citus_internal%'", role).Scan(&n); err == nil {
				mostServers = max(mostServers, n)
			}
			mostClients = max(mostClients, srv.App.Stats().OpenConnections)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var stopOnce sync.Once
	stopSampling := func() { stopOnce.Do(func() { close(stop); <-sampled }) }
	t.Cleanup(stopSampling)

	t.Run("scenarios", func(t *testing.T) {
		scenarios := map[string]func(*testing.T, *apitest.Server){
			"another organization sees and changes nothing":     anotherOrganizationSeesAndChangesNothing,
			"interleaved organizations stay apart":              interleavedOrganizationsStayApart,
			"every operation is isolated":                       everyOperationIsIsolated,
			"fifty concurrent redemptions never overdraw":       fiftyConcurrentRedemptionsNeverOverdraw,
			"concurrent purchases and redemptions keep books":   concurrentPurchasesAndRedemptionsKeepTheBooks,
			"twenty concurrent charges never exceed the limit":  twentyConcurrentChargesNeverExceedTheLimit,
			"concurrent charges, payments, cancellations books": concurrentChargesPaymentsAndCancellationsKeepTheBooks,
		}
		for name, scenario := range scenarios {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				scenario(t, srv)
			})
		}
	})
	stopSampling()
	if mostServers > serverConns || mostClients <= serverConns {
		t.Fatalf("at most %d client connections over %d server connections: want more than %d over at most %d",
			mostClients, mostServers, serverConns, serverConns)
	}
	t.Logf("at most %d client connections over %d server connections", mostClients, mostServers)
}
