package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/internal/testkit/testdb"
	"customerservice/migrations"
)

// Against a real hot standby: Read and ReadInOrg go to the replica only under AllowReplica;
// Write goes to the primary under any context; without a replica every read stays on the
// primary. Where a statement ran is read twice: from the server (pg_is_in_recovery) and from
// the statements each pool sent.
func TestReplica_ReadsGoToTheReplicaOnlyWhenAllowed(t *testing.T) {
	if testdb.OnCitus() {
		// A standby of the coordinator alone is no read replica on Citus (the rows live on
		// the workers); a Citus read replica is a standby of every node, not run here.
		t.Skip("on Citus a read replica is a standby of every node; the one-machine test cluster has none")
	}
	standby := testdb.NewStandby(t)
	primary, primarySent := testdb.OpenCounting(t, testdb.Get(t).AppURL)
	replica, replicaSent := testdb.OpenCounting(t, standby.AppURL)
	h := db.NewHandle(primary, replica)
	org := uuid.New()
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{UserID: uuid.New(), OrganizationID: org, Roles: []auth.Role{auth.Admin}})
	mayUseReplica := db.AllowReplica(ctx)

	// read reads pg_is_in_recovery() through both read paths, with the customers the
	// organization has there.
	type where struct {
		readOnStandby, pipelineOnStandby bool
		customers                        string
	}
	read := func(ctx context.Context, h *db.Handle) (w where) {
		t.Helper()
		err := db.Read(ctx, h, func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&w.readOnStandby)
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.ReadInOrg(ctx, h, org, db.Stmt{
			SQL: "SELECT pg_is_in_recovery()::text, (SELECT count(*) FROM customers)::text",
			Row: func(v [][]byte) error {
				w.pipelineOnStandby, w.customers = string(v[0]) == "true", string(v[1])
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// sent is what each pool sent during fn.
	sent := func(fn func()) (onPrimary, onReplica int64) {
		p, r := primarySent.Count(), replicaSent.Count()
		fn()
		return primarySent.Count() - p, replicaSent.Count() - r
	}

	// A write, under a context that allows the replica: on the primary all the same.
	var writeOnStandby bool
	p, r := sent(func() {
		err := db.Write(mayUseReplica, h, func(ctx context.Context, tx bun.Tx, _ auth.Principal) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO customers (organization_id, first_name, last_name) VALUES (?, 'Ana', 'Ríos')", org); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&writeOnStandby)
		})
		if err != nil {
			t.Fatalf("a write with a replica configured: %v", err)
		}
	})
	// BEGIN, set_config, INSERT, SELECT, COMMIT.
	if writeOnStandby || p != 5 || r != 0 {
		t.Fatalf("the write ran on the standby: %v; statements on the primary %d, on the replica %d; want 5 and 0", writeOnStandby, p, r)
	}

	// Unmarked reads (a mutation's, a job's) see the write at once: they are the primary's.
	var w where
	p, r = sent(func() { w = read(ctx, h) })
	// Read: BEGIN, set_config, SELECT, COMMIT; ReadInOrg: set_config and the statement.
	if w != (where{false, false, "1"}) || p != 6 || r != 0 {
		t.Fatalf("reads without AllowReplica: %+v; statements on the primary %d, on the replica %d; want 6 and 0", w, p, r)
	}

	// Marked reads go to the standby, which has the row once it has replayed the write.
	standby.CatchUp(t)
	p, r = sent(func() { w = read(mayUseReplica, h) })
	if w != (where{true, true, "1"}) || p != 0 || r != 6 {
		t.Fatalf("reads with AllowReplica: %+v; statements on the primary %d, on the replica %d; want 0 and 6", w, p, r)
	}

	// Without a replica, marked reads stay on the primary.
	if w := read(mayUseReplica, db.NewHandle(primary, nil)); w.readOnStandby || w.pipelineOnStandby {
		t.Fatalf("reads with no replica configured ran on a standby: %+v", w)
	}

	// What a write routed to the replica would meet: the hot standby refuses it.
	err := db.InOrg(ctx, replica, org, false, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO customers (organization_id, first_name, last_name) VALUES (?, 'X', 'X')", org)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Fatalf("a write on the standby: %v", err)
	}
}

// The start's checks and /readyz run on both pools, and name the replica when it fails.
func TestReplica_EachPoolChecksTheReplicaToo(t *testing.T) {
	standby := testdb.NewStandby(t)
	tdb := testdb.Get(t)
	ctx := context.Background()
	h := db.NewHandle(testdb.Open(t, tdb.AppURL), testdb.Open(t, standby.AppURL))
	if err := h.EachPool(ctx, db.CheckRole); err != nil {
		t.Fatalf("the server's role on both: %v", err)
	}
	if err := h.EachPool(ctx, migrations.Current); err != nil {
		t.Fatalf("both have the schema: %v", err)
	}
	// The replica as the superuser: refused, and the message says it is the replica.
	unsafe := db.NewHandle(testdb.Open(t, tdb.AppURL), testdb.Open(t, standby.Cluster.SuperuserURL(tdb.Name)))
	if err := unsafe.EachPool(ctx, db.CheckRole); err == nil || !strings.HasPrefix(err.Error(), "read replica (DATABASE_REPLICA_URL): ") || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("a superuser replica role: %v", err)
	}
	if err := standby.Cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := h.EachPool(ctx, migrations.Current); err == nil || !strings.HasPrefix(err.Error(), "read replica (DATABASE_REPLICA_URL): ") {
		t.Fatalf("the replica down: %v", err)
	}
}
