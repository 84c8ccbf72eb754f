package loyalty

import (
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"customerservice/models"
)

// program is §4's defaults (the column defaults of loyalty_programs).
func program() *models.LoyaltyProgram {
	return &models.LoyaltyProgram{
		PointsPerCurrencyUnit: decimal.NewFromInt(1),
		MultiplierBronze:      decimal.RequireFromString("1.00"),
		MultiplierSilver:      decimal.RequireFromString("1.25"),
		MultiplierGold:        decimal.RequireFromString("1.50"),
		MultiplierPlatinum:    decimal.RequireFromString("2.00"),
		ThresholdSilver:       1000,
		ThresholdGold:         5000,
		ThresholdPlatinum:     15000,
	}
}

func TestEarnPoints_FloorsFractionalPoints(t *testing.T) {
	tests := []struct {
		tier   models.Tier
		amount string
		want   int64
	}{
		{models.TierBronze, "10.99", 10},
		{models.TierBronze, "0.99", 0},
		{models.TierSilver, "10.00", 12}, // 12.5
		{models.TierSilver, "7.99", 9},   // 9.9875
		{models.TierGold, "7.33", 10},    // 10.995
		{models.TierPlatinum, "0.49", 0}, // 0.98
		{models.TierPlatinum, "0.50", 1}, // exactly 1: no float rounding down to 0
		{models.TierGold, "100.00", 150}, // whole
		{"unknown", "10.50", 10},         // an unknown tier earns as bronze
		{models.TierPlatinum, "1234.56", 2469},
	}
	for _, tc := range tests {
		got := EarnPoints(program(), tc.tier, decimal.RequireFromString(tc.amount))
		if !got.Equal(decimal.NewFromInt(tc.want)) {
			t.Errorf("EarnPoints(%s, %s) = %s, want %d", tc.tier, tc.amount, got, tc.want)
		}
	}
}

func TestEarnPoints_ScalesWithPointsPerCurrencyUnit(t *testing.T) {
	p := program()
	p.PointsPerCurrencyUnit = decimal.RequireFromString("0.1")
	if got := EarnPoints(p, models.TierBronze, decimal.RequireFromString("19.99")); !got.Equal(decimal.NewFromInt(1)) {
		t.Fatalf("0.1 point per unit on 19.99 = %s, want 1", got)
	}
}

func TestTierFor_ReachesAThresholdWithExactlyItsPoints(t *testing.T) {
	tests := []struct {
		qualifying int
		want       models.Tier
	}{
		{-5, models.TierBronze}, {0, models.TierBronze}, {999, models.TierBronze},
		{1000, models.TierSilver}, {1001, models.TierSilver}, {4999, models.TierSilver},
		{5000, models.TierGold}, {14999, models.TierGold},
		{15000, models.TierPlatinum}, {1 << 30, models.TierPlatinum},
	}
	for _, tc := range tests {
		if got := TierFor(program(), tc.qualifying); got != tc.want {
			t.Errorf("TierFor(%d) = %s, want %s", tc.qualifying, got, tc.want)
		}
	}
}

func TestNextTier_IsTheOneAboveAndNoneAtPlatinum(t *testing.T) {
	tests := []struct {
		tier models.Tier
		want models.Tier // "" for none
	}{
		{models.TierBronze, models.TierSilver}, {models.TierSilver, models.TierGold},
		{models.TierGold, models.TierPlatinum}, {models.TierPlatinum, ""},
	}
	for _, tc := range tests {
		got := NextTier(tc.tier)
		if (got == nil) != (tc.want == "") || got != nil && *got != tc.want {
			t.Errorf("NextTier(%s) = %v, want %q", tc.tier, got, tc.want)
		}
	}
}

func TestUpgradeTo_IsImmediateNeverDownAndOnlyWithAddedPoints(t *testing.T) {
	tests := []struct {
		name              string
		current           models.Tier
		qualifying, added int
		want              models.Tier
	}{
		{"one point short stays", models.TierBronze, 900, 99, ""},
		{"exactly the threshold upgrades", models.TierBronze, 900, 100, models.TierSilver},
		{"skips tiers the sum passes", models.TierBronze, 0, 15000, models.TierPlatinum},
		{"from silver to gold", models.TierSilver, 4000, 1000, models.TierGold},
		{"never down: gold below its threshold stays", models.TierGold, 0, 10, ""},
		{"platinum has nowhere to go", models.TierPlatinum, 20000, 500, ""},
		{"no added points, no upgrade", models.TierBronze, 5000, 0, ""},
		{"a negative movement never upgrades", models.TierBronze, 5000, -10, ""},
		{"already at the tier the sum reaches", models.TierSilver, 1000, 10, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UpgradeTo(program(), tc.current, tc.qualifying, tc.added); got != tc.want {
				t.Fatalf("UpgradeTo(%s, %d, %d) = %q, want %q", tc.current, tc.qualifying, tc.added, got, tc.want)
			}
		})
	}
}

func TestRefundReversal_PartialRefundsAddUpToTheWholeWithoutDrift(t *testing.T) {
	pur := &models.Purchase{Amount: decimal.RequireFromString("100.00"), RefundedAmount: decimal.Zero, PointsEarned: 125}
	var total int
	for _, part := range []string{"33.33", "33.33", "33.34"} {
		amount := decimal.RequireFromString(part)
		r := RefundReversal(pur, amount, 1000)
		total += r
		pur.RefundedAmount = pur.RefundedAmount.Add(amount)
		pur.PointsReversed += r
	}
	if total != 125 {
		t.Fatalf("three partial refunds of the whole reversed %d points, want all 125", total)
	}
}

func TestRefundReversal_FloorsTheShareAndIsCappedAtTheBalance(t *testing.T) {
	tests := []struct {
		name                    string
		earned, reversed        int
		amount, refunded, given string
		balance                 int
		want                    int
	}{
		{"half of 15 floors to 7", 15, 0, "10.00", "0", "5.00", 100, 7},
		{"the rest of it after the floor", 15, 7, "10.00", "5.00", "5.00", 100, 8},
		{"capped at the balance", 100, 0, "50.00", "0", "50.00", 30, 30},
		{"a zero balance reverses nothing", 100, 0, "50.00", "0", "50.00", 0, 0},
		{"a purchase that earned nothing reverses nothing", 0, 0, "50.00", "0", "50.00", 100, 0},
		{"a tiny refund may reverse nothing", 10, 0, "100.00", "0", "0.01", 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pur := &models.Purchase{
				Amount: decimal.RequireFromString(tc.amount), RefundedAmount: decimal.RequireFromString(tc.refunded),
				PointsEarned: tc.earned, PointsReversed: tc.reversed,
			}
			if got := RefundReversal(pur, decimal.RequireFromString(tc.given), tc.balance); got != tc.want {
				t.Fatalf("RefundReversal = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestConsumeFIFO_TakesTheOldestLotsFirst(t *testing.T) {
	tests := []struct {
		name      string
		remaining []int
		points    int
		took      []int
		short     int
	}{
		{"within the oldest lot", []int{50, 30, 20}, 40, []int{40, 0, 0}, 0},
		{"exactly the oldest lot", []int{50, 30, 20}, 50, []int{50, 0, 0}, 0},
		{"spills into the next", []int{50, 30, 20}, 60, []int{50, 10, 0}, 0},
		{"skips spent lots", []int{0, 30, 20}, 35, []int{0, 30, 5}, 0},
		{"the whole balance", []int{50, 30, 20}, 100, []int{50, 30, 20}, 0},
		{"more than the lots hold", []int{50, 30}, 90, []int{50, 30}, 10},
		{"nothing to take", []int{50}, 0, []int{0}, 0},
		{"no lots", nil, 5, []int{}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			took, short := ConsumeFIFO(tc.remaining, tc.points)
			if !slices.Equal(took, tc.took) || short != tc.short {
				t.Fatalf("ConsumeFIFO(%v, %d) = %v, %d; want %v, %d", tc.remaining, tc.points, took, short, tc.took, tc.short)
			}
		})
	}
}

func TestAddMonths_KeepsTheDayOrTheLastDayOfAShorterMonth(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-15", 12, "2027-01-15"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"}, // leap year
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-08-31", 6, "2027-02-28"},
		{"2026-12-31", 2, "2027-02-28"},
		{"2026-02-28", 1, "2026-03-28"}, // the day, not the month's end
		{"2026-05-10", 0, "2026-05-10"},
	}
	for _, tc := range tests {
		if got := AddMonths(day(tc.from), tc.months).Format(time.DateOnly); got != tc.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tc.from, tc.months, got, tc.want)
		}
	}
	at := time.Date(2026, 1, 31, 13, 45, 7, 123000, time.UTC)
	if got := AddMonths(at, 1); !got.Equal(time.Date(2026, 2, 28, 13, 45, 7, 123000, time.UTC)) {
		t.Errorf("AddMonths keeps the time of day: got %s", got)
	}
}
