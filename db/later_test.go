package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
)

// In a bulk job's batch, a row whose queued statement fails at its savepoint's flush is rolled
// back with its events: the batch notifies the events of the rows that stayed, and no other.
func TestInBatch_ARowWhoseQueuedWriteFailsNotifiesNothing(t *testing.T) {
	tdb := testdb.Get(t)
	app := testdb.Open(t, tdb.AppURL)
	ctx := t.Context()
	listener, err := pgx.Connect(ctx, tdb.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN "+db.EventsChannel); err != nil {
		t.Fatal(err)
	}
	org := uuid.New()
	err = db.InBatch(ctx, app, org, func(ctx context.Context, _ bun.Tx) error {
		for _, row := range []struct {
			event string
			query string
		}{
			{"test:refused", "SELECT 1 / 0"},
			{"test:kept", "SELECT 1"},
		} {
			err := db.InOrg(ctx, app, org, false, func(ctx context.Context, tx bun.Tx) error {
				db.Publish(ctx, row.event)
				return db.Later(ctx, tx, tx.NewRaw(row.query))
			})
			if row.event == "test:refused" && err == nil {
				t.Errorf("the row whose queued statement divides by zero committed")
			}
			if row.event == "test:kept" && err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := listener.WaitForNotification(wait)
	if err != nil {
		t.Fatal(err)
	}
	if want := org.String() + ":test:kept"; n.Payload != want {
		t.Fatalf("notified %q, want %q", n.Payload, want)
	}
	quiet, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if n, err := listener.WaitForNotification(quiet); err == nil {
		t.Fatalf("a second notification: %q", n.Payload)
	}
}
