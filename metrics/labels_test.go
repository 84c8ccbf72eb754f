package metrics

import (
	"strings"
	"testing"
)

func TestValidOperationName_IsAGraphQLNameOfAtMost64Bytes(t *testing.T) {
	for name, want := range map[string]bool{
		"Customer360": true, "_private": true, "a": true, "A_b_9": true, strings.Repeat("x", 64): true,
		"": false, "9lives": false, "with-dash": false, "with space": false, "ñandú": false,
		strings.Repeat("x", 65): false, "Me\n": false,
	} {
		if got := validOperationName(name); got != want {
			t.Errorf("validOperationName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValidCode_IsUpperSnakeCase(t *testing.T) {
	for code, want := range map[string]bool{
		"INTERNAL": true, "BAD_USER_INPUT": true, "E2": true,
		"": false, "_X": false, "2X": false, "bad": false, "BAD-INPUT": false, strings.Repeat("X", 65): false,
	} {
		if got := validCode(code); got != want {
			t.Errorf("validCode(%q) = %v, want %v", code, got, want)
		}
	}
}

// Client-chosen names are bounded: the first max valid ones get their own series, later and
// invalid ones share "other"; the names the code adds itself do not count.
func TestBoundedLabels_KeepAtMostMaxValidValues(t *testing.T) {
	var resolved []string
	b := newBoundedLabels(2, validOperationName, func(v string) string { resolved = append(resolved, v); return v }, overflowLabel)
	b.add(anonymousOperation)
	for value, want := range map[string]string{"anonymous": "anonymous", "other": "other", "not valid!": "other"} {
		if got := b.get(value); got != want {
			t.Errorf("get(%q) = %q, want %q", value, got, want)
		}
	}
	for _, tc := range []struct{ value, want string }{
		{"First", "First"}, {"Second", "Second"}, {"First", "First"}, {"Third", "other"}, {"Second", "Second"},
	} {
		if got := b.get(tc.value); got != tc.want {
			t.Errorf("get(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
	if strings.Join(resolved, ",") != "other,anonymous,First,Second" {
		t.Fatalf("resolved %v: each value once, Third never", resolved)
	}
}

// The hot path: a known operation's series, and an unknown one's, without allocating.
func TestBoundedLabels_KnownValuesCostNoAllocation(t *testing.T) {
	m := New(Options{MaxOperations: 1})
	m.operations.get("Known")
	for _, name := range []string{"Known", "Unknown", "not valid!"} {
		if n := testing.AllocsPerRun(100, func() { m.operations.get(name) }); n != 0 {
			t.Errorf("get(%q): %v allocations", name, n)
		}
	}
}

func TestCodeOfStatus_NamesTheRefusal(t *testing.T) {
	for status, want := range map[int]string{
		401: "UNAUTHENTICATED", 403: "FORBIDDEN", 429: "RATE_LIMITED", 413: "BAD_USER_INPUT",
		400: "BAD_USER_INPUT", 405: "BAD_USER_INPUT", 503: "UNAVAILABLE", 500: "INTERNAL",
	} {
		if got := codeOfStatus(status); got != want {
			t.Errorf("codeOfStatus(%d) = %s, want %s", status, got, want)
		}
	}
}
