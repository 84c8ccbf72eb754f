package customers

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// §11 consents: an append-only history per customer and purpose; the current state of a
// purpose is its latest row. customers.marketing_consent is kept as the current state of
// MARKETING_EMAIL, written in the same transaction as each of its rows
// (docs/decisions-privacy.md).

// MaxConsentEvidenceLen bounds a consent's evidence text (§11).
const MaxConsentEvidenceLen = 500

// ConsentChange is the input of GrantConsent and RevokeConsent.
type ConsentChange struct {
	CustomerID uuid.UUID
	Purpose    models.ConsentPurpose
	Channel    models.ConsentChannel
	Evidence   *string // trimmed; blank is none
}

// GrantConsent records that the customer consents to the purpose (agent).
func (s *Service) GrantConsent(ctx context.Context, in ConsentChange) (*models.Consent, error) {
	return s.recordConsent(ctx, in, true)
}

// RevokeConsent records that the customer withdraws consent to the purpose (agent).
func (s *Service) RevokeConsent(ctx context.Context, in ConsentChange) (*models.Consent, error) {
	return s.recordConsent(ctx, in, false)
}

func (s *Service) recordConsent(ctx context.Context, in ConsentChange, granted bool) (*models.Consent, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	evidence, err := in.validate()
	if err != nil {
		return nil, err
	}
	var row *models.Consent
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var c models.Customer
		if err := lockCustomer(ctx, tx, in.CustomerID, []string{"customerId"}, &c); err != nil {
			return err
		}
		if err := refuseErased(&c, []string{"customerId"}); err != nil {
			return err
		}
		channel := in.Channel
		var err error
		if row, err = appendConsent(ctx, tx, p, &c, in.Purpose, granted, &channel, evidence); err != nil {
			return err
		}
		action := "consent.revoke"
		if granted {
			action = "consent.grant"
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: action, EntityType: "customer", EntityID: c.ID, ChangedFields: []string{"consents"},
			Details: map[string]any{"purpose": in.Purpose, "channel": in.Channel, "consentId": row.ID},
		})
	})
	if err != nil {
		return nil, err
	}
	return row, nil
}

func (in ConsentChange) validate() (*string, error) {
	var k checker
	if !validConsentPurpose(in.Purpose) {
		k.invalid([]string{"purpose"}, "must be MARKETING_EMAIL, MARKETING_SMS, MARKETING_WHATSAPP, PROFILING or THIRD_PARTY_SHARING")
	}
	switch in.Channel {
	case models.ConsentChannelPOS, models.ConsentChannelWeb, models.ConsentChannelApp, models.ConsentChannelCallCenter, models.ConsentChannelImport:
	default:
		k.invalid([]string{"channel"}, "must be POS, WEB, APP, CALL_CENTER or IMPORT")
	}
	var evidence *string
	if in.Evidence != nil {
		if e := strings.TrimSpace(*in.Evidence); e != "" {
			if n := utf8.RuneCountInString(e); n > MaxConsentEvidenceLen {
				k.invalid([]string{"evidence"}, "must be at most %d characters (got %d)", MaxConsentEvidenceLen, n)
			}
			evidence = &e
		}
	}
	return evidence, k.err()
}

func validConsentPurpose(p models.ConsentPurpose) bool {
	switch p {
	case models.ConsentMarketingEmail, models.ConsentMarketingSMS, models.ConsentMarketingWhatsApp,
		models.ConsentProfiling, models.ConsentThirdPartySharing:
		return true
	}
	return false
}

// appendConsent writes one row of c's consent history (c locked by the caller) and, for
// MARKETING_EMAIL, keeps c.marketing_consent its current state.
func appendConsent(ctx context.Context, tx bun.Tx, p auth.Principal, c *models.Customer, purpose models.ConsentPurpose,
	granted bool, channel *models.ConsentChannel, evidence *string) (*models.Consent, error) {
	row := &models.Consent{
		ID: uuid.New(), OrganizationID: c.OrganizationID, CustomerID: c.ID, Purpose: purpose, Granted: granted,
		Channel: channel, Evidence: evidence, RecordedBy: p.UserID,
	}
	if _, err := tx.NewInsert().Model(row).Returning("recorded_at").Exec(ctx); err != nil {
		return nil, fmt.Errorf("record consent: %w", err)
	}
	if purpose == models.ConsentMarketingEmail && c.MarketingConsent != granted {
		c.MarketingConsent = granted
		if err := updateCustomer(ctx, tx, c, []string{"marketing_consent"}); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// consentGrantedSQL is the condition that the customer at alias c currently consents to
// purpose in the organization orgSQL: MARKETING_EMAIL is the customer's marketing_consent
// (also for rows stored before the history), any other purpose its latest row.
func consentGrantedSQL(purpose models.ConsentPurpose, args *db.Args, orgSQL string) string {
	if purpose == models.ConsentMarketingEmail {
		return "c.marketing_consent"
	}
	return "(SELECT k.granted FROM customer_consents AS k WHERE k.organization_id = " + orgSQL +
		" AND k.customer_id = c.customer_id AND k.purpose = " + args.Add(string(purpose)) +
		" ORDER BY k.recorded_at DESC, k.consent_id DESC LIMIT 1) IS TRUE"
}

// forgetConsents is erasure's part of the consents (§11): every purpose c currently consents
// to is revoked (a row without channel or evidence), and the evidence text of every row is
// cleared, since it may name the customer. It returns the purposes revoked.
func forgetConsents(ctx context.Context, tx bun.Tx, p auth.Principal, c *models.Customer) ([]models.ConsentPurpose, error) {
	var granted []models.ConsentPurpose
	err := tx.NewRaw(`SELECT purpose FROM (SELECT DISTINCT ON (purpose) purpose, granted FROM customer_consents
		WHERE organization_id = ? AND customer_id = ? ORDER BY purpose, recorded_at DESC, consent_id DESC) AS latest WHERE granted`,
		c.OrganizationID, c.ID).Scan(ctx, &granted)
	if err != nil {
		return nil, fmt.Errorf("read consents: %w", err)
	}
	for _, purpose := range granted {
		if _, err := appendConsent(ctx, tx, p, c, purpose, false, nil, nil); err != nil {
			return nil, err
		}
	}
	if _, err := tx.NewRaw(`UPDATE customer_consents SET evidence = NULL WHERE organization_id = ? AND customer_id = ? AND evidence IS NOT NULL`,
		c.OrganizationID, c.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("clear consent evidence: %w", err)
	}
	if granted == nil {
		granted = []models.ConsentPurpose{}
	}
	return granted, nil
}
