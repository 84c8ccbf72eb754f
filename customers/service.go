// Package customers owns customers and their addresses (DESIGN §3): validation and
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

// read runs fn in a read-only transaction of the caller's organization. Every read needs
// the viewer role (§7): the methods that read check it first, and so does read, for the
// batched reads of the Customer 360 that call it.
func (s *Service) read(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return err
	}
	return db.Read(ctx, s.db, fn)
}

// write runs fn in a read-write transaction of the caller's organization.
func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	return db.Write(ctx, s.db, fn)
}
