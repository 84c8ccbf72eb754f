package db_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

// A dedicated pool connects as its parent does (the same role, and the same tracers: its
// statements are counted with the parent's), holds at most its own number of connections,
// and takes none of the parent's.
func TestDedicated_ConnectsAsItsParentOnConnectionsOfItsOwn(t *testing.T) {
	ctx := context.Background()
	parent, sent := testdb.OpenCounting(t, testdb.Get(t).AppURL)
	own, err := parent.Dedicated(2)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if s := own.DB.DB.Stats(); s.MaxOpenConnections != 2 || s.OpenConnections != 0 {
		t.Fatalf("opened: %+v, want 2 at most and none yet", s)
	}
	before := sent.Count()
	var parentRole, ownRole string
	if err := parent.QueryRowContext(ctx, "SELECT current_user").Scan(&parentRole); err != nil {
		t.Fatal(err)
	}
	if err := own.QueryRowContext(ctx, "SELECT current_user").Scan(&ownRole); err != nil {
		t.Fatal(err)
	}
	if ownRole != parentRole {
		t.Fatalf("the dedicated pool connects as %s, its parent as %s", ownRole, parentRole)
	}
	if n := sent.Count() - before; n != 2 {
		t.Fatalf("the parent's tracer saw %d statements, want both pools' 2", n)
	}
	// Both of its connections held: the parent still serves.
	c1, err := own.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := own.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := parent.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if s := parent.DB.DB.Stats(); s.WaitCount != 0 || s.InUse != 0 {
		t.Fatalf("the parent pool: %+v", s)
	}
	if own.OnCitus() != parent.OnCitus() {
		t.Fatalf("Citus: dedicated %v, parent %v", own.OnCitus(), parent.OnCitus())
	}
}

func TestDedicated_NeedsAPoolOfOpenAndAConnection(t *testing.T) {
	parent, _ := testdb.OpenCounting(t, testdb.Get(t).AppURL)
	if _, err := parent.Dedicated(0); err == nil {
		t.Fatal("a dedicated pool of 0 connections was opened")
	}
	bare := &db.Pool{DB: bun.NewDB(parent.DB.DB, parent.Dialect())}
	if _, err := bare.Dedicated(2); err == nil {
		t.Fatal("a pool not made by Open opened a dedicated pool")
	}
}
