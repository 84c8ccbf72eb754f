// Package scalars marshals the custom scalars of the schema (specification §8): UUID, DateTime
// (RFC 3339), Date (YYYY-MM-DD), Decimal (a JSON string, never a float) and JSON (an object).
package scalars

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func MarshalUUID(u uuid.UUID) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(u.String())) })
}

func UnmarshalUUID(v any) (uuid.UUID, error) {
	s, ok := v.(string)
	if !ok {
		return uuid.Nil, badInput("UUID must be a string such as \"3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01\"")
	}
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, badInput("UUID must look like \"3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01\"")
	}
	return u, nil
}

func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badInput("DateTime must be an RFC 3339 string such as \"2026-11-25T14:03:00Z\"")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !inYearRange(t.UTC()) {
		return time.Time{}, badInput("DateTime must be RFC 3339 between years 0001 and 9999 (in UTC), such as \"2026-11-25T14:03:00Z\"")
	}
	return t, nil
}

const dateLayout = "2006-01-02"

// inYearRange keeps dates within what RFC 3339 can write (found by FuzzUnmarshalDateTime:
// 9999-12-31T10:00:00-17:00 is year 10000 in UTC) and PostgreSQL can store (no year 0).
func inYearRange(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }

func MarshalDate(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(t.Format(dateLayout))) })
}

func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badInput("Date must be a string such as \"1990-04-17\"")
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil || !inYearRange(t) {
		return time.Time{}, badInput("Date must be YYYY-MM-DD, such as \"1990-04-17\"")
	}
	return t, nil
}

// MarshalDecimal writes a decimal as a string with at least two decimals: money reads
// "1250.00"; a rate such as points per currency unit keeps its extra places ("0.125").
func MarshalDecimal(d decimal.Decimal) graphql.Marshaler {
	places := int32(2)
	// String drops trailing zeros: NUMERIC(10,4) 1.0000 is "1", 0.1250 is "0.125".
	if _, frac, ok := strings.Cut(d.String(), "."); ok && int32(len(frac)) > places {
		places = int32(len(frac))
	}
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, strconv.Quote(d.StringFixed(places))) })
}

// UnmarshalDecimal reads a plain decimal string. Numbers are refused: a JSON number may have
// passed through a float on the client, which is what the string form exists to prevent.
// Scale (at most two decimals) is a business rule checked by the domain, with the field named.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	s, ok := v.(string)
	if !ok {
		return decimal.Decimal{}, badInput("Decimal must be a string such as \"1250.00\", not a number")
	}
	if !decimalPattern(s) {
		return decimal.Decimal{}, badInput("Decimal must be digits with an optional sign and decimal point, such as \"1250.00\"")
	}
	return decimal.NewFromString(s)
}

// badInput is a malformed scalar value: an error of the request (BAD_USER_INPUT, §8), which
// gqlgen reports on the argument's path, not an internal one.
func badInput(msg string) error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
}

// decimalPattern accepts [-+]digits[.digits], at most 20 digits: no exponents, spaces or NaN.
func decimalPattern(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') { // one sign: FuzzUnmarshalDecimal found "-+0"
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || len(intPart)+len(frac) > 20 {
		return false
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func MarshalJSON(m map[string]any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if m == nil {
			io.WriteString(w, "{}")
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			io.WriteString(w, "{}")
			return
		}
		w.Write(b)
	})
}

func UnmarshalJSON(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badInput("JSON must be an object")
	}
	return m, nil
}
