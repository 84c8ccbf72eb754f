// Package privacy owns the privacy duties of Ley 81 de 2019 (§11) that are not a customer's
// own data: the privacy requests log with its due dates, the organization's privacy
// settings (how many business days it has to answer), and the export of everything the
// organization holds about a customer (access and portability), which reads every
// customer table in one snapshot as the timeline does.
package privacy

import (
	"context"

	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
)

// Service is the privacy domain over PostgreSQL.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	return db.Write(ctx, s.db, fn)
}
