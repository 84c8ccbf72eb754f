package auth

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// cachedVerifier is an HS256 verifier whose cache reads the clock *now.
func cachedVerifier(t *testing.T, now *time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(context.Background(), Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	v.cache.now = func() time.Time { return *now }
	return v
}

// The verifier's secret changes under a verified token: answered from the cache for a minute
// after its verification, refused once verified anew.
func TestVerify_CacheAnswersAVerifiedTokenForAMinute(t *testing.T) {
	now := time.Now()
	v := cachedVerifier(t, &now)
	c := claims(nil)
	token := hs256(t, secret, c)
	want, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	v.secret = []byte("another-secret-that-is-32-bytes-long!")
	now = now.Add(verifiedTTL - time.Millisecond)
	got, err := v.Verify(token)
	if err != nil {
		t.Fatalf("within the minute: %v", err)
	}
	if got.UserID != want.UserID || got.OrganizationID != want.OrganizationID || len(got.Roles) != 1 || got.Roles[0] != Agent {
		t.Fatalf("cached principal %+v, want %+v", got, want)
	}
	now = now.Add(time.Millisecond)
	if _, err := v.Verify(token); err == nil || err.Error() != "invalid token" {
		t.Fatalf("after the minute: err %v, want invalid token", err)
	}
}

// A token expiring within the minute is answered from the cache only until its exp (the
// parser's leeway is not extended by the cache).
func TestVerify_CacheNeverOutlivesTheTokensExpiry(t *testing.T) {
	now := time.Now()
	v := cachedVerifier(t, &now)
	exp := time.Now().Add(20 * time.Second).Truncate(time.Second)
	token := hs256(t, secret, claims(func(c *Claims) { c.ExpiresAt.Time = exp }))
	if _, err := v.Verify(token); err != nil {
		t.Fatal(err)
	}
	v.secret = []byte("another-secret-that-is-32-bytes-long!")
	now = exp.Add(-time.Millisecond)
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("before exp: %v", err)
	}
	now = exp
	if _, err := v.Verify(token); err == nil || err.Error() != "invalid token" {
		t.Fatalf("at exp: err %v, want it verified anew (invalid token)", err)
	}
}

// A refused token is not remembered: the same text verifies once the key admits it.
func TestVerify_CacheKeepsNoRefusal(t *testing.T) {
	now := time.Now()
	v := cachedVerifier(t, &now)
	other := "another-secret-that-is-32-bytes-long!"
	token := hs256(t, other, claims(nil))
	if _, err := v.Verify(token); err == nil || err.Error() != "invalid token" {
		t.Fatalf("err %v, want invalid token", err)
	}
	v.secret = []byte(other)
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("after the key changed: %v", err)
	}
	for _, bad := range []string{"", "x.y.z", token + "x"} {
		if _, err := v.Verify(bad); err == nil {
			t.Fatalf("%q verified", bad)
		}
	}
}

// The cache holds at most maxVerified tokens: the one past it empties it first.
func TestTokenCache_Bounded(t *testing.T) {
	c := newTokenCache()
	exp := time.Now().Add(time.Hour)
	p := Principal{UserID: uuid.New(), OrganizationID: uuid.New()}
	for i := range maxVerified {
		c.put(uuid.NewString()+string(rune(i)), p, exp)
	}
	if len(c.m) != maxVerified {
		t.Fatalf("%d tokens, want %d", len(c.m), maxVerified)
	}
	c.put("one more", p, exp)
	if len(c.m) != 1 {
		t.Fatalf("%d tokens after the bound, want 1", len(c.m))
	}
	if got, ok := c.get("one more"); !ok || got.UserID != p.UserID {
		t.Fatalf("the last token: %v %v", got, ok)
	}
}

// A request that changes its principal's roles does not change what the cache answers next.
func TestTokenCache_AnswersACopyOfTheRoles(t *testing.T) {
	c := newTokenCache()
	c.put("t", Principal{UserID: uuid.New(), Roles: []Role{Viewer}}, time.Now().Add(time.Hour))
	first, ok := c.get("t")
	if !ok {
		t.Fatal("not cached")
	}
	first.Roles[0] = Admin
	second, _ := c.get("t")
	if len(second.Roles) != 1 || second.Roles[0] != Viewer {
		t.Fatalf("roles after a caller changed its copy: %v, want [%v]", second.Roles, Viewer)
	}
}
