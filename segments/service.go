// Package segments owns the RFM segmentation of specification §6: one set-based recalculation per
// organization from purchases net of refunds, the ordered segment rules, and its triggers
// (the recalculateSegments mutation, the CLI and the nightly job).
package segments

import (
	"context"
	"time"

	"github.com/google/uuid"
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
		res, err = recalculateAudited(ctx, tx, p, time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// recalculateAudited recomputes p's organization in tx and records it in the audit log as
// done by p: a manager, or SYSTEM for the nightly job and the CLI (§12).
func recalculateAudited(ctx context.Context, tx bun.Tx, p auth.Principal, now time.Time) (*Result, error) {
	res, err := Recalculate(ctx, tx, p.OrganizationID, now)
	if err != nil {
		return nil, err
	}
	bySegment := make(map[string]any, len(res.BySegment))
	for code, n := range res.BySegment {
		bySegment[string(code)] = n
	}
	return res, audit.Record(ctx, tx, p, audit.Entry{
		Action:        "segments.recalculate",
		EntityType:    "organization",
		EntityID:      p.OrganizationID,
		ChangedFields: []string{"customer_segments"},
		Details:       map[string]any{"scored": res.Scored, "removed": res.Removed, "bySegment": bySegment},
	})
}

// RecalculateAsSystem recomputes org in tx as the nightly job does, audited by SYSTEM.
func RecalculateAsSystem(ctx context.Context, tx bun.Tx, org uuid.UUID, now time.Time) (*Result, error) {
	return recalculateAudited(ctx, tx, auth.Principal{UserID: auth.System, OrganizationID: org}, now)
}
