package customers

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/models"
)

// The batched reads behind the per-request loaders of the Customer 360: one statement for
// any number of customers, each in its own short transaction (loader batches run
// concurrently).

// AddressesOf returns every address (active or not) of the customers, default first.
func (s *Service) AddressesOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID][]models.Address, error) {
	var rows []models.Address
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&rows).
			Where("a.customer_id = ANY(?)", pgdialect.Array(customerIDs)).
			Order("a.customer_id", "a.is_active DESC", "a.is_default DESC", "a.created_at", "a.address_id").
			Scan(ctx)
	})
	out := make(map[uuid.UUID][]models.Address, len(customerIDs))
	for _, a := range rows {
		out[a.CustomerID] = append(out[a.CustomerID], a)
	}
	return out, err
}

// LoyaltyAccountsOf returns the loyalty accounts of the customers that have one.
func (s *Service) LoyaltyAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.LoyaltyAccount, error) {
	var rows []models.LoyaltyAccount
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&rows).Where("la.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx)
	})
	return byCustomer(rows, func(r *models.LoyaltyAccount) uuid.UUID { return r.CustomerID }), err
}

// CreditAccountsOf returns the credit accounts of the customers that have one.
func (s *Service) CreditAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CreditAccount, error) {
	var rows []models.CreditAccount
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&rows).Where("ca.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx)
	})
	return byCustomer(rows, func(r *models.CreditAccount) uuid.UUID { return r.CustomerID }), err
}

// SegmentsOf returns the segments of the customers that have one.
func (s *Service) SegmentsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CustomerSegment, error) {
	var rows []models.CustomerSegment
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(&rows).Where("s.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx)
	})
	return byCustomer(rows, func(r *models.CustomerSegment) uuid.UUID { return r.CustomerID }), err
}

func byCustomer[T any](rows []T, key func(*T) uuid.UUID) map[uuid.UUID]*T {
	out := make(map[uuid.UUID]*T, len(rows))
	for i := range rows {
		out[key(&rows[i])] = &rows[i]
	}
	return out
}
