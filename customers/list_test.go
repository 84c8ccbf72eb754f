package customers

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/apperr"
)

func TestCursor_RoundTripsForItsOrderOnly(t *testing.T) {
	id := uuid.New()
	for _, c := range []cursor{
		{Field: OrderCreatedAt, Desc: true, Key: "2026-01-02T03:04:05.123456Z", ID: id},
		{Field: OrderLastPurchaseAt, Key: negInfinity, ID: id},
		{Field: OrderLastName, Key: `O'Brien "Núñez"`, ID: id},
		{Field: OrderPointsBalance, Desc: true, Key: "-1", ID: id},
		{Field: OrderLifetimeValue, Key: lifetimeValueSentinel, ID: id},
		{Field: OrderLifetimeValue, Key: "1250.50", ID: id},
	} {
		order := Order{Field: c.Field, Desc: c.Desc}
		got, err := decodeCursor("after", c.encode(), order)
		if err != nil || got != c {
			t.Errorf("%+v: decoded %+v, %v", c, got, err)
		}
		other := Order{Field: c.Field, Desc: !c.Desc}
		if _, err := decodeCursor("after", c.encode(), other); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%+v accepted for the other direction: %v", c, err)
		}
	}
}

func TestCursor_RejectsMalformedCursors(t *testing.T) {
	id := uuid.New().String()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, s := range map[string]string{
		"empty":           "",
		"not base64":      "!!!",
		"not JSON":        enc("nope"),
		"trailing data":   enc(`{"f":"created_at","d":true,"k":"2026-01-01T00:00:00Z","id":"` + id + `"}{}`),
		"unknown field":   enc(`{"f":"email","k":"a","id":"` + id + `"}`),
		"nil id":          enc(`{"f":"created_at","d":true,"k":"2026-01-01T00:00:00Z","id":"00000000-0000-0000-0000-000000000000"}`),
		"bad time":        enc(`{"f":"created_at","d":true,"k":"2026-13-01","id":"` + id + `"}`),
		"bad integer":     enc(`{"f":"points_balance","d":true,"k":"1.5","id":"` + id + `"}`),
		"integer too big": enc(`{"f":"points_balance","d":true,"k":"99999999999","id":"` + id + `"}`),
		"exponent":        enc(`{"f":"lifetime_value","d":true,"k":"1e3","id":"` + id + `"}`),
		"NUL in text":     enc(`{"f":"last_name","d":true,"k":"a\u0000b","id":"` + id + `"}`),
	} {
		if _, err := decodeCursor("after", s, DefaultOrder); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSearchTerms_TrimsAndAddsThePhoneDigits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"  Ana   Pérez ", []string{"Ana Pérez"}},
		{"6123-4567", []string{"6123-4567", "61234567"}},
		{"+507 (6123) 45.67", []string{"+507 (6123) 45.67", "50761234567"}},
		{"61234567", []string{"61234567"}},
		{"8-AB-123", []string{"8-AB-123"}},
		{"--", []string{"--"}},
	} {
		if got := searchTerms(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("searchTerms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscapeLike_MakesWildcardsLiteral(t *testing.T) {
	if got := escapeLike(`50%_a\b`); got != `50\%\_a\\b` {
		t.Fatalf("got %s", got)
	}
}

func TestPageSize_AllowsOneToOneHundredFirstOrLast(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		first, last *int
		want        int
		backward    bool
		ok          bool
	}{
		{nil, nil, DefaultPageSize, false, true},
		{n(1), nil, 1, false, true},
		{n(100), nil, 100, false, true},
		{nil, n(100), 100, true, true},
		{n(101), nil, 0, false, false},
		{n(0), nil, 0, false, false},
		{nil, n(-1), 0, false, false},
		{n(5), n(5), 0, false, false},
	} {
		got, backward, err := pageSize(tc.first, tc.last)
		if tc.ok != (err == nil) || (tc.ok && (got != tc.want || backward != tc.backward)) {
			t.Errorf("first %v last %v: %d %v %v", tc.first, tc.last, got, backward, err)
		}
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Errorf("first %v last %v: not INVALID: %v", tc.first, tc.last, err)
		}
	}
}

func TestFilter_RejectsOverlongSearch(t *testing.T) {
	f := Filter{Search: strings.Repeat("á", MaxSearchLength)}
	if err := f.validate(); err != nil {
		t.Fatal(err)
	}
	f.Search += "a"
	if err := f.validate(); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("got %v", err)
	}
}
