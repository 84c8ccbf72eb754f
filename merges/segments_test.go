package merges

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Recalculations asked for while one of the organization runs fold into one run after it;
// another organization's run in its own; none runs twice at once for one organization.
func TestSegmentRuns_FoldTheRunsAskedForWhileOneRuns(t *testing.T) {
	var runs segmentRuns
	org, other := uuid.New(), uuid.New()
	release := make(chan struct{})
	var ofOrg, ofOther, orgRunning, overlap atomic.Int32
	var finished sync.WaitGroup
	finished.Add(3) // org: the first run and one folded; other: one
	run := func(n *atomic.Int32, block bool) func(context.Context) error {
		return func(context.Context) error {
			defer finished.Done()
			if block {
				if orgRunning.Add(1) > 1 {
					overlap.Add(1)
				}
				defer orgRunning.Add(-1)
			}
			if n.Add(1) == 1 && block {
				<-release
			}
			return nil
		}
	}
	runs.ask(t.Context(), org, run(&ofOrg, true))
	for range 9 {
		runs.ask(t.Context(), org, run(&ofOrg, true))
	}
	runs.ask(t.Context(), other, run(&ofOther, false))
	time.Sleep(20 * time.Millisecond) // the other organization's run is not held by org's
	if n := ofOther.Load(); n != 1 {
		t.Errorf("the other organization ran %d times while org's run was held, want 1", n)
	}
	close(release)
	finished.Wait()
	time.Sleep(20 * time.Millisecond) // nothing more may start
	if n := ofOrg.Load(); n != 2 {
		t.Errorf("org ran %d times for 10 asks during one run, want 2", n)
	}
	if n := overlap.Load(); n != 0 {
		t.Errorf("%d of org's runs overlapped", n)
	}
	runs.mu.Lock()
	defer runs.mu.Unlock()
	if len(runs.again) != 0 {
		t.Errorf("runs still recorded: %v", runs.again)
	}
}
