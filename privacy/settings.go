package privacy

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// DefaultResponseDays is how many business days an organization has to answer a privacy
// request until an admin sets another count (docs/decisions-privacy.md: why 10). The
// migration's DEFAULT says the same.
const DefaultResponseDays = 10

// Bounds of the response days (the table's CHECK says the same).
const (
	minResponseDays = 1
	maxResponseDays = 90
)

// settingsOf reads the organization's settings in tx: its row, or the defaults (UpdatedAt
// zero) when it has none. lock locks the row for a change.
func settingsOf(ctx context.Context, tx bun.IDB, lock bool) (models.PrivacySettings, bool, error) {
	return db.SettingsRow(ctx, tx, models.PrivacySettings{OrganizationID: db.Org(ctx), ResponseDays: DefaultResponseDays}, lock)
}

// Settings returns the organization's privacy settings (admin): stored, or the defaults.
func (s *Service) Settings(ctx context.Context) (*models.PrivacySettings, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	var st models.PrivacySettings
	err := db.Read(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		st, _, err = settingsOf(ctx, tx, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// UpdateSettings changes the organization's privacy settings (admin). responseDays is
// 1–90 business days; it applies to the requests recorded afterwards (a recorded request
// keeps its due date). Audited, also when nothing changes (with no changed fields); the row
// is stored on the first real change.
func (s *Service) UpdateSettings(ctx context.Context, responseDays *int) (*models.PrivacySettings, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	if v := responseDays; v != nil && (*v < minResponseDays || *v > maxResponseDays) {
		return nil, apperr.OnField(apperr.Invalid, []string{"responseDays"}, "responseDays must be between %d and %d", minResponseDays, maxResponseDays)
	}
	var st models.PrivacySettings
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var stored bool
		var err error
		if st, stored, err = settingsOf(ctx, tx, true); err != nil {
			return err
		}
		entry := audit.Entry{Action: "privacy.update_settings", EntityType: "privacy_settings"}
		if v := responseDays; v != nil && *v != st.ResponseDays {
			entry.ChangedFields = []string{"response_days"}
			entry.Details = map[string]any{"old_response_days": st.ResponseDays, "new_response_days": *v}
			st.ResponseDays = *v
			if stored {
				_, err = tx.NewUpdate().Model(&st).Column("response_days").Where("ps.organization_id = ?", db.Org(ctx)).
					WherePK().Returning("*").Exec(ctx)
			} else {
				_, err = tx.NewInsert().Model(&st).Returning("*").Exec(ctx)
			}
			if err != nil {
				return fmt.Errorf("store privacy settings: %w", err)
			}
		}
		return audit.Record(ctx, tx, p, entry)
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}
