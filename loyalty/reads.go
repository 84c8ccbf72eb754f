package loyalty

import (
	"time"

	"customerservice/apperr"
)

// The account's read fields — its transactions, purchases, tier progress and expiring
// points — are rendered by package customer360 from this package's rules (NextTier,
// QualifyingSQL, ValidDays).

// ValidDays checks the horizon of pointsExpiringSoon: 1–365 days.
func ValidDays(days int) error {
	if days < 1 || days > 365 {
		return apperr.OnField(apperr.Invalid, []string{"days"}, "days must be between 1 and 365")
	}
	return nil
}

// ValidInstant reads the instant of asOf (§13): RFC 3339, and not later than now (the
// server's clock; CreditAccount.asOf refuses it alike), else INVALID on at.
func ValidInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.OnField(apperr.Invalid, []string{"at"}, "at must be an RFC 3339 date and time")
	}
	if t.After(time.Now()) {
		return time.Time{}, apperr.OnField(apperr.Invalid, []string{"at"}, "at must not be later than now")
	}
	return t, nil
}
