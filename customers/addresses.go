package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// Address writes (§3). At most one active default per customer per type, 'both' counting as
// shipping and as billing, is enforced by the database's partial unique indexes; these
// functions keep to it by clearing the previous default(s) before setting a new one, under
// the customer's row lock so that concurrent changes of one customer's defaults queue.

// AddAddress adds an address to a customer of the organization. As default, it replaces
// the customer's previous default(s) of the types it serves. An erased customer is
// INVALID_STATE.
func (s *Service) AddAddress(ctx context.Context, customerID uuid.UUID, in NewAddress) (*models.Address, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	a := newAddressRow()
	changed, err := in.changes().applyTo(&a)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var c models.Customer
		if err := lockCustomer(ctx, tx, customerID, []string{"customerId"}, &c); err != nil {
			return err
		}
		if err := refuseErased(&c, []string{"customerId"}); err != nil {
			return err
		}
		a.ID = uuid.New()
		a.OrganizationID = p.OrganizationID
		a.CustomerID = customerID
		var replaced []uuid.UUID
		if in.IsDefault {
			var err error
			if replaced, err = clearDefaults(ctx, tx, a); err != nil {
				return err
			}
			a.IsDefault = true
			changed = append(changed, "is_default")
		}
		if _, err := tx.NewInsert().Model(&a).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert address: %w", err)
		}
		return auditAddress(ctx, tx, p, "address.add", &a, changed, replaced)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateAddress changes an address: fields not given keep their value, fields given as null
// are cleared. A default whose type changes stays the default, replacing the previous
// default of the types it now serves.
func (s *Service) UpdateAddress(ctx context.Context, id uuid.UUID, ch AddressChanges) (*models.Address, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var a models.Address
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockAddress(ctx, tx, id, &a); err != nil {
			return err
		}
		changed, err := ch.applyTo(&a)
		if err != nil {
			return err
		}
		var replaced []uuid.UUID
		if a.IsDefault && a.IsActive && slices.Contains(changed, "address_type") {
			if replaced, err = clearDefaults(ctx, tx, a); err != nil {
				return err
			}
		}
		if err := updateAddress(ctx, tx, &a, changed); err != nil {
			return err
		}
		return auditAddress(ctx, tx, p, "address.update", &a, changed, replaced)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// RemoveAddress deactivates an address (kept for past orders) and stops it being a default.
// Removing a removed address changes nothing.
func (s *Service) RemoveAddress(ctx context.Context, id uuid.UUID) (*models.Address, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var a models.Address
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockAddress(ctx, tx, id, &a); err != nil {
			return err
		}
		var changed []string
		if a.IsActive {
			a.IsActive = false
			changed = append(changed, "is_active")
		}
		if a.IsDefault {
			a.IsDefault = false
			changed = append(changed, "is_default")
		}
		if err := updateAddress(ctx, tx, &a, changed); err != nil {
			return err
		}
		return auditAddress(ctx, tx, p, "address.remove", &a, changed, nil)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// SetDefaultAddress makes an active address the default of the types it serves: the
// previous default(s) are cleared first, in the same transaction.
func (s *Service) SetDefaultAddress(ctx context.Context, id uuid.UUID) (*models.Address, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var a models.Address
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockAddress(ctx, tx, id, &a); err != nil {
			return err
		}
		if !a.IsActive {
			return apperr.OnField(apperr.InvalidState, []string{"id"}, "a removed address cannot be a default")
		}
		var changed []string
		var replaced []uuid.UUID
		if !a.IsDefault {
			var err error
			if replaced, err = clearDefaults(ctx, tx, a); err != nil {
				return err
			}
			a.IsDefault = true
			changed = []string{"is_default"}
		}
		if err := updateAddress(ctx, tx, &a, changed); err != nil {
			return err
		}
		return auditAddress(ctx, tx, p, "address.set_default", &a, changed, replaced)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// lockAddress reads an address of the organization after locking its customer, the lock
// every change of that customer's defaults takes first.
func lockAddress(ctx context.Context, tx bun.Tx, id uuid.UUID, a *models.Address) error {
	var customerID uuid.UUID
	org := db.Org(ctx)
	err := tx.NewRaw(`SELECT c.customer_id FROM addresses a
		JOIN customers c ON c.organization_id = a.organization_id AND c.customer_id = a.customer_id
		WHERE a.organization_id = ? AND a.address_id = ? FOR NO KEY UPDATE OF c`, org, id).Scan(ctx, &customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.OnField(apperr.NotFound, []string{"id"}, "no address with this id")
	}
	if err != nil {
		return fmt.Errorf("lock address's customer: %w", err)
	}
	err = tx.NewSelect().Model(a).Where("a.organization_id = ?", org).Where("a.address_id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		// Deleted while this waited for the customer's lock: the customer was erased.
		return apperr.OnField(apperr.NotFound, []string{"id"}, "no address with this id")
	}
	if err != nil {
		return fmt.Errorf("read address: %w", err)
	}
	return nil
}

// clearDefaults clears the customer's other defaults that serve a type a serves, and
// returns their ids.
func clearDefaults(ctx context.Context, tx bun.Tx, a models.Address) ([]uuid.UUID, error) {
	types := []models.AddressType{a.AddressType, models.AddressTypeBoth}
	if a.AddressType == models.AddressTypeBoth {
		types = []models.AddressType{models.AddressTypeShipping, models.AddressTypeBilling, models.AddressTypeBoth}
	}
	var ids []uuid.UUID
	err := tx.NewRaw(`UPDATE addresses SET is_default = false
		WHERE organization_id = ? AND customer_id = ? AND is_default AND address_id <> ? AND address_type IN (?)
		RETURNING address_id`, a.OrganizationID, a.CustomerID, a.ID, bun.List(types)).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("clear default addresses: %w", err)
	}
	slices.SortFunc(ids, func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
	return ids, nil
}

// updateAddress writes the changed columns of a and reads back updated_at.
func updateAddress(ctx context.Context, tx bun.Tx, a *models.Address, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	if _, err := tx.NewUpdate().Model(a).Column(changed...).WherePK().Returning("*").Exec(ctx); err != nil {
		return fmt.Errorf("update address: %w", err)
	}
	return nil
}

// auditAddress records an address mutation; ids only in the details, no personal values.
func auditAddress(ctx context.Context, tx bun.Tx, p auth.Principal, action string, a *models.Address, changed []string, replaced []uuid.UUID) error {
	details := map[string]any{"customer_id": a.CustomerID}
	if len(replaced) > 0 {
		details["replaced_default_ids"] = replaced
	}
	return audit.Record(ctx, tx, p, audit.Entry{
		Action: action, EntityType: "address", EntityID: a.ID, ChangedFields: changed, Details: details,
	})
}
