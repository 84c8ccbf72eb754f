// Package customers owns customers and their addresses (specification §3): validation and
// normalization, per-organization uniqueness, default addresses, status changes, lookups,
// the filtered and searched list, and the batched reads of the Customer 360.
package customers

import (
	"context"

	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
)

// Service is the customers domain over PostgreSQL.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// write runs fn in a read-write transaction of the caller's organization.
func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	return db.Write(ctx, s.db, fn)
}
