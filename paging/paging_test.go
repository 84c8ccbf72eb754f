package paging

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/db"
)

func valid(string) bool { return true }

func TestNewPage_SizesAndCursors(t *testing.T) {
	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	c := Cursor{Order: "created_at:desc", Key: "2026-01-01T00:00:00Z", ID: uuid.New()}
	for name, tc := range map[string]struct {
		first *int
		after *string
		want  Page
		ok    bool
	}{
		"defaults":           {nil, nil, Page{First: DefaultSize}, true},
		"empty after":        {nil, s(""), Page{First: DefaultSize}, true},
		"one":                {n(1), nil, Page{First: 1}, true},
		"a hundred":          {n(MaxSize), s(c.String()), Page{First: MaxSize, After: &c}, true},
		"zero":               {n(0), nil, Page{}, false},
		"a hundred and one":  {n(MaxSize + 1), nil, Page{}, false},
		"not a cursor":       {nil, s("!!"), Page{}, false},
		"another list's one": {nil, s(Cursor{Order: "occurred_at:desc", Key: c.Key, ID: c.ID}.String()), Page{}, false},
	} {
		got, err := NewPage(tc.first, tc.after, "created_at:desc", valid)
		if tc.ok != (err == nil) || (err != nil && !apperr.Is(err, apperr.Invalid)) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tc.ok && (got.First != tc.want.First || (got.After == nil) != (tc.want.After == nil) ||
			(got.After != nil && *got.After != *tc.want.After)) {
			t.Errorf("%s: got %+v, want %+v", name, got, tc.want)
		}
	}
}

func TestKeyset_ValuesAreParameters(t *testing.T) {
	var args db.Args
	c := Cursor{Order: "o", Key: "x'); DROP TABLE t; --", ID: uuid.New()}
	got := Keyset("t.created_at", "t.id", "<", "timestamptz", c, &args)
	if got != "(t.created_at, t.id) < ($1::timestamptz, $2::uuid)" || len(args.Values()) != 2 || args.Values()[0] != c.Key {
		t.Fatalf("%s %v", got, args.Values())
	}
}

// A cursor's wire form is base64url of json.Marshal's bytes, whatever its key holds: the plain
// keys written directly, the others (quotes, backslashes, HTML characters, control
// characters, non-ASCII names) by encoding/json.
func TestCursor_StringIsBase64OfItsJSON(t *testing.T) {
	id := uuid.MustParse("ba7a3712-f9c9-d449-b4e0-576029b33b85")
	for _, key := range []string{"", "2026-01-01T00:00:00.123456Z", "-infinity", "Ana Pérez", `a "b" \c`,
		"<x> & y", "tab\there", "\x7f", "\u2028", "1500.40", "~"} {
		for _, order := range []string{"created_at:desc", "name:asc", "o<&>"} {
			c := Cursor{Order: order, Key: key, ID: id}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.String(), base64.RawURLEncoding.EncodeToString(b); got != want {
				t.Fatalf("%q %q: %s, want %s", order, key, got, want)
			}
			back, err := Decode("after", c.String(), order, valid)
			if err != nil || back != c {
				t.Fatalf("%q %q: decoded %+v, %v", order, key, back, err)
			}
		}
	}
}

func BenchmarkCursor_String(b *testing.B) {
	c := Cursor{Order: "created_at:desc", Key: "2026-01-01T00:00:00.123456Z", ID: uuid.New()}
	for b.Loop() {
		_ = c.String()
	}
}
