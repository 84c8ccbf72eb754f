// Package segments owns the RFM segmentation of DESIGN §6: one set-based recalculation per
// organization from purchases net of refunds, the ordered segment rules, and its triggers.
package segments

import "github.com/uptrace/bun"

// Service is the segmentation domain over PostgreSQL.
type Service struct {
	db *bun.DB
}

// NewService returns the service over the pool.
func NewService(pool *bun.DB) *Service { return &Service{db: pool} }
