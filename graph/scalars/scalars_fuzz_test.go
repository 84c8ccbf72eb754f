package scalars

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Fuzz targets of the custom scalars (§8). For any input: no panic, a refusal is a
// BAD_USER_INPUT error, and an accepted value marshals to a form that reads back as itself.
// The committed corpus (testdata/fuzz) holds hostile inputs; CI runs each target briefly.

func marshal(t *testing.T, m interface{ MarshalGQL(w io.Writer) }) string {
	t.Helper()
	var buf bytes.Buffer
	m.MarshalGQL(&buf)
	return buf.String()
}

// unquote reads the JSON string a scalar marshalled to.
func unquote(t *testing.T, s string) string {
	t.Helper()
	var out string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("marshalled %s: not a JSON string: %v", s, err)
	}
	return out
}

func wantBadInput(t *testing.T, in any, err error) {
	t.Helper()
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) || gqlErr.Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("%#v refused with %v, want a BAD_USER_INPUT error", in, err)
	}
}

func FuzzUnmarshalUUID(f *testing.F) {
	for _, s := range []string{"3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01", "3F0E2B8C-6C1A-4F7E-9D2B-5A6C7D8E9F01",
		"{3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01}", "urn:uuid:3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01",
		"3f0e2b8c6c1a4f7e9d2b5a6c7d8e9f01", "00000000-0000-0000-0000-000000000000", "' OR 1=1 --", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := UnmarshalUUID(s)
		if err != nil {
			wantBadInput(t, s, err)
			return
		}
		out := unquote(t, marshal(t, MarshalUUID(u)))
		if out != strings.ToLower(s) || len(s) != 36 {
			t.Fatalf("%q read as %s", s, out)
		}
		if again, err := UnmarshalUUID(out); err != nil || again != u {
			t.Fatalf("%q → %s → %v, %v", s, out, again, err)
		}
	})
}

func FuzzUnmarshalDate(f *testing.F) {
	for _, s := range []string{"1990-04-17", "2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31", "1990-4-17",
		"1990-04-17T00:00:00Z", "17/04/1990", "+1990-04-17", "1990-13-01", " 1990-04-17"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := UnmarshalDate(s)
		if err != nil {
			wantBadInput(t, s, err)
			return
		}
		out := unquote(t, marshal(t, MarshalDate(d)))
		if out != s {
			t.Fatalf("%q read as %s", s, out)
		}
		if again, err := UnmarshalDate(out); err != nil || !again.Equal(d) {
			t.Fatalf("%q → %s → %v, %v", s, out, again, err)
		}
	})
}

func FuzzUnmarshalDateTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T14:03:00Z", "2026-11-25T14:03:00.123456789-05:00", "2026-11-25T14:03:00+25:00",
		"2026-11-25 14:03:00Z", "2026-11-25T14:03:00", "2026-11-25t14:03:00z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999+14:00", "2026-11-25T24:00:00Z", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := UnmarshalDateTime(s)
		if err != nil {
			wantBadInput(t, s, err)
			return
		}
		out := unquote(t, marshal(t, MarshalDateTime(d)))
		if !strings.HasSuffix(out, "Z") {
			t.Fatalf("%q marshals as %s, not in UTC", s, out)
		}
		if again, err := UnmarshalDateTime(out); err != nil || !again.Equal(d) {
			t.Fatalf("%q → %s → %v, %v", s, out, again, err)
		}
	})
}

var plainDecimal = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2,}$`)

func FuzzUnmarshalDecimal(f *testing.F) {
	for _, s := range []string{"1250.00", "-3.10", "+0.5", "0", "99999999999999999999", "1e3", "1E-2", "NaN", "Infinity",
		"0x10", " 1", "1 ", "1,000.00", ".5", "5.", "--1", "+-1", "١٢٣", "1.2.3", "12345678901234567890.1"} {
		f.Add(s, 1.5)
	}
	f.Fuzz(func(t *testing.T, s string, fl float64) {
		// Never a float: a JSON number is refused whatever its value.
		for _, n := range []any{fl, json.Number(strconv.FormatFloat(fl, 'g', -1, 64)), int64(fl)} {
			if _, err := UnmarshalDecimal(n); err == nil {
				t.Fatalf("the number %#v was accepted as a Decimal", n)
			}
		}
		d, err := UnmarshalDecimal(s)
		if err != nil {
			wantBadInput(t, s, err)
			return
		}
		if strings.ContainsAny(s, "eE") || !decimalPattern(s) {
			t.Fatalf("%q accepted: not plain digits", s)
		}
		if !d.Equal(decimal.RequireFromString(s)) {
			t.Fatalf("%q read as %s", s, d)
		}
		// Plain digits out too (at least two decimals, so up to 22 digits: a value of
		// NUMERIC(12,2), all that is stored, has 12 and reads back through UnmarshalDecimal).
		out := unquote(t, marshal(t, MarshalDecimal(d)))
		if !plainDecimal.MatchString(out) {
			t.Fatalf("%q marshals as %s: not plain digits with decimals", s, out)
		}
		if again, err := decimal.NewFromString(out); err != nil || !again.Equal(d) {
			t.Fatalf("%q → %s → %v, %v", s, out, again, err)
		}
	})
}

func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"source":"pos","tags":["a","b"],"n":1.5}`, `[]`, `null`, `"x"`, `1`,
		`{"a":{"b":{"c":[1,{"d":null}]}}}`, `{"big":123456789012345678901234567890}`, `{"\u0000":"\ud800"}`, `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// As gqlgen reads variables: numbers kept as json.Number.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		m, err := UnmarshalJSON(v)
		if err != nil {
			wantBadInput(t, v, err)
			if _, isObject := v.(map[string]any); isObject {
				t.Fatalf("the object %s was refused", data)
			}
			return
		}
		out := marshal(t, MarshalJSON(m))
		if !json.Valid([]byte(out)) || !strings.HasPrefix(out, "{") {
			t.Fatalf("%s marshals as %s", data, out)
		}
		var back any
		dec = json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil {
			t.Fatal(err)
		}
		m2, err := UnmarshalJSON(back)
		if err != nil || marshal(t, MarshalJSON(m2)) != out {
			t.Fatalf("%s → %s does not read back as itself (%v)", data, out, err)
		}
	})
}
