package credit

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

// The defaults of a credit policy (§14), as the credit_policies migration declares them.
const (
	DefaultBlockWhenOverdueDays   = 30
	DefaultWarnUtilizationPercent = 90
	DefaultRequireSecondApprover  = true
)

// Bounds of the policy's settings (the table's CHECKs say the same).
const (
	maxBlockWhenOverdueDays = 3650
	minWarnPercent          = 1
	maxWarnPercent          = 100
)

// defaultPolicy is the policy of an organization that has not stored one.
func defaultPolicy() models.CreditPolicy {
	return models.CreditPolicy{
		BlockWhenOverdueDays:   DefaultBlockWhenOverdueDays,
		WarnUtilizationPercent: DefaultWarnUtilizationPercent,
		RequireSecondApprover:  DefaultRequireSecondApprover,
	}
}

// PolicySQL is a one-row subquery aliased pol of the credit policy of the organization org
// (SQL): its stored row, or before it has one the defaults (the customer360 compiler reads
// it for an account's policy warnings).
func PolicySQL(org string) string {
	return fmt.Sprintf(`(SELECT p.block_when_overdue_days, p.warn_utilization_percent, p.require_second_approver, false AS defaults
  FROM credit_policies AS p WHERE p.organization_id = %s
  UNION ALL SELECT %d, %d, %t, true ORDER BY 4 LIMIT 1) AS pol`,
		org, DefaultBlockWhenOverdueDays, DefaultWarnUtilizationPercent, DefaultRequireSecondApprover)
}

// policyOf reads the organization's policy in the caller's transaction: its row, or the
// defaults when it has none (nothing is written: a charge never creates settings).
func policyOf(ctx context.Context, tx bun.IDB, lock bool) (models.CreditPolicy, bool, error) {
	d := defaultPolicy()
	d.OrganizationID = db.Org(ctx)
	return db.SettingsRow(ctx, tx, d, lock)
}

// Policy returns the organization's credit policy (§14): the stored settings or, before
// an admin changed any, the defaults (UpdatedAt zero).
func (s *Service) Policy(ctx context.Context) (*models.CreditPolicy, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	var pol models.CreditPolicy
	err := db.Read(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		pol, _, err = policyOf(ctx, tx, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &pol, nil
}

// PolicyChanges are the settings to change; nil keeps the stored value.
type PolicyChanges struct {
	BlockWhenOverdueDays   *int
	WarnUtilizationPercent *int
	RequireSecondApprover  *bool
}

func (ch PolicyChanges) validate() error {
	var errs apperr.List
	if v := ch.BlockWhenOverdueDays; v != nil && (*v < 0 || *v > maxBlockWhenOverdueDays) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"blockWhenOverdueDays"},
			"blockWhenOverdueDays must be between 0 and %d", maxBlockWhenOverdueDays))
	}
	if v := ch.WarnUtilizationPercent; v != nil && (*v < minWarnPercent || *v > maxWarnPercent) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"warnUtilizationPercent"},
			"warnUtilizationPercent must be between %d and %d", minWarnPercent, maxWarnPercent))
	}
	return errs.Err()
}

// UpdatePolicy changes the organization's credit policy (an admin's, §14). Every invalid
// setting is reported at once, as INVALID on its field. The first change stores the row
// (defaults for what is not given). New settings apply to what happens next: a limit
// increase already waiting for a second manager still waits. An update that changes
// nothing writes only its audit row, with no changed fields (and stores no row: updatedAt
// stays null while the settings are the defaults).
func (s *Service) UpdatePolicy(ctx context.Context, ch PolicyChanges) (*models.CreditPolicy, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	if err := ch.validate(); err != nil {
		return nil, err
	}
	var pol models.CreditPolicy
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var (
			before  models.CreditPolicy
			changed []string
			stored  bool
			err     error
		)
		// What changes, against the stored row (locked) or the defaults. The row is created
		// only when something changes, so updatedAt stays null after a change of nothing.
		diff := func() {
			before, changed = pol, nil
			if v := ch.BlockWhenOverdueDays; v != nil && *v != pol.BlockWhenOverdueDays {
				pol.BlockWhenOverdueDays = *v
				changed = append(changed, "block_when_overdue_days")
			}
			if v := ch.WarnUtilizationPercent; v != nil && *v != pol.WarnUtilizationPercent {
				pol.WarnUtilizationPercent = *v
				changed = append(changed, "warn_utilization_percent")
			}
			if v := ch.RequireSecondApprover; v != nil && *v != pol.RequireSecondApprover {
				pol.RequireSecondApprover = *v
				changed = append(changed, "require_second_approver")
			}
		}
		if pol, stored, err = policyOf(ctx, tx, true); err != nil {
			return err
		}
		diff()
		if len(changed) > 0 && !stored {
			// A concurrent first change may create the row meanwhile: create it if missing,
			// then lock and compare again.
			if _, err := tx.NewRaw("INSERT INTO credit_policies (organization_id) VALUES (?) ON CONFLICT DO NOTHING", p.OrganizationID).
				Exec(ctx); err != nil {
				return fmt.Errorf("create credit policy: %w", err)
			}
			if pol, _, err = policyOf(ctx, tx, true); err != nil {
				return err
			}
			diff()
		}
		if len(changed) > 0 {
			if _, err := tx.NewUpdate().Model(&pol).Column(changed...).
				Where("pol.organization_id = ?", p.OrganizationID).Returning("*").Exec(ctx); err != nil {
				return fmt.Errorf("update credit policy: %w", err)
			}
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.policy.update", EntityType: "credit_policy", EntityID: p.OrganizationID,
			ChangedFields: changed, Details: policyDiff(&before, &pol, changed),
		})
	})
	if err != nil {
		return nil, err
	}
	return &pol, nil
}

// policyDiff is the audit detail of a change: the old and new value of each changed setting.
func policyDiff(before, after *models.CreditPolicy, changed []string) map[string]any {
	values := func(p *models.CreditPolicy) map[string]any {
		return map[string]any{"block_when_overdue_days": p.BlockWhenOverdueDays,
			"warn_utilization_percent": p.WarnUtilizationPercent, "require_second_approver": p.RequireSecondApprover}
	}
	old, cur := values(before), values(after)
	from, to := map[string]any{}, map[string]any{}
	for _, c := range changed {
		from[c], to[c] = old[c], cur[c]
	}
	return map[string]any{"from": from, "to": to}
}
