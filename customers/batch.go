package customers

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/models"
)

// The batched reads behind the per-request loaders of the Customer 360: one statement for
// any number of customers, each in its own short transaction (loader batches run
// concurrently). The list reads the same relations for a whole page inside its own
// transaction (ListParams.Include), through the same functions.

// AddressesOf returns every address (active or not) of the customers, default first.
func (s *Service) AddressesOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID][]models.Address, error) {
	return inRead(ctx, s, customerIDs, addressesOf)
}

// LoyaltyAccountsOf returns the loyalty accounts of the customers that have one.
func (s *Service) LoyaltyAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.LoyaltyAccount, error) {
	return inRead(ctx, s, customerIDs, loyaltyAccountsOf)
}

// CreditAccountsOf returns the credit accounts of the customers that have one.
func (s *Service) CreditAccountsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CreditAccount, error) {
	return inRead(ctx, s, customerIDs, creditAccountsOf)
}

// SegmentsOf returns the segments of the customers that have one.
func (s *Service) SegmentsOf(ctx context.Context, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CustomerSegment, error) {
	return inRead(ctx, s, customerIDs, segmentsOf)
}

// inRead runs one batched read in its own read-only transaction of the caller's organization.
func inRead[V any](ctx context.Context, s *Service, ids []uuid.UUID,
	fetch func(context.Context, bun.IDB, []uuid.UUID) (map[uuid.UUID]V, error)) (map[uuid.UUID]V, error) {
	var out map[uuid.UUID]V
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = fetch(ctx, tx, ids)
		return err
	})
	return out, err
}

func addressesOf(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID) (map[uuid.UUID][]models.Address, error) {
	var rows []models.Address
	err := tx.NewSelect().Model(&rows).
		Where("a.customer_id = ANY(?)", pgdialect.Array(customerIDs)).
		Order("a.customer_id", "a.is_active DESC", "a.is_default DESC", "a.created_at", "a.address_id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	out := make(map[uuid.UUID][]models.Address, len(customerIDs))
	for _, a := range rows {
		out[a.CustomerID] = append(out[a.CustomerID], a)
	}
	return out, nil
}

func loyaltyAccountsOf(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID) (map[uuid.UUID]*models.LoyaltyAccount, error) {
	var rows []models.LoyaltyAccount
	if err := tx.NewSelect().Model(&rows).Where("la.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read loyalty accounts: %w", err)
	}
	return byCustomer(rows, func(r *models.LoyaltyAccount) uuid.UUID { return r.CustomerID }), nil
}

func creditAccountsOf(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CreditAccount, error) {
	var rows []models.CreditAccount
	// ca.*: bun leaves scanonly fields (the generated credit_available) out of its column list.
	if err := tx.NewSelect().Model(&rows).ColumnExpr("ca.*").Where("ca.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read credit accounts: %w", err)
	}
	return byCustomer(rows, func(r *models.CreditAccount) uuid.UUID { return r.CustomerID }), nil
}

func segmentsOf(ctx context.Context, tx bun.IDB, customerIDs []uuid.UUID) (map[uuid.UUID]*models.CustomerSegment, error) {
	var rows []models.CustomerSegment
	// s.*: bun leaves scanonly fields (the generated rfm_score) out of its column list.
	if err := tx.NewSelect().Model(&rows).ColumnExpr("s.*").Where("s.customer_id = ANY(?)", pgdialect.Array(customerIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	return byCustomer(rows, func(r *models.CustomerSegment) uuid.UUID { return r.CustomerID }), nil
}

func byCustomer[T any](rows []T, key func(*T) uuid.UUID) map[uuid.UUID]*T {
	out := make(map[uuid.UUID]*T, len(rows))
	for i := range rows {
		out[key(&rows[i])] = &rows[i]
	}
	return out
}
