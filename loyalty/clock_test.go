package loyalty

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// A write that decides or stamps before it has locked its account fails (errNoClock); once
// locked, its rows are stamped from its instant a microsecond apart; a job, outside any
// write, stamps with the statement's clock.
func TestWriteClock_RefusesAnUnsetInstantInsideAWrite(t *testing.T) {
	write := context.WithValue(context.Background(), clockKey{}, &writeClock{})
	if _, err := dueAt(write); !errors.Is(err, errNoClock) {
		t.Errorf("dueAt before the lock: %v, want errNoClock", err)
	}
	if _, err := stamp(write); !errors.Is(err, errNoClock) {
		t.Errorf("stamp before the lock: %v, want errNoClock", err)
	}
	if _, err := lastStamp(write); !errors.Is(err, errNoClock) {
		t.Errorf("lastStamp before the lock: %v, want errNoClock", err)
	}

	at := time.Date(2026, 12, 7, 23, 59, 59, 999999000, time.UTC)
	startClock(write, at)
	if got, err := lastStamp(write); err != nil || !got.Equal(at) {
		t.Errorf("lastStamp before any row: %v %v, want %s", got, err, at)
	}
	for k := range 3 {
		if got, err := stamp(write); err != nil || got != at.Add(time.Duration(k)*time.Microsecond) {
			t.Errorf("stamp %d: %v %v", k, got, err)
		}
	}
	if got, err := dueAt(write); err != nil || !got.Equal(at) {
		t.Errorf("dueAt: %v %v, want %s", got, err, at)
	}
	if got, err := lastStamp(write); err != nil || !got.Equal(at.Add(2*time.Microsecond)) {
		t.Errorf("lastStamp after three rows: %v %v", got, err)
	}

	job := context.Background()
	if got, err := stamp(job); err != nil || got != any(bun.Safe("clock_timestamp()")) {
		t.Errorf("a job's stamp: %v %v, want clock_timestamp()", got, err)
	}
	if _, err := dueAt(job); !errors.Is(err, errNoClock) {
		t.Errorf("dueAt outside a write: %v, want errNoClock", err)
	}
}
