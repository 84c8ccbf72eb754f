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

// BenchmarkAppendCompactJSON compacts a page of 50 customers spaced as PostgreSQL's
// json_build_object and json_agg write them (`"k" : v, "k2" : [a, b]`), about Q2's answer.
//
//	go test ./graph/ -run '^$' -bench AppendCompactJSON
func BenchmarkAppendCompactJSON(b *testing.B) {
	customer := map[string]any{
		"id": "ba7a3712-f9c9-d449-b4e0-576029b33b85", "customerType": "B2C", "firstName": "Diego",
		"lastName": "Núñez", "email": "user86399@example.com", "phone": "+50760086399", "status": "ACTIVE",
		"createdAt": "2025-08-22T23:59:59Z", "lastPurchaseAt": "2026-10-27T00:00:00Z",
		"addresses": []any{map[string]any{"id": "09c8cad6-035c-419d-8025-b63f941c9754", "addressType": "SHIPPING",
			"addressLine1": "Calle 1 Casa 399", "city": "Panamá", "country": "PA", "isDefault": true}},
		"loyaltyAccount": map[string]any{"pointsBalance": 1200, "tier": "SILVER", "lifetimePoints": 5400,
			"transactions": map[string]any{"nodes": []any{
				map[string]any{"type": "EARN", "points": 120, "createdAt": "2026-10-27T00:00:00Z"},
				map[string]any{"type": "REDEEM", "points": -300, "createdAt": "2026-09-01T10:11:12.5Z"}}}},
		"creditAccount": nil,
		"segment":       map[string]any{"segmentCode": "LOYAL", "rfmScore": "454", "lifetimeValue": "1520.40", "isVip": false},
	}
	nodes := make([]any, 50)
	for i := range nodes {
		nodes[i] = customer
	}
	page, err := json.Marshal(map[string]any{"customers": map[string]any{"nodes": nodes}})
	if err != nil {
		b.Fatal(err)
	}
	src := bytes.ReplaceAll(bytes.ReplaceAll(page, []byte(`":`), []byte(`" : `)), []byte(`,"`), []byte(`, "`))
	src = bytes.ReplaceAll(src, []byte(`},{`), []byte(`}, {`))
	dst := make([]byte, 0, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = appendCompactJSON(dst[:0], src)
	}
}
