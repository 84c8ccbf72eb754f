package credit

import (
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"customerservice/apperr"
)

// maxMoney bounds every amount: NUMERIC(12,2) holds less than 10^10. Checked in Go before
// any SQL, like the scale, because the database would round a third decimal silently.
var maxMoney = decimal.New(1, 10)

// checkAmount is the rule of charge and payment amounts (§5): greater than zero, at most
// two decimals, below 10^10.
func checkAmount(d decimal.Decimal, field []string) *apperr.Error {
	if !d.IsPositive() {
		return apperr.OnField(apperr.Invalid, field, "must be greater than zero")
	}
	return checkMoney(d, field)
}

// checkLimit is the rule of a credit limit: at least zero, at most two decimals.
func checkLimit(d decimal.Decimal, field []string) *apperr.Error {
	if d.IsNegative() {
		return apperr.OnField(apperr.Invalid, field, "must not be negative")
	}
	return checkMoney(d, field)
}

func checkMoney(d decimal.Decimal, field []string) *apperr.Error {
	// By value: "10.10" and "10.100" are the same two-decimal amount; "10.001" is not.
	if !d.Equal(d.Truncate(2)) {
		return apperr.OnField(apperr.Invalid, field, "must have at most two decimals")
	}
	if d.Abs().GreaterThanOrEqual(maxMoney) {
		return apperr.OnField(apperr.Invalid, field, "must be less than 10000000000")
	}
	return nil
}

// money formats an amount for a message, as the API writes it ("1250.00").
func money(d decimal.Decimal) string { return d.StringFixed(2) }

// checkKey is the rule of an idempotency key (orderId, paymentReference): 1–100
// characters, not blank. It is stored and compared exactly as given.
func checkKey(key string, field []string) *apperr.Error {
	if isBlank(key) {
		return apperr.OnField(apperr.Invalid, field, "must not be empty")
	}
	if utf8.RuneCountInString(key) > 100 {
		return apperr.OnField(apperr.Invalid, field, "must be at most 100 characters")
	}
	if !utf8.ValidString(key) || containsNUL(key) {
		return apperr.OnField(apperr.Invalid, field, "must be valid text")
	}
	return nil
}

// optionalText checks a free-text field (notes, reasons): at most max characters; a blank
// value is stored as NULL.
func optionalText(s *string, max int, field []string) (*string, *apperr.Error) {
	if s == nil || isBlank(*s) {
		return nil, nil
	}
	if !utf8.ValidString(*s) || containsNUL(*s) {
		return nil, apperr.OnField(apperr.Invalid, field, "must be valid text")
	}
	if utf8.RuneCountInString(*s) > max {
		return nil, apperr.OnField(apperr.Invalid, field, "must be at most %d characters", max)
	}
	v := *s
	return &v, nil
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func containsNUL(s string) bool { return strings.ContainsRune(s, 0) }
