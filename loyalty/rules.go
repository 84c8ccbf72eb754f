package loyalty

import (
	"time"

	"github.com/shopspring/decimal"

	"customerservice/models"
)

// The pure rules of §4, in exact decimal arithmetic, with no database: the service applies
// them inside its transactions, and the seeder's bulk load (seed/ledger.go) replays plans in
// memory with the very same functions. Where the service does the same in SQL (FIFO
// consumption in consumeLots, intervals of months in make_interval), the function here is
// the rule that SQL must agree with.

// tiers in ascending order.
var tiers = []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum}

// rank is a tier's place in tiers (an unknown tier counts as bronze).
func rank(t models.Tier) int {
	for i, x := range tiers {
		if x == t {
			return i
		}
	}
	return 0
}

// NextTier is the tier above t; nil at platinum.
func NextTier(t models.Tier) *models.Tier {
	if r := rank(t); r+1 < len(tiers) {
		next := tiers[r+1]
		return &next
	}
	return nil
}

// multiplier is the earn multiplier of a tier (§4).
func multiplier(p *models.LoyaltyProgram, t models.Tier) decimal.Decimal {
	switch t {
	case models.TierSilver:
		return p.MultiplierSilver
	case models.TierGold:
		return p.MultiplierGold
	case models.TierPlatinum:
		return p.MultiplierPlatinum
	}
	return p.MultiplierBronze
}

// threshold is the qualifying points a tier needs (bronze needs none).
func threshold(p *models.LoyaltyProgram, t models.Tier) int {
	switch t {
	case models.TierSilver:
		return p.ThresholdSilver
	case models.TierGold:
		return p.ThresholdGold
	case models.TierPlatinum:
		return p.ThresholdPlatinum
	}
	return 0
}

// TierFor is the highest tier whose threshold the qualifying points reach (a threshold is
// reached with exactly its points).
func TierFor(p *models.LoyaltyProgram, qualifying int) models.Tier {
	for i := len(tiers) - 1; i > 0; i-- {
		if qualifying >= threshold(p, tiers[i]) {
			return tiers[i]
		}
	}
	return models.TierBronze
}

// EarnPoints is floor(amount × points per currency unit × multiplier of the tier) (§4),
// exact in decimal arithmetic.
func EarnPoints(p *models.LoyaltyProgram, t models.Tier, amount decimal.Decimal) decimal.Decimal {
	return amount.Mul(p.PointsPerCurrencyUnit).Mul(multiplier(p, t)).Floor()
}

// UpgradeTo is the tier an account of tier current rises to when added points join the
// qualifying points it has, "" when it stays: an upgrade is immediate and goes as high as
// the sum reaches; it never lowers a tier (that is the job's, once tier_expires_at has
// passed), and nothing but added points (> 0) moves it.
func UpgradeTo(p *models.LoyaltyProgram, current models.Tier, qualifying, added int) models.Tier {
	if NextTier(current) == nil || added <= 0 {
		return ""
	}
	if to := TierFor(p, qualifying+added); rank(to) > rank(current) {
		return to
	}
	return ""
}

// RefundReversal is how many points a refund of amount takes back from a purchase (§4):
// the purchase's earned points times the share of it refunded so far, this refund included,
// floored, less what earlier refunds already reversed — so partial refunds add up to the
// whole without rounding drift — and never more than the account's balance.
func RefundReversal(pur *models.Purchase, amount decimal.Decimal, balance int) int {
	refunded := pur.RefundedAmount.Add(amount)
	target := int(decimal.NewFromInt(int64(pur.PointsEarned)).Mul(refunded).Div(pur.Amount).Floor().IntPart())
	return max(0, min(target-pur.PointsReversed, balance))
}

// ConsumeFIFO takes points from lots holding remaining points, given oldest first (§4: the
// lot that expires first is spent first): took[i] is what lot i gives, and short what the
// lots could not cover (0 when the balance, which is the sum of the lots, allows the spend).
// consumeLots does the same to the stored lots in one statement.
func ConsumeFIFO(remaining []int, points int) (took []int, short int) {
	took = make([]int, len(remaining))
	for i, r := range remaining {
		if points <= 0 {
			break
		}
		took[i] = min(max(r, 0), points)
		points -= took[i]
	}
	return took, max(points, 0)
}

// AddMonths is t plus months as PostgreSQL adds make_interval(months => n), which is how
// lots expire (points_lifetime_months after they are earned) and tiers last
// (tier_duration_months): the same day of the month, or the month's last day when it has
// fewer days.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
