package db

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type batchKey struct{}

type batch struct {
	org uuid.UUID
	tx  bun.Tx
}

// InBatch runs fn in one transaction of org whose ctx makes every InOrg of org under it —
// the services' Read and Write — a savepoint of that transaction instead of a transaction
// of its own. A bulk job (the CSV import) calls the services row by row, as the API does,
// and commits many rows at once: a row the service refuses rolls back to its savepoint
// only, and the others of the batch still commit with fn. tx is the batch's transaction,
// for fn's own reads (a statement that fails there aborts the batch). fn must not run calls
// concurrently under ctx: the transaction is one connection.
func InBatch(ctx context.Context, pool bun.IDB, org uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) error {
	return InOrg(ctx, pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		return fn(context.WithValue(ctx, batchKey{}, &batch{org: org, tx: tx}), tx)
	})
}

// inBatch runs fn in a savepoint of ctx's batch when ctx is of one for org (InBatch).
func inBatch(ctx context.Context, org uuid.UUID, fn func(ctx context.Context, tx bun.Tx) error) (bool, error) {
	b, ok := ctx.Value(batchKey{}).(*batch)
	if !ok || b.org != org {
		return false, nil
	}
	sp, err := b.tx.BeginTx(ctx, nil)
	if err != nil {
		return true, err
	}
	// The savepoint's own queue (Later): its statements are sent before it is released, its
	// events handed to the batch's transaction (one notification for the batch) once it is
	// released, so a row rolled back to its savepoint — by fn or by a queued statement that
	// failed — takes its queued statements and events with it.
	parent := pendingOf(ctx)
	later := &pending{}
	ctx = context.WithValue(context.WithValue(ctx, orgKey{}, org), pendingKey{}, later)
	err = fn(ctx, sp)
	var events []string
	if err == nil && parent != nil {
		later.mu.Lock()
		events, later.ids = later.ids, nil
		later.mu.Unlock()
	}
	if err == nil {
		err = later.flush(ctx, sp, org)
	}
	if err != nil {
		if rerr := sp.Rollback(); rerr != nil {
			return true, rerr
		}
		return true, err
	}
	if err := sp.Commit(); err != nil {
		return true, err
	}
	if len(events) > 0 {
		parent.mu.Lock()
		parent.ids = append(parent.ids, events...)
		parent.mu.Unlock()
	}
	return true, nil
}
