// Package cituscluster starts a one-machine Citus cluster in a directory: a coordinator and
// two workers, each a PostgreSQL cluster of its own (internal/pgcluster) on a free loopback
// port, with citus preloaded, the extension created on every node, the workers added to the
// coordinator, then the coordinator migrated and given the server's login role exactly as
// embedded.Provision does. The test kit's citusdb and testdb (CITUS_TEST=1) use it.
package cituscluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"customerservice/internal/embedded"
	"customerservice/internal/pgcluster"
)

// Cluster is the running Citus cluster: the coordinator's database (migrated, with the
// login role) and the workers.
type Cluster struct {
	*embedded.DB                      // the coordinator: OwnerURL, AppURL, Cluster (its pgcluster)
	Workers      []*pgcluster.Cluster // the databases of the same name on each are its shards' homes
}

// WorkerURL is the superuser URL of worker i's database.
func (c *Cluster) WorkerURL(i int) string { return c.Workers[i].SuperuserURL(c.Name) }

// Settings of every node: testdb's (speed over durability, connections for parallel tests),
// Citus preloaded, logical WAL (shard moves). Few shards: a test distributes in a second.
var Settings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
	"shared_preload_libraries=citus", "wal_level=logical", "citus.shard_count=4"}

// Enabled reports whether the Citus tests are asked for (CITUS_TEST=1).
func Enabled() bool { return os.Getenv("CITUS_TEST") == "1" }

// Installed reports whether Citus is installed for the PostgreSQL the tests use (the check
// scripts/citus makes).
func Installed() bool {
	if out, err := exec.Command("pg_config", "--pkglibdir").Output(); err == nil {
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "citus.so")); err == nil {
			return true
		}
	}
	deb, _ := filepath.Glob("/usr/lib/postgresql/*/lib/citus.so")
	return len(deb) > 0
}

// StartTemp is Start in a fresh temporary directory, for a test binary; stop stops the
// nodes and removes the directory, and is to be called even after an error.
func StartTemp(ctx context.Context, name string) (c *Cluster, stop func(), err error) {
	dir, err := os.MkdirTemp("", "customer-service-citus-")
	if err != nil {
		return nil, func() {}, err
	}
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach its data directories
	c, nodes, err := Start(ctx, dir, name)
	return c, func() {
		for _, n := range nodes {
			n.Stop() //nolint:errcheck
		}
		os.RemoveAll(dir)
	}, err
}

// Start starts the coordinator and two workers in dir and provisions database name; nodes
// are the started clusters (to stop, also on error).
func Start(ctx context.Context, dir, name string) (c *Cluster, nodes []*pgcluster.Cluster, err error) {
	for _, role := range []string{"coordinator", "worker1", "worker2"} {
		port, err := pgcluster.FreePort()
		if err != nil {
			return nil, nodes, err
		}
		n, err := pgcluster.Open(filepath.Join(dir, role), port)
		if err != nil {
			return nil, nodes, err
		}
		// The nodes connect to each other over loopback as the connecting role (the
		// superuser for DDL, the login role for queries): a throwaway cluster on 127.0.0.1
		// trusts them there. Production clusters authenticate them (README, Scaling out).
		if err := trustLoopback(n); err != nil {
			return nil, nodes, err
		}
		if err := n.Start(ctx, Settings...); err != nil {
			return nil, nodes, fmt.Errorf("%s: %w", role, err)
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := createCitusDatabase(ctx, n, name); err != nil {
			return nil, nodes, err
		}
	}
	coord := nodes[0]
	if err := exec1(ctx, coord.SuperuserURL(name), "SELECT citus_set_coordinator_host('127.0.0.1', $1)", coord.Port); err != nil {
		return nil, nodes, err
	}
	for _, w := range nodes[1:] {
		if err := exec1(ctx, coord.SuperuserURL(name), "SELECT citus_add_node('127.0.0.1', $1)", w.Port); err != nil {
			return nil, nodes, fmt.Errorf("citus_add_node(%d): %w", w.Port, err)
		}
	}
	// Migrations and the login role, on the coordinator (roles and grants propagate).
	d, err := embedded.Provision(ctx, coord.Dir, coord.Port, name, Settings...)
	if err != nil {
		return nil, nodes, err
	}
	return &Cluster{DB: d, Workers: nodes[1:]}, nodes, nil
}

func trustLoopback(n *pgcluster.Cluster) error {
	hba := filepath.Join(n.Dir, "data", "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		return err
	}
	const line = "host all all 127.0.0.1/32 trust # citusdb: the nodes connect to each other\n"
	if strings.Contains(string(old), line) {
		return nil
	}
	return os.WriteFile(hba, append([]byte(line), old...), 0o600) // first match wins
}

func createCitusDatabase(ctx context.Context, n *pgcluster.Cluster, name string) error {
	var exists bool
	conn, err := pgx.Connect(ctx, n.SuperuserURL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("port %d: create database: %w", n.Port, err)
		}
	}
	if err := exec1(ctx, n.SuperuserURL(name), "CREATE EXTENSION IF NOT EXISTS citus"); err != nil {
		return fmt.Errorf("port %d: create extension citus: %w", n.Port, err)
	}
	return nil
}

func exec1(ctx context.Context, url, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}
