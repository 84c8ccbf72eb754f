package testdb

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/pgcluster"
)

// Standby is a hot standby of the test binary's cluster: a real streaming replica, as
// DATABASE_REPLICA_URL names in production.
type Standby struct {
	Cluster *pgcluster.Cluster
	AppURL  string   // the server's login role (replicated from the primary), on the standby
	Owner   *db.Pool // the superuser on the standby: pause and resume replay, inspect
	primary *db.Pool // the superuser on the primary
}

// NewStandby starts a hot standby of this binary's cluster on a free loopback port; it is
// stopped and removed when t ends, failed or not.
func NewStandby(t testing.TB) *Standby {
	t.Helper()
	tdb := Get(t)
	dir, err := os.MkdirTemp("", "customer-service-standby-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach its data directory
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c, err := tdb.Cluster.Standby(filepath.Join(dir, "pg"), port)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// hot_standby_feedback: the primary's vacuum then never cancels a query running here.
	if err := c.Start(ctx, slices.Concat(settings, []string{"hot_standby=on", "hot_standby_feedback=on"})...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.Running() {
			if err := c.Stop(); err != nil {
				t.Error(err)
			}
		}
	})
	s := &Standby{Cluster: c, AppURL: withPort(t, tdb.AppURL, port)}
	s.Owner = openPool(t, c.SuperuserURL(tdb.Name))
	s.primary = openPool(t, tdb.OwnerURL)
	var standby bool
	if err := s.Owner.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil || !standby {
		t.Fatalf("the standby on port %d is not in recovery (err %v): not a replica", port, err)
	}
	return s
}

// CatchUp waits until the standby has replayed everything the primary has written so far.
func (s *Standby) CatchUp(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The test cluster commits with synchronous_commit off, so the last commits' WAL may
	// still be in memory, where the standby cannot get it. A synchronous commit writes the WAL
	// up to itself, every commit before it included — if its transaction wrote WAL (one that
	// only took an xid commits asynchronously): here a logical message, which touches no table.
	err := s.primary.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, 'testdb', 'catch up')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var lsn string
	if err := s.primary.QueryRowContext(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	for {
		var replayed bool
		if err := s.Owner.QueryRowContext(ctx, "SELECT pg_last_wal_replay_lsn() >= ?::pg_lsn", lsn).Scan(&replayed); err != nil {
			t.Fatalf("wait for the standby to replay %s: %v", lsn, err)
		}
		if replayed {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// PauseReplay stops the standby applying the primary's changes (it keeps receiving them),
// as a replica that lags; ResumeReplay lets it catch up again.
func (s *Standby) PauseReplay(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Owner.ExecContext(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	for {
		var state string
		if err := s.Owner.QueryRowContext(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "paused" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ResumeReplay undoes PauseReplay.
func (s *Standby) ResumeReplay(t testing.TB) {
	t.Helper()
	if _, err := s.Owner.ExecContext(context.Background(), "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
}

func openPool(t testing.TB, url string) *db.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), url, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// withPort is the URL u with its port replaced.
func withPort(t testing.TB, u string, port int) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	parsed.Host = parsed.Hostname() + ":" + strconv.Itoa(port)
	return parsed.String()
}
