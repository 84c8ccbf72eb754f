package auth

import (
	"slices"
	"sync"
	"time"
)

// The verified-token cache. A client sends the same bearer token with every request until it
// expires; verifying it again each time (decoding its JSON, its signature, its claims) was a
// tenth of the server's CPU per Customer 360 read (BENCHMARKS.md, issue 17). A token that
// verified is remembered, by its exact text, until the earlier of its expiry and
// verifiedTTL from its verification; a token that failed is never remembered (it is verified,
// and refused, every time). The cache holds at most maxVerified tokens: when full, it is
// emptied and fills again (a simple bound: at most one verification per token per minute
// is lost).
//
// What this changes: a key removed from the JWKS still admits the tokens it signed that were
// verified in the last verifiedTTL, until then. With the key set fetched again every
// jwksRefresh (5 minutes, jwt.go), a withdrawn key stops admitting tokens within 6 minutes. Expiry is exact: a cached token is never
// accepted after its exp (the parser's 30 s leeway applies only to a token verified anew).
const (
	verifiedTTL = time.Minute
	maxVerified = 10_000
)

type verified struct {
	p     Principal
	until time.Time
}

type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]verified
	now func() time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{m: make(map[string]verified), now: time.Now}
}

// get is the principal of token if it verified in the last verifiedTTL and has not expired.
func (c *tokenCache) get(token string) (Principal, bool) {
	c.mu.RLock()
	v, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !c.now().Before(v.until) {
		return Principal{}, false
	}
	p := v.p
	p.Roles = slices.Clone(p.Roles) // each request its own: the entry is shared
	return p, true
}

// put remembers a verified token whose claims expire at exp.
func (c *tokenCache) put(token string, p Principal, exp time.Time) {
	until := c.now().Add(verifiedTTL)
	if exp.Before(until) {
		until = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxVerified {
		clear(c.m)
	}
	c.m[token] = verified{p: p, until: until}
}
