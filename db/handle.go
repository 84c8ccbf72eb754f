package db

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Handle is the database as the services see it: one value for all their reads and writes.
// It is the primary pool — anything called on it directly (a query, RunInTx, Write) runs
// on the primary — plus, when DATABASE_REPLICA_URL is set, a streaming replica that only
// Read and ReadInOrg use, and only under a context marked with AllowReplica.
//
// So the routing cannot be got wrong from a service: a write has no way to the replica (and
// a hot standby would refuse it anyway), and a read that is not marked — in a mutation, a
// job, a command — sees the writes before it. Only the GraphQL layer marks contexts: the
// whole of a query operation may read a replica that lags the primary a little; nothing of a
// mutation may, its payload included.
type Handle struct {
	*Pool
	replica *Pool // nil: every read goes to the primary

	registered sync.Map // uuid.UUID: organizations seen in the registry by a committed write
}

// NewHandle is the handle over primary and, when not nil, a streaming replica of it.
func NewHandle(primary, replica *Pool) *Handle {
	return &Handle{Pool: primary, replica: replica}
}

// RegisterOrganization registers org in tx (RegisterOrganization) unless a committed
// transaction of this handle did already (Registered): a customer's creation then sends no
// statement more. On Citus the registry is a reference table, whose every write goes to
// every node.
func (h *Handle) RegisterOrganization(ctx context.Context, tx bun.IDB, org uuid.UUID) error {
	if _, ok := h.registered.Load(org); ok {
		return nil
	}
	return RegisterOrganization(ctx, tx, org)
}

// Registered records that a committed transaction registered org.
func (h *Handle) Registered(org uuid.UUID) { h.registered.Store(org, struct{}{}) }

// forRead is the pool a read under ctx goes to.
func (h *Handle) forRead(ctx context.Context) *Pool {
	if h.replica != nil && ReplicaAllowed(ctx) {
		return h.replica
	}
	return h.Pool
}

// EachPool runs check on the primary, then on the replica if there is one (readiness, the
// start's role and migration checks); an error of the replica says so.
func (h *Handle) EachPool(ctx context.Context, check func(context.Context, bun.IDB) error) error {
	if err := check(ctx, h.DB); err != nil {
		return err
	}
	if h.replica != nil {
		if err := check(ctx, h.replica); err != nil {
			return fmt.Errorf("read replica (DATABASE_REPLICA_URL): %w", err)
		}
	}
	return nil
}

// Close closes the primary and the replica pools.
func (h *Handle) Close() error {
	err := h.DB.Close()
	if h.replica != nil {
		if rerr := h.replica.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

type replicaAllowedKey struct{}

// AllowReplica marks ctx as belonging to an operation that only reads and accepts data a
// replica has not caught up with yet (a GraphQL query): Read and ReadInOrg under it may go
// to the read replica. Never mark a context that writes and then reads what it wrote.
func AllowReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaAllowedKey{}, true)
}

// OnPrimary undoes AllowReplica for the reads under ctx: they go to the primary. For a read
// that promises what a write would do now (creditCheck: what chargeCredit would decide), which
// a replica's lag would falsify.
func OnPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaAllowedKey{}, false)
}

// ReplicaAllowed reports whether ctx was marked with AllowReplica (and not OnPrimary since).
func ReplicaAllowed(ctx context.Context) bool {
	ok, _ := ctx.Value(replicaAllowedKey{}).(bool)
	return ok
}
