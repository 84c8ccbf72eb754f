package customers

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/paging"
)

func TestCursor_RoundTripsForItsOrderOnly(t *testing.T) {
	id := uuid.New()
	for _, tc := range []struct {
		order Order
		key   string
	}{
		{Order{Field: OrderCreatedAt, Desc: true}, "2026-01-02T03:04:05.123456Z"},
		{Order{Field: OrderLastPurchaseAt}, negInfinity},
		{Order{Field: OrderLastName}, `O'Brien "Núñez"`},
		{Order{Field: OrderPointsBalance, Desc: true}, "-1"},
		{Order{Field: OrderLifetimeValue}, lifetimeValueSentinel},
		{Order{Field: OrderLifetimeValue}, "1250.50"},
	} {
		c := paging.Cursor{Order: tc.order.name(), Key: tc.key, ID: id}
		s := c.String()
		got, err := decodeCursor("after", &s, tc.order)
		if err != nil || got == nil || *got != c {
			t.Errorf("%+v: decoded %+v, %v", c, got, err)
		}
		other := Order{Field: tc.order.Field, Desc: !tc.order.Desc}
		_, err = decodeCursor("after", &s, other)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "another orderBy") {
			t.Errorf("%+v accepted for the other direction: %v", c, err)
		}
	}
}

func TestCursor_EmptyIsTheFirstPage(t *testing.T) {
	empty := ""
	if c, err := decodeCursor("after", &empty, DefaultOrder); c != nil || err != nil {
		t.Fatalf("got %v, %v", c, err)
	}
}

func TestCursor_RejectsMalformedCursors(t *testing.T) {
	id := uuid.New().String()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, s := range map[string]string{
		"not base64":      "!!!",
		"not JSON":        enc("nope"),
		"trailing data":   enc(`{"o":"created_at:desc","k":"2026-01-01T00:00:00Z","id":"` + id + `"}{}`),
		"unknown order":   enc(`{"o":"email","k":"a","id":"` + id + `"}`),
		"unknown field":   enc(`{"o":"created_at:desc","k":"2026-01-01T00:00:00Z","id":"` + id + `","x":1}`),
		"nil id":          enc(`{"o":"created_at:desc","k":"2026-01-01T00:00:00Z","id":"00000000-0000-0000-0000-000000000000"}`),
		"bad time":        enc(`{"o":"created_at:desc","k":"2026-13-01","id":"` + id + `"}`),
		"bad integer":     enc(`{"o":"points_balance:desc","k":"1.5","id":"` + id + `"}`),
		"integer too big": enc(`{"o":"points_balance:desc","k":"99999999999","id":"` + id + `"}`),
		"exponent":        enc(`{"o":"lifetime_value:desc","k":"1e3","id":"` + id + `"}`),
		"NUL in text":     enc(`{"o":"last_name:desc","k":"a\u0000b","id":"` + id + `"}`),
	} {
		if _, err := decodeCursor("after", &s, DefaultOrder); !apperr.Is(err, apperr.Invalid) {
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
