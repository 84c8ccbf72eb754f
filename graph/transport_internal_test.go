package graph

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The response writer's compaction is encoding/json's, byte for byte: white space between
// tokens (PostgreSQL's json_build_object writes `"k" : v, …`, json.Indent new lines) left
// out, and <, >, &, U+2028, U+2029 escaped, inside strings and keys, next to escapes of
// their own (\", \\, \u0041), in random documents and in the hand-picked ones.
func TestAppendCompactJSON_IsEncodingJSONsRawMessage(t *testing.T) {
	t.Parallel()
	cases := []string{
		`{}`, `[]`, `null`, `"a"`, `1.5e3`, `{"a" : 1, "b" : [1, 2, {"c" : "<x> & y"}]}`,
		`{"k<>&" : "\u2028\u2029 \" \\ \/ \u0041 \n\t", "e" : "\\"}`,
		"{\"raw\" : \"\u2028\u2029<>&\\\\\\\"\", \"ok\":true}",
		" \t\r\n{ \"a\" :\n [ ] , \"b\" : { } } \n",
		`"é漢字🙂 \ud83d\ude42"`,
	}
	rng := rand.New(rand.NewPCG(17, 3))
	for range 2000 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // the raw characters, as PostgreSQL writes them
		if err := enc.Encode(randomJSON(rng, 0)); err != nil {
			t.Fatal(err)
		}
		src := buf.Bytes()
		if rng.IntN(2) == 0 {
			var indented bytes.Buffer
			if err := json.Indent(&indented, src, " ", []string{"  ", "\t"}[rng.IntN(2)]); err != nil {
				t.Fatal(err)
			}
			src = indented.Bytes()
		}
		cases = append(cases, string(src))
	}
	for _, src := range cases {
		want, err := json.Marshal(json.RawMessage(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := appendCompactJSON([]byte("x"), []byte(src)); string(got) != "x"+string(want) {
			t.Fatalf("%q:\ngot  %s\nwant %s", src, got[1:], want)
		}
	}
}

func randomJSON(rng *rand.Rand, depth int) any {
	switch k := rng.IntN(7); {
	case depth > 3 || k == 0:
		return randomString(rng)
	case k == 1:
		return rng.Float64() * 1e6
	case k == 2:
		return rng.IntN(2) == 0
	case k == 3:
		return nil
	case k == 4:
		list := make([]any, rng.IntN(4))
		for i := range list {
			list[i] = randomJSON(rng, depth+1)
		}
		return list
	default:
		obj := map[string]any{}
		for range rng.IntN(4) {
			obj[randomString(rng)] = randomJSON(rng, depth+1)
		}
		return obj
	}
}

func randomString(rng *rand.Rand) string {
	pieces := []string{"a", " ", "<", ">", "&", "\u2028", "\u2029", "\"", "\\", "/", "\n", "\t", "\x01", "é", "漢", "🙂", "\u00e2", "{", "}", "[", "]", ":", ","}
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// writeResponse writes data alone without encoding/json, and everything else with it, the
// same bytes either way.
func TestWriteResponse_IsEncodingJSONs(t *testing.T) {
	t.Parallel()
	yes := true
	for _, r := range []*graphql.Response{
		nil,
		{Data: json.RawMessage(`{"customer" : {"firstName" : "<Ana> & \u2028"}}`)},
		{Data: json.RawMessage(`null`)},
		{Data: nil},
		{Data: json.RawMessage(`{"a":1}`), Errors: gqlerror.List{{Message: "x < y"}}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"k": "<v>"}},
		{Data: json.RawMessage(`{"a":1}`), HasNext: &yes, Label: "l"},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeResponse(&got, r)
		if got.String() != string(want) {
			t.Errorf("%+v:\ngot  %s\nwant %s", r, got.String(), want)
		}
	}
}
