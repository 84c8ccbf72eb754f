package httpapi

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
)

func newTestLimiter(cfg RateLimit) *limiter {
	l := &limiter{cfg: cfg}
	l.buckets, _ = newBuckets()
	return l
}

func TestRateLimit_UserBucketRefillsAtItsRate(t *testing.T) {
	l := newTestLimiter(RateLimit{SubjectRPS: 2, SubjectBurst: 3})
	p := auth.Principal{OrganizationID: uuid.New(), UserID: uuid.New()}
	now := time.Now()
	for i := range 3 {
		if wait, _ := l.take(p, now); wait != 0 {
			t.Fatalf("request %d within the burst waits %v", i+1, wait)
		}
	}
	wait, over := l.take(p, now)
	if wait != 500*time.Millisecond || over.who != "user" {
		t.Fatalf("over the burst: wait %v for %q, want 500ms for the user (2 a second)", wait, over.who)
	}
	if wait, _ := l.take(p, now.Add(500*time.Millisecond)); wait != 0 {
		t.Fatalf("after a refill: wait %v", wait)
	}
}

func TestRateLimit_OrganizationBucketIsSharedAndARefusalTakesNothing(t *testing.T) {
	l := newTestLimiter(RateLimit{SubjectRPS: 1, SubjectBurst: 2, OrgRPS: 1, OrgBurst: 3})
	org := uuid.New()
	alice := auth.Principal{OrganizationID: org, UserID: uuid.New()}
	bob := auth.Principal{OrganizationID: org, UserID: uuid.New()}
	now := time.Now()
	for _, p := range []auth.Principal{alice, alice, bob} {
		if wait, _ := l.take(p, now); wait != 0 {
			t.Fatalf("within both bursts: wait %v", wait)
		}
	}
	// Bob still has a token of his own, the organization none: refused, and Bob's token is
	// given back.
	if wait, over := l.take(bob, now); wait != time.Second || over.who != "organization" {
		t.Fatalf("over the organization's burst: wait %v for %q", wait, over.who)
	}
	later := now.Add(time.Second) // one organization token again
	if wait, _ := l.take(bob, later); wait != 0 {
		t.Fatalf("bob after a refill: wait %v (was his token kept by the refusal?)", wait)
	}
	// Another organization has its own bucket.
	if wait, _ := l.take(auth.Principal{OrganizationID: uuid.New(), UserID: uuid.New()}, now); wait != 0 {
		t.Fatalf("another organization waits %v", wait)
	}
}

func TestRateLimit_ZeroRateIsNoLimit(t *testing.T) {
	l := newTestLimiter(RateLimit{OrgRPS: 0, SubjectRPS: 0})
	p := auth.Principal{OrganizationID: uuid.New(), UserID: uuid.New()}
	for range 1000 {
		if wait, _ := l.take(p, time.Now()); wait != 0 {
			t.Fatal("a zero rate limited a request")
		}
	}
}
