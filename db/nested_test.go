package db_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"customerservice/db"
)

// render writes a Nested value back in a canonical form, to compare with what encoding/json
// makes of the same input.
func render(n db.Nested) string {
	switch n.Kind {
	case db.NestedNull:
		return "null"
	case db.NestedScalar:
		return fmt.Sprintf("%q", n.Text)
	}
	parts := make([]string, len(n.Items))
	for i, it := range n.Items {
		parts[i] = render(it)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// canonical is render's form of what encoding/json decodes (numbers as written).
func canonical(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case json.Number:
		return fmt.Sprintf("%q", string(v))
	case []any:
		parts := make([]string, len(v))
		for i, it := range v {
			parts[i] = canonical(it)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("unexpected %T", v)
}

func TestParseNested_ReadsWhatPostgreSQLNests(t *testing.T) {
	cases := []struct{ in, want string }{
		{`[]`, `[]`},
		{`null`, `null`},
		{`["a", null, ""]`, `["a",null,""]`},
		{`[["1","x"], [["2"],["3"]], 7]`, `[["1","x"],[["2"],["3"]],"7"]`},
		{` [ "Núñez" , "São Paulo" ] `, `["Núñez","São Paulo"]`},
		{`["say \"hi\"\\n", "tab\there", "\u00e9\ud83d\ude00"]`, `["say \"hi\"\\n","tab\there","é😀"]`},
		{`[{"k": 1}]`, `error`},
		{`["a",]`, `error`},
		{`["a"`, `error`},
		{`["a"] x`, `error`},
		{`["unterminated]`, `error`},
		{"[\"ctl\x01\"]", `error`},
		{`[true]`, `error`},
		{strings.Repeat("[", 17) + strings.Repeat("]", 17), `error`},
	}
	for _, c := range cases {
		got, err := db.ParseNested([]byte(c.in))
		if c.want == "error" {
			if err == nil {
				t.Errorf("ParseNested(%s) = %s, want an error", c.in, render(got))
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNested(%s): %v", c.in, err)
			continue
		}
		if r := render(got); r != c.want {
			t.Errorf("ParseNested(%s) = %s, want %s", c.in, r, c.want)
		}
	}
	if v, err := db.ParseNested(nil); err != nil || v.Kind != db.NestedNull {
		t.Errorf("ParseNested(nil) = %v, %v; want SQL NULL as null", v, err)
	}
	row, _ := db.ParseNested([]byte(`["x", null, ""]`))
	if it := row.Items; len(it) != 3 || string(it[0].Text) != "x" || it[1].Kind != db.NestedNull ||
		it[2].Kind != db.NestedScalar || it[2].Text == nil || len(it[2].Text) != 0 {
		t.Errorf("Items = %+v; want x, null (NULL), empty text (not NULL)", it)
	}
}

// FuzzParseNested: on arrays of strings, numbers and nulls (what the 360 statements send),
// ParseNested reads exactly what encoding/json reads; it never panics on anything.
func FuzzParseNested(f *testing.F) {
	for _, s := range []string{`["a",null,["b",["c"]],12]`, `[]`, `null`, `["\u00e9\"\\"]`,
		`[["8c6a…","2026-11-25 10:00:00.123+00","{vip,\"new client\"}"]]`, `[[`, `["\ud800"]`, `0}00`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := db.ParseNested(in)
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.UseNumber()
		var v any
		jerr := dec.Decode(&v)
		if !json.Valid(in) {
			jerr = fmt.Errorf("not one JSON value")
		}
		if jerr != nil || !onlyArraysOfScalars(v, 0) || !utf8.Valid(in) {
			return // outside the format (PostgreSQL sends valid UTF-8): an error or a value, but no panic
		}
		if err != nil {
			t.Fatalf("ParseNested(%q): %v; encoding/json reads %s", in, err, canonical(v))
		}
		if r, want := render(got), canonical(v); r != want {
			t.Fatalf("ParseNested(%q) = %s, encoding/json reads %s", in, r, want)
		}
	})
}

func onlyArraysOfScalars(v any, depth int) bool {
	switch v := v.(type) {
	case nil, string, json.Number:
		return true
	case []any:
		if depth == 16 {
			return false
		}
		for _, it := range v {
			if !onlyArraysOfScalars(it, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
