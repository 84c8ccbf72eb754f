package customers

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/credit"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/segments"
)

// Erasure, the right to be forgotten (§3).

// The names an erased customer takes: the columns are NOT NULL and non-blank, and the
// record then reads as what it is.
const (
	ErasedFirstName = "Erased"
	ErasedLastName  = "Customer"
)

// Erase replaces a customer's personal data with anonymous values, in one transaction with
// the customer locked: the names become ErasedFirstName and ErasedLastName; email, phone,
// document, birth date, gender, notes and status reason are cleared (and with them the
// search text, which the database derives from names, email, phone and document); tags and
// metadata are emptied, marketing consent withdrawn, the language reset to the default;
// erased_at is set. Its addresses and its segment (a profile derived from its purchases,
// which the recalculation no longer gives erased customers) are deleted. The loyalty
// account, credit account, purchases and every amount stay, for accounting.
//
// The audit row names the changed columns only, never a value. Erasing an erased customer
// changes nothing and succeeds (a retry is safe, §8); that call is audited too, with no
// changed fields.
func (s *Service) Erase(ctx context.Context, id uuid.UUID) (*models.Customer, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	var c models.Customer
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockCustomer(ctx, tx, id, []string{"id"}, &c); err != nil {
			return err
		}
		entry := audit.Entry{Action: "customer.erase", EntityType: "customer", EntityID: c.ID}
		if c.ErasedAt != nil {
			entry.Details = map[string]any{"already_erased": true}
			return audit.Record(ctx, tx, p, entry)
		}
		changed := anonymize(&c, time.Now())
		if err := updateCustomer(ctx, tx, &c, changed); err != nil {
			return err
		}
		addresses, err := tx.NewDelete().Model((*models.Address)(nil)).
			Where("a.organization_id = ?", c.OrganizationID).Where("a.customer_id = ?", c.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete addresses: %w", err)
		}
		segmentDeleted, err := segments.Forget(ctx, tx, c.OrganizationID, c.ID)
		if err != nil {
			return err
		}
		// §11: the free text of the ledgers, in which the customer could be named, and the
		// consents: each granted purpose revoked, every evidence text cleared.
		ledgerRows, err := loyalty.ForgetText(ctx, tx, c.OrganizationID, c.ID)
		if err != nil {
			return err
		}
		creditText, err := credit.ForgetText(ctx, tx, c.OrganizationID, c.ID)
		if err != nil {
			return err
		}
		revoked, err := forgetConsents(ctx, tx, p, &c)
		if err != nil {
			return err
		}
		merges, err := forgetMerges(ctx, tx, &c)
		if err != nil {
			return err
		}
		deletedAddresses, _ := addresses.RowsAffected()
		entry.ChangedFields = changed
		entry.Details = map[string]any{"addresses_deleted": deletedAddresses, "segment_deleted": segmentDeleted,
			"ledger_texts_cleared": ledgerRows, "credit_text_cleared": creditText, "consents_revoked": revoked, "merge_answers_cleared": merges}
		return audit.Record(ctx, tx, p, entry)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ErasedMergeResult is what a merge's stored answer becomes once a customer it involved is
// erased: the answer held that customer's fields and conflicting values (§10, §11).
const ErasedMergeResult = `{"erased": true}`

// forgetMerges clears the stored answers of the merges c took part in, as survivor or as a
// merged customer, and returns how many it cleared. The merges themselves (who, when, which
// ids) stay.
func forgetMerges(ctx context.Context, tx bun.Tx, c *models.Customer) (int64, error) {
	res, err := tx.NewRaw(`UPDATE customer_merges SET result = ?::jsonb
		WHERE organization_id = ? AND (survivor_id = ? OR ? = ANY (merged_ids)) AND result <> ?::jsonb`,
		ErasedMergeResult, c.OrganizationID, c.ID, c.ID, ErasedMergeResult).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("clear the merges' answers: %w", err)
	}
	return res.RowsAffected()
}

// anonymize replaces c's personal data with the anonymous values of Erase, marks it erased
// at now, and returns the columns whose value changed.
func anonymize(c *models.Customer, now time.Time) []string {
	var changed []string
	set := func(column string, differs bool) {
		if differs {
			changed = append(changed, column)
		}
	}
	defaults := newCustomerRow()
	set("first_name", c.FirstName != ErasedFirstName)
	set("last_name", c.LastName != ErasedLastName)
	set("email", c.Email != nil)
	set("phone", c.Phone != nil)
	set("document_type", c.DocumentType != nil)
	set("document_number", c.DocumentNumber != nil)
	set("document_check_digit", c.DocumentCheckDigit != nil)
	set("birth_date", c.BirthDate != nil)
	set("gender", c.Gender != nil)
	set("status_reason", c.StatusReason != nil)
	set("preferred_language", c.PreferredLanguage != defaults.PreferredLanguage)
	set("marketing_consent", c.MarketingConsent != defaults.MarketingConsent)
	set("tags", len(c.Tags) > 0)
	set("metadata", len(c.Metadata) > 0)
	set("notes", c.Notes != nil)
	set("erased_at", true)

	c.FirstName, c.LastName = ErasedFirstName, ErasedLastName
	c.Email, c.Phone, c.DocumentType, c.DocumentNumber, c.DocumentCheckDigit = nil, nil, nil, nil, nil
	c.BirthDate, c.Gender, c.StatusReason, c.Notes = nil, nil, nil, nil
	c.PreferredLanguage, c.MarketingConsent = defaults.PreferredLanguage, defaults.MarketingConsent
	c.Tags, c.Metadata = defaults.Tags, defaults.Metadata
	at := now.UTC().Truncate(time.Microsecond) // what PostgreSQL stores
	c.ErasedAt = &at
	return changed
}

// refuseErased is the answer to a change of an erased customer: its data is not set
// again (§3), though its accounting records live on; and of a merged one, which is no
// longer written to (§10: its survivor is).
func refuseErased(c *models.Customer, field []string) error {
	if c.Status == models.CustomerStatusMerged {
		return apperr.OnField(apperr.InvalidState, field, "the customer was merged into %s: change that customer", c.MergedInto)
	}
	if c.ErasedAt == nil {
		return nil
	}
	return apperr.OnField(apperr.InvalidState, field, "the customer was erased: its data cannot be changed")
}
