// Package segments owns the RFM segmentation of specification §6: one set-based recalculation per
// organization from purchases net of refunds, the ordered segment rules, and its triggers
// (the recalculateSegments mutation, the CLI and the nightly job).
package segments

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
)

// Service is the segmentation domain over PostgreSQL.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// Recalculate recomputes the caller's organization now (the recalculateSegments mutation: a
// manager's) and records it in the audit log, in the same transaction.
func (s *Service) Recalculate(ctx context.Context) (*Result, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	var res *Result
	err := db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var err error
		if res, err = Recalculate(ctx, tx, p.OrganizationID, time.Now()); err != nil {
			return err
		}
		bySegment := make(map[string]any, len(res.BySegment))
		for code, n := range res.BySegment {
			bySegment[string(code)] = n
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action:        "segments.recalculate",
			EntityType:    "organization",
			EntityID:      p.OrganizationID,
			ChangedFields: []string{"customer_segments"},
			Details:       map[string]any{"scored": res.Scored, "removed": res.Removed, "bySegment": bySegment},
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
