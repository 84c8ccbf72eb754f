package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/credit"
	"customerservice/db"
	"customerservice/models"
)

// Create adds a customer to the caller's organization (§3): the input is validated and
// normalized, a duplicate email, phone or document is TAKEN, and the creation is audited
// with the columns the input set to other than their defaults.
func (s *Service) Create(ctx context.Context, in NewCustomer) (*models.Customer, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	c := newCustomerRow()
	changed, err := in.changes().applyTo(&c)
	if in.ExternalID != nil {
		if n := utf8.RuneCountInString(*in.ExternalID); n < 1 || n > MaxExternalID {
			errs, _ := apperr.Of(err) // the input's other invalid fields, reported together
			err = append(apperr.List(errs), apperr.OnField(apperr.Invalid, []string{"externalId"}, "must be 1–%d characters", MaxExternalID))
		}
		c.ExternalID = in.ExternalID
		changed = append(changed, "external_id")
	}
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		c.ID = uuid.New()
		c.OrganizationID = p.OrganizationID
		if err := refuseTakenDocument(ctx, tx, &c, changed); err != nil {
			return err
		}
		// Its first customer makes the organization one the jobs visit.
		if err := s.db.RegisterOrganization(ctx, tx, p.OrganizationID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&c).Returning("*").Exec(ctx); err != nil {
			return customerWriteError(err)
		}
		if err := marketingConsentHistory(ctx, tx, p, &c, changed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "customer.create", EntityType: "customer", EntityID: c.ID, ChangedFields: changed,
		})
	})
	if err != nil {
		return nil, err
	}
	s.db.Registered(c.OrganizationID)
	return &c, nil
}

// Update changes a customer: fields not given keep their value, fields given as null are
// cleared (§8). Only the columns whose value changes are written and audited. An erased
// customer is INVALID_STATE.
func (s *Service) Update(ctx context.Context, id uuid.UUID, ch CustomerChanges) (*models.Customer, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	var c models.Customer
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockCustomer(ctx, tx, id, []string{"id"}, &c); err != nil {
			return err
		}
		if err := refuseErased(&c, []string{"id"}); err != nil {
			return err
		}
		changed, err := ch.applyTo(&c)
		if err != nil {
			return err
		}
		if slices.Contains(changed, "customer_type") && c.CustomerType != models.CustomerTypeB2B {
			// §5: only b2b customers have credit accounts.
			open, err := credit.HasOpenAccount(ctx, tx, c.OrganizationID, id)
			if err != nil {
				return err
			}
			if open {
				return apperr.OnField(apperr.InvalidState, []string{"customerType"},
					"the customer has a credit account, which only B2B customers can hold; cancel it first")
			}
		}
		if err := refuseTakenDocument(ctx, tx, &c, changed); err != nil {
			return err
		}
		if err := updateCustomer(ctx, tx, &c, changed); err != nil {
			return err
		}
		if err := marketingConsentHistory(ctx, tx, p, &c, changed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "customer.update", EntityType: "customer", EntityID: c.ID, ChangedFields: changed,
		})
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// SetStatus makes a customer active, inactive or blocked. A reason (at most 500
// characters) is required for inactive and blocked; it is stored as status_reason, which a
// change without a reason clears. An erased customer is INVALID_STATE.
func (s *Service) SetStatus(ctx context.Context, id uuid.UUID, status models.CustomerStatus, reason *string) (*models.Customer, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	r, err := statusReason(status, reason)
	if err != nil {
		return nil, err
	}
	var c models.Customer
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockCustomer(ctx, tx, id, []string{"id"}, &c); err != nil {
			return err
		}
		if err := refuseErased(&c, []string{"id"}); err != nil {
			return err
		}
		from := c.Status
		var changed []string
		if c.Status != status {
			c.Status = status
			changed = append(changed, "status")
		}
		if !eqPtr(c.StatusReason, r) {
			c.StatusReason = r
			changed = append(changed, "status_reason")
		}
		if err := updateCustomer(ctx, tx, &c, changed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "customer.set_status", EntityType: "customer", EntityID: c.ID, ChangedFields: changed,
			Details: map[string]any{"from": from, "to": status},
		})
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// lockCustomer reads a customer of the organization and locks it for this transaction;
// changes to a customer and to its addresses' defaults are serialized on this lock. A
// customer of another organization is as missing as one that does not exist (§7).
func lockCustomer(ctx context.Context, tx bun.Tx, id uuid.UUID, field []string, c *models.Customer) error {
	err := tx.NewSelect().Model(c).Where("c.organization_id = ?", db.Org(ctx)).Where("c.customer_id = ?", id).
		For("NO KEY UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.OnField(apperr.NotFound, field, "no customer with this id")
	}
	if err != nil {
		return fmt.Errorf("read customer: %w", err)
	}
	return nil
}

// marketingConsentHistory appends the MARKETING_EMAIL row of a marketingConsent set through
// createCustomer or updateCustomer (§11: the boolean is that purpose's current state), with
// no channel: those inputs have none.
func marketingConsentHistory(ctx context.Context, tx bun.Tx, p auth.Principal, c *models.Customer, changed []string) error {
	if !slices.Contains(changed, "marketing_consent") {
		return nil
	}
	_, err := appendConsent(ctx, tx, p, c, models.ConsentMarketingEmail, c.MarketingConsent, nil, nil)
	return err
}

// refuseTakenDocument is TAKEN when another customer of the organization holds c's
// document under another spelling: a row stored before §10's canonical form (8-0123-004567
// for 8-123-4567), which the unique key cannot see. Rows written since are canonical, and
// the unique key refuses their repeats, also under concurrent writes.
func refuseTakenDocument(ctx context.Context, tx bun.Tx, c *models.Customer, changed []string) error {
	if c.DocumentNumber == nil || !slices.Contains(changed, "document_number") && !slices.Contains(changed, "document_type") {
		return nil
	}
	taken, err := tx.NewSelect().Table("customers").
		Where("organization_id = ?", c.OrganizationID).
		Where("document_type = ?", *c.DocumentType).
		Where(CanonicalDocumentSQL+" = ?", *c.DocumentNumber).
		Where("customer_id <> ?", c.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check document: %w", err)
	}
	if taken {
		return documentTaken()
	}
	return nil
}

// updateCustomer writes the changed columns of c and reads back what the database set
// (updated_at). Nothing changed, nothing written.
func updateCustomer(ctx context.Context, tx bun.Tx, c *models.Customer, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	if _, err := tx.NewUpdate().Model(c).Column(changed...).WherePK().Returning("*").Exec(ctx); err != nil {
		return customerWriteError(err)
	}
	return nil
}

// customerWriteError turns a violation of the per-organization unique keys of §2 into TAKEN
// on the field at fault (§3: never a 500).
func customerWriteError(err error) error {
	constraint, _ := db.IsUniqueViolation(err)
	switch constraint {
	case "customers_email_key":
		return apperr.OnField(apperr.Taken, []string{"email"}, "another customer of the organization has this email")
	case "customers_phone_key":
		return apperr.OnField(apperr.Taken, []string{"phone"}, "another customer of the organization has this phone")
	case "customers_document_key":
		return documentTaken()
	case "customers_external_id_key":
		return apperr.OnField(apperr.Taken, []string{"externalId"}, "another customer of the organization has this externalId")
	}
	return fmt.Errorf("write customer: %w", err)
}

func documentTaken() error {
	return apperr.OnField(apperr.Taken, []string{"documentNumber"}, "another customer of the organization has this document")
}
