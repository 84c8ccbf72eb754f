package cli

import (
	"errors"
	"math"
	"runtime/debug"
	"testing"
)

// serve sets its garbage collector's target unless GOGC is set, which then wins.
func TestSetGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	env := func(gogc string) func(string) string {
		return func(name string) string {
			if name == "GOGC" {
				return gogc
			}
			return ""
		}
	}
	if setGCPercent(env("150")) {
		t.Fatal("set with GOGC=150")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC=150: percent %d, want it left at 100", got)
	}
	if !setGCPercent(env("")) {
		t.Fatal("not set without GOGC")
	}
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Fatalf("without GOGC: percent %d, want %d", got, serveGCPercent)
	}
}

// serve sets a memory limit of nine tenths of the cgroup's, unless GOMEMLIMIT is set or
// there is no cgroup limit.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			if v, ok := m[name]; ok {
				return []byte(v), nil
			}
			return nil, errors.New("no such file")
		}
	}
	v2, v1 := cgroupMemoryFiles[0], cgroupMemoryFiles[1]
	for _, c := range []struct {
		name  string
		env   string
		files map[string]string
		want  int64
		from  string
	}{
		{"cgroup v2", "", map[string]string{v2: "1073741824\n"}, 966367638, v2},
		{"cgroup v2 without a limit", "", map[string]string{v2: "max\n", v1: "1073741824\n"}, 0, ""},
		{"cgroup v1", "", map[string]string{v1: "2000000000\n"}, 1800000000, v1},
		{"cgroup v1 without a limit", "", map[string]string{v1: "9223372036854771712\n"}, 0, ""},
		{"no cgroup", "", map[string]string{}, 0, ""},
		{"unreadable", "", map[string]string{v2: "lots"}, 0, ""},
		{"GOMEMLIMIT set", "512MiB", map[string]string{v2: "1073741824"}, 0, ""},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		got, from := setMemoryLimit(env(c.env), files(c.files))
		applied := debug.SetMemoryLimit(-1)
		wantApplied := c.want
		if wantApplied == 0 {
			wantApplied = math.MaxInt64
		}
		if got != c.want || from != c.from || applied != wantApplied {
			t.Errorf("%s: set %d from %q (runtime %d), want %d from %q", c.name, got, from, applied, c.want, c.from)
		}
	}
}
