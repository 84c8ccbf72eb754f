// Package loyalty owns the loyalty program of specification §4: program settings, purchases and
// refunds, earning, redemptions, bonuses and adjustments over FIFO point lots, tiers, and
// the expiry and tier re-evaluation jobs.
//
// Balances change only here, each in one short transaction of the caller's organization
// that locks the loyalty account's row (FOR UPDATE) before it reads the balance; every
// change writes one loyalty_transactions row carrying the balance after it. Locks are taken
// in one order — customer row (purchases, enrollment), purchase row (refunds), then account
// row, then its lots — so two changes never deadlock. Earn, bonus and positive
// adjustments are lots (points_remaining, expires_at); everything that takes points away
// consumes the oldest lots first, so an account's balance always equals what remains in its
// lots. The CHECK constraints (balance ≥ 0, 0 ≤ points_remaining ≤ points) stay the last
// line of defence. Decisions beyond the specification (docs/specification.md) are listed in docs/decisions-loyalty.md.
package loyalty

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
)

// Service is the loyalty domain over PostgreSQL.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// read runs fn in a read-only transaction of the caller's organization. Every read needs
// the viewer role (§7): the methods that read check it first, and so does read, for the
// batched reads of the Customer 360 that call it.
func (s *Service) read(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return err
	}
	return db.Read(ctx, s.db, fn)
}

// write runs fn in a transaction of the caller's organization, with the write's clock in its
// context (writeClock: set when fn locks the account, the instant of the write's rows).
func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	return db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		return fn(context.WithValue(ctx, clockKey{}, &writeClock{}), tx, p)
	})
}

// errReplay rolls back a keyed mutation whose key was already used (found first, or lost a
// race on the unique index): the caller then reads and returns the original result (§8).
var errReplay = errors.New("loyalty: idempotency key already used")

func ptr[T any](v T) *T { return &v }
