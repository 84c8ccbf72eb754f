// Package credit owns B2B trade credit (DESIGN §5): the account lifecycle, charges, payments
// allocated oldest due first, overdue marking and aging.
package credit

import "github.com/uptrace/bun"

// Service is the credit domain over PostgreSQL.
type Service struct {
	db *bun.DB
}

// NewService returns the service over the pool.
func NewService(pool *bun.DB) *Service { return &Service{db: pool} }
