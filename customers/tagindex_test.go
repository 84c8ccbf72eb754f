package customers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/db"
)

// A tag condition's key tells apart what its tags would blur if joined: a comma inside a tag,
// the empty list and the empty tag, any and all.
func TestTagConditionOf_TellsApartDifferentConditions(t *testing.T) {
	conds := []tagCondition{
		tagConditionOf([]string{"a,b"}, false), tagConditionOf([]string{"a", "b"}, false),
		tagConditionOf([]string{"1:a"}, false), tagConditionOf([]string{"1", "a"}, false),
		tagConditionOf(nil, false), tagConditionOf([]string{""}, false), tagConditionOf([]string{"", ""}, false),
		tagConditionOf([]string{"a", "b"}, true), tagConditionOf([]string{"b", "a"}, false),
	}
	seen := map[tagCondition]int{}
	for i, c := range conds {
		if j, ok := seen[c]; ok {
			t.Errorf("conditions %d and %d have the same key %+v", j, i, c)
		}
		seen[c] = i
	}
	if tagConditionOf([]string{}, true) != tagConditionOf(nil, true) {
		t.Error("an empty list and a nil one differ (both: no tags)")
	}
}

// IndexTags's answers are kept a minute, per database handle and organization, and only for
// conditions of at most maxTagKeptKey bytes; past maxTagDecisionBytes all are forgotten.
func TestTagDecisions_KeptAMinutePerHandleAndOrganization(t *testing.T) {
	d := &tagDecisions{m: map[tagDecisionKey]tagDecision{}}
	h, other := &db.Handle{}, &db.Handle{}
	org := uuid.New()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rare, common := tagFilter{[]string{"rare"}, false}, tagFilter{[]string{"common"}, true}
	d.keep(h, org, map[tagCondition]bool{tagConditionOf(rare.tags, false): true, tagConditionOf(common.tags, true): false}, now)

	got := map[tagCondition]bool{}
	if !d.kept(h, org, []tagFilter{rare, common}, got, now.Add(tagDecisionTTL)) ||
		!got[tagConditionOf(rare.tags, false)] || got[tagConditionOf(common.tags, true)] {
		t.Fatalf("within the minute: %v", got)
	}
	for name, ok := range map[string]bool{
		"after the minute":       d.kept(h, org, []tagFilter{rare}, map[tagCondition]bool{}, now.Add(tagDecisionTTL+time.Nanosecond)),
		"another organization":   d.kept(h, uuid.New(), []tagFilter{rare}, map[tagCondition]bool{}, now),
		"another database":       d.kept(other, org, []tagFilter{rare}, map[tagCondition]bool{}, now),
		"one condition not kept": d.kept(h, org, []tagFilter{rare, {[]string{"new"}, false}}, map[tagCondition]bool{}, now),
		"the other operator":     d.kept(h, org, []tagFilter{{rare.tags, true}}, map[tagCondition]bool{}, now),
	} {
		if ok {
			t.Errorf("%s: kept", name)
		}
	}

	long := tagFilter{[]string{strings.Repeat("x", maxTagKeptKey)}, false}
	d.keep(h, org, map[tagCondition]bool{tagConditionOf(long.tags, false): true}, now)
	if d.kept(h, org, []tagFilter{long}, map[tagCondition]bool{}, now) {
		t.Error("a condition longer than maxTagKeptKey was kept")
	}

	// Filling past the bound forgets everything kept before, then keeps on.
	big := strings.Repeat("y", maxTagKeptKey-32)
	for i := 0; d.bytes+maxTagKeptKey+64 <= maxTagDecisionBytes; i++ {
		before := d.bytes
		d.keep(h, org, map[tagCondition]bool{tagConditionOf([]string{big, fmt.Sprint(i)}, false): true}, now)
		if d.bytes <= before {
			t.Fatalf("answer %d not kept (%d bytes)", i, d.bytes)
		}
	}
	d.keep(h, org, map[tagCondition]bool{tagConditionOf([]string{big, "last"}, false): true}, now)
	if d.kept(h, org, []tagFilter{rare}, map[tagCondition]bool{}, now) || !d.kept(h, org, []tagFilter{{[]string{big, "last"}, false}}, map[tagCondition]bool{}, now) {
		t.Error("past the bound: the old answers are still kept, or the new one is not")
	}
	if d.bytes > maxTagDecisionBytes || len(d.m) != 1 {
		t.Errorf("past the bound: %d bytes in %d answers", d.bytes, len(d.m))
	}
}

// Past the bound the expired answers go first: the ones still within their minute stay.
func TestTagDecisions_PastTheBoundTheExpiredGoFirst(t *testing.T) {
	d := &tagDecisions{m: map[tagDecisionKey]tagDecision{}}
	h, org := &db.Handle{}, uuid.New()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rare := tagFilter{[]string{"rare"}, false}
	d.keep(h, org, map[tagCondition]bool{tagConditionOf(rare.tags, false): true}, now)
	big := strings.Repeat("y", maxTagKeptKey-32)
	for i := 0; d.bytes+maxTagKeptKey+64 <= maxTagDecisionBytes; i++ {
		d.keep(h, uuid.New(), map[tagCondition]bool{tagConditionOf([]string{big, fmt.Sprint(i)}, false): true}, now.Add(-2*tagDecisionTTL))
	}
	last := tagFilter{[]string{big, "last"}, false}
	d.keep(h, org, map[tagCondition]bool{tagConditionOf(last.tags, false): true}, now)
	if !d.kept(h, org, []tagFilter{rare, last}, map[tagCondition]bool{}, now) {
		t.Error("an answer within its minute was forgotten")
	}
	if len(d.m) != 2 || d.bytes != len(tagConditionOf(rare.tags, false).tags)+len(tagConditionOf(last.tags, false).tags)+2*64 {
		t.Errorf("after forgetting the expired: %d answers, %d bytes", len(d.m), d.bytes)
	}
}
