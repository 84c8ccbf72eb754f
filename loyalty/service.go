// Package loyalty owns the loyalty program of DESIGN §4: program settings, purchases and
// refunds, earning, redemptions, bonuses and adjustments over FIFO point lots, tiers, and
// the expiry and tier re-evaluation jobs.
package loyalty

import "github.com/uptrace/bun"

// Service is the loyalty domain over PostgreSQL.
type Service struct {
	db *bun.DB
}

// NewService returns the service over the pool.
func NewService(pool *bun.DB) *Service { return &Service{db: pool} }
