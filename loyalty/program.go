package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// Program returns the organization's settings, creating them with §4's defaults (the
// column defaults of loyalty_programs) the first time they are needed.
func (s *Service) Program(ctx context.Context) (*models.LoyaltyProgram, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	var prog *models.LoyaltyProgram
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		prog, err = findProgram(ctx, tx)
		return err
	})
	if err != nil || prog != nil {
		return prog, err
	}
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var err error
		prog, err = programOf(ctx, tx, p.OrganizationID)
		return err
	})
	return prog, err
}

// findProgram reads the organization's settings; nil when it has none yet.
func findProgram(ctx context.Context, tx bun.Tx) (*models.LoyaltyProgram, error) {
	prog := new(models.LoyaltyProgram)
	q := tx.NewSelect().Model(prog).Where("?TableAlias.organization_id = ?", orgParam)
	err := db.ScanPrepared(ctx, tx, prog, q.String(), db.Org(ctx))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read loyalty program: %w", err)
	}
	return prog, nil
}

// programOf returns the settings inside a write transaction, inserting the defaults when the
// organization has none (INSERT … ON CONFLICT DO NOTHING: two first requests at once both
// end up reading the one row).
func programOf(ctx context.Context, tx bun.Tx, org uuid.UUID) (*models.LoyaltyProgram, error) {
	prog, err := findProgram(ctx, tx)
	if err != nil || prog != nil {
		return prog, err
	}
	if _, err := tx.NewRaw("INSERT INTO loyalty_programs (organization_id) VALUES (?) ON CONFLICT DO NOTHING", org).
		Exec(ctx); err != nil {
		return nil, fmt.Errorf("create loyalty program: %w", err)
	}
	prog, err = findProgram(ctx, tx)
	if err == nil && prog == nil {
		err = errors.New("loyalty program missing after insert")
	}
	return prog, err
}

// ProgramChanges are the settings to change; nil keeps the stored value. The settings are
// never null, so a null given in the API keeps the value too.
type ProgramChanges struct {
	PointsPerCurrencyUnit *decimal.Decimal
	MultiplierBronze      *decimal.Decimal
	MultiplierSilver      *decimal.Decimal
	MultiplierGold        *decimal.Decimal
	MultiplierPlatinum    *decimal.Decimal
	ThresholdSilver       *int
	ThresholdGold         *int
	ThresholdPlatinum     *int
	QualificationMonths   *int
	TierDurationMonths    *int
	PointsLifetimeMonths  *int
	AutoEnroll            *bool
	SegmentLookbackDays   *int
	PendingDays           *int
}

var (
	maxPointsRate  = decimal.NewFromInt(1000)
	maxMultiplier  = decimal.NewFromInt(10)
	maxThreshold   = 1_000_000_000
	programColumns = map[string]string{
		"pointsPerCurrencyUnit": "points_per_currency_unit", "multiplierBronze": "multiplier_bronze",
		"multiplierSilver": "multiplier_silver", "multiplierGold": "multiplier_gold",
		"multiplierPlatinum": "multiplier_platinum", "thresholdSilver": "threshold_silver",
		"thresholdGold": "threshold_gold", "thresholdPlatinum": "threshold_platinum",
		"qualificationMonths": "qualification_months", "tierDurationMonths": "tier_duration_months",
		"pointsLifetimeMonths": "points_lifetime_months", "autoEnroll": "auto_enroll",
		"segmentLookbackDays": "segment_lookback_days", "pendingDays": "pending_days",
	}
)

// UpdateProgram changes the organization's settings (an admin's). Every invalid field is
// reported at once, as INVALID on its field; the thresholds are checked on the settings as
// they would be after the change. New settings apply to what happens next: lots keep their
// expiry, tiers their dates. An update that changes nothing writes only its audit row, with
// no changed fields.
func (s *Service) UpdateProgram(ctx context.Context, ch ProgramChanges) (*models.LoyaltyProgram, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	if err := ch.validate(); err != nil {
		return nil, err
	}
	var prog *models.LoyaltyProgram
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var err error
		if prog, err = programOf(ctx, tx, p.OrganizationID); err != nil {
			return err
		}
		if err := tx.NewSelect().Model(prog).WherePK().For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("lock loyalty program: %w", err)
		}
		before := *prog
		changed := ch.applyTo(prog)
		if err := validThresholds(prog, ch); err != nil {
			return err
		}
		// §8: audited even when nothing changed (no changed fields), as customers are; only
		// then is nothing written to the program (updated_at stays).
		if len(changed) > 0 {
			if _, err := tx.NewUpdate().Model(prog).Column(changed...).WherePK().Returning("*").Exec(ctx); err != nil {
				return fmt.Errorf("update loyalty program: %w", err)
			}
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "loyalty.program.update", EntityType: "loyalty_program", EntityID: p.OrganizationID,
			ChangedFields: changed, Details: programDiff(&before, prog, changed),
		})
	})
	if err != nil {
		return nil, err
	}
	return prog, nil
}

func (ch ProgramChanges) validate() error {
	var errs apperr.List
	rate := func(name string, v *decimal.Decimal, max decimal.Decimal, places int32) {
		switch {
		case v == nil:
		case v.IsNegative() || v.GreaterThan(max):
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{name}, "%s must be between 0 and %s", name, max))
		case !v.Equal(v.Round(places)):
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{name}, "%s has at most %d decimals", name, places))
		}
	}
	rate("pointsPerCurrencyUnit", ch.PointsPerCurrencyUnit, maxPointsRate, 4)
	rate("multiplierBronze", ch.MultiplierBronze, maxMultiplier, 2)
	rate("multiplierSilver", ch.MultiplierSilver, maxMultiplier, 2)
	rate("multiplierGold", ch.MultiplierGold, maxMultiplier, 2)
	rate("multiplierPlatinum", ch.MultiplierPlatinum, maxMultiplier, 2)
	between := func(name string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{name}, "%s must be between %d and %d", name, lo, hi))
		}
	}
	between("thresholdSilver", ch.ThresholdSilver, 1, maxThreshold)
	between("thresholdGold", ch.ThresholdGold, 1, maxThreshold)
	between("thresholdPlatinum", ch.ThresholdPlatinum, 1, maxThreshold)
	between("qualificationMonths", ch.QualificationMonths, 1, 120)
	between("tierDurationMonths", ch.TierDurationMonths, 1, 120)
	between("pointsLifetimeMonths", ch.PointsLifetimeMonths, 1, 120)
	between("segmentLookbackDays", ch.SegmentLookbackDays, 1, 3650)
	between("pendingDays", ch.PendingDays, 0, 365)
	return errs.Err()
}

// validThresholds checks silver < gold < platinum on the settings after the change, naming
// the given field of each pair that breaks it (the higher one when both were given).
func validThresholds(p *models.LoyaltyProgram, ch ProgramChanges) error {
	var errs apperr.List
	pair := func(lowName string, low int, lowGiven bool, highName string, high int, highGiven bool) {
		if low < high {
			return
		}
		field := highName
		if !highGiven && lowGiven {
			field = lowName
		}
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{field},
			"thresholds must increase: %s (%d) must be below %s (%d)", lowName, low, highName, high))
	}
	pair("thresholdSilver", p.ThresholdSilver, ch.ThresholdSilver != nil, "thresholdGold", p.ThresholdGold, ch.ThresholdGold != nil)
	pair("thresholdGold", p.ThresholdGold, ch.ThresholdGold != nil, "thresholdPlatinum", p.ThresholdPlatinum, ch.ThresholdPlatinum != nil)
	return errs.Err()
}

// applyTo sets the given settings that differ and returns their columns.
func (ch ProgramChanges) applyTo(p *models.LoyaltyProgram) []string {
	var changed []string
	dec := func(name string, dst *decimal.Decimal, v *decimal.Decimal) {
		if v != nil && !dst.Equal(*v) {
			*dst = *v
			changed = append(changed, programColumns[name])
		}
	}
	num := func(name string, dst *int, v *int) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, programColumns[name])
		}
	}
	dec("pointsPerCurrencyUnit", &p.PointsPerCurrencyUnit, ch.PointsPerCurrencyUnit)
	dec("multiplierBronze", &p.MultiplierBronze, ch.MultiplierBronze)
	dec("multiplierSilver", &p.MultiplierSilver, ch.MultiplierSilver)
	dec("multiplierGold", &p.MultiplierGold, ch.MultiplierGold)
	dec("multiplierPlatinum", &p.MultiplierPlatinum, ch.MultiplierPlatinum)
	num("thresholdSilver", &p.ThresholdSilver, ch.ThresholdSilver)
	num("thresholdGold", &p.ThresholdGold, ch.ThresholdGold)
	num("thresholdPlatinum", &p.ThresholdPlatinum, ch.ThresholdPlatinum)
	num("qualificationMonths", &p.QualificationMonths, ch.QualificationMonths)
	num("tierDurationMonths", &p.TierDurationMonths, ch.TierDurationMonths)
	num("pointsLifetimeMonths", &p.PointsLifetimeMonths, ch.PointsLifetimeMonths)
	if ch.AutoEnroll != nil && p.AutoEnroll != *ch.AutoEnroll {
		p.AutoEnroll = *ch.AutoEnroll
		changed = append(changed, programColumns["autoEnroll"])
	}
	num("segmentLookbackDays", &p.SegmentLookbackDays, ch.SegmentLookbackDays)
	num("pendingDays", &p.PendingDays, ch.PendingDays)
	return changed
}

// programDiff is the audit detail of a change: the settings are not personal data, so their
// old and new values are recorded.
func programDiff(before, after *models.LoyaltyProgram, changed []string) map[string]any {
	values := func(p *models.LoyaltyProgram) map[string]any {
		return map[string]any{
			"points_per_currency_unit": p.PointsPerCurrencyUnit.String(), "multiplier_bronze": p.MultiplierBronze.String(),
			"multiplier_silver": p.MultiplierSilver.String(), "multiplier_gold": p.MultiplierGold.String(),
			"multiplier_platinum": p.MultiplierPlatinum.String(), "threshold_silver": p.ThresholdSilver,
			"threshold_gold": p.ThresholdGold, "threshold_platinum": p.ThresholdPlatinum,
			"qualification_months": p.QualificationMonths, "tier_duration_months": p.TierDurationMonths,
			"points_lifetime_months": p.PointsLifetimeMonths, "auto_enroll": p.AutoEnroll,
			"segment_lookback_days": p.SegmentLookbackDays, "pending_days": p.PendingDays,
		}
	}
	old, cur := values(before), values(after)
	from, to := map[string]any{}, map[string]any{} // both empty when nothing changed
	for _, c := range changed {
		from[c], to[c] = old[c], cur[c]
	}
	return map[string]any{"from": from, "to": to}
}
