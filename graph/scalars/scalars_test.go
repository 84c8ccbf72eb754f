package scalars

import (
	"bytes"
	"testing"

	"github.com/shopspring/decimal"
)

func TestDecimal_MarshalsMoneyWithTwoDecimalsAndRatesExactly(t *testing.T) {
	for in, want := range map[string]string{
		"1250": `"1250.00"`, "99.5": `"99.50"`, "0": `"0.00"`, "-3.10": `"-3.10"`,
		"1.0000": `"1.00"`, "0.1250": `"0.125"`, "1.2345": `"1.2345"`,
	} {
		var buf bytes.Buffer
		MarshalDecimal(decimal.RequireFromString(in)).MarshalGQL(&buf)
		if buf.String() != want {
			t.Errorf("%s marshals as %s, want %s", in, buf.String(), want)
		}
	}
}

func TestDecimal_AcceptsOnlyPlainDecimalStrings(t *testing.T) {
	for _, ok := range []string{"1250.00", "0.5", "-3", "+7.25", "00012.10"} {
		if _, err := UnmarshalDecimal(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []any{1250.0, 12, "1e3", "NaN", "", " 1", "1.", ".5", "1,5", "Infinity", "123456789012345678901", "--1"} {
		if d, err := UnmarshalDecimal(bad); err == nil {
			t.Errorf("%v accepted as %s", bad, d)
		}
	}
}

func TestUUID_DateTime_Date_RejectMalformedInput(t *testing.T) {
	if _, err := UnmarshalUUID("3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []any{"3f0e2b8c6c1a4f7e9d2b5a6c7d8e9f01", "{3f0e2b8c-6c1a-4f7e-9d2b-5a6c7d8e9f01}", "x", 1} {
		if _, err := UnmarshalUUID(bad); err == nil {
			t.Errorf("UUID %v accepted", bad)
		}
	}
	for _, bad := range []any{"2026-13-01", "2026-02-30", "01/02/2026", "2026-1-1", 20260101} {
		if _, err := UnmarshalDate(bad); err == nil {
			t.Errorf("Date %v accepted", bad)
		}
	}
	for _, bad := range []any{"2026-11-25", "2026-11-25 10:00:00", "yesterday", 0} {
		if _, err := UnmarshalDateTime(bad); err == nil {
			t.Errorf("DateTime %v accepted", bad)
		}
	}
	if _, err := UnmarshalJSON([]any{1}); err == nil {
		t.Error("JSON array accepted as an object")
	}
}
