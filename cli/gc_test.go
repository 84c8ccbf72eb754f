package cli

import (
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
