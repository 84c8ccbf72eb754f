package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"customerservice/auth"
)

// RateLimit is a token bucket per organization and one per user (the token's subject):
// each request takes a token from both, and a bucket refills RPS tokens a second up to
// Burst. A zero RPS turns that bucket off. The buckets live in this process: with N
// replicas behind a load balancer, an organization may make up to N times as many requests.
type RateLimit struct {
	OrgRPS       float64
	OrgBurst     int
	SubjectRPS   float64
	SubjectBurst int
}

// maxBuckets bounds the memory of the limiter: the least recently seen organization or user
// loses its bucket first (and starts again with a full one).
const maxBuckets = 100_000

type limiter struct {
	cfg     RateLimit
	mu      sync.Mutex // makes get-or-create of a bucket atomic
	buckets *lru.Cache[string, *rate.Limiter]
}

// rateLimited answers 429 with Retry-After and a GraphQL error coded RATE_LIMITED when the
// caller's organization or user is over its rate. It runs after authentication.
func rateLimited(cfg RateLimit, next http.Handler) http.Handler {
	if cfg.OrgRPS <= 0 && cfg.SubjectRPS <= 0 {
		return next
	}
	buckets, _ := newBuckets()
	l := &limiter{cfg: cfg, buckets: buckets}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		wait, over := l.take(p, time.Now())
		if wait == 0 {
			next.ServeHTTP(w, r)
			return
		}
		seconds := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(seconds))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"errors":[{"message":"too many requests for this %s (at most %g a second, bursts of %d): retry after %d s","extensions":{"code":"RATE_LIMITED","retryAfter":%d}}]}`,
			over.who, over.rps, over.burst, seconds, seconds)
	})
}

// bucketOf is one of a caller's buckets.
type bucketOf struct {
	who, key string
	rps      float64
	burst    int
}

// take takes a token from the user's bucket and the organization's. When either is empty
// it takes none and returns how long until one is available, and which bucket it was.
func (l *limiter) take(p auth.Principal, now time.Time) (time.Duration, bucketOf) {
	var taken []*rate.Reservation
	release := func() {
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	for _, b := range []bucketOf{
		{"user", "user:" + p.OrganizationID.String() + ":" + p.UserID.String(), l.cfg.SubjectRPS, l.cfg.SubjectBurst},
		{"organization", "org:" + p.OrganizationID.String(), l.cfg.OrgRPS, l.cfg.OrgBurst},
	} {
		if b.rps <= 0 {
			continue
		}
		r := l.bucket(b.key, b.rps, b.burst).ReserveN(now, 1)
		taken = append(taken, r)
		if wait := r.DelayFrom(now); wait > 0 {
			release()
			return wait, b
		}
	}
	return 0, bucketOf{}
}

func newBuckets() (*lru.Cache[string, *rate.Limiter], error) {
	return lru.New[string, *rate.Limiter](maxBuckets)
}

func (l *limiter) bucket(key string, rps float64, burst int) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets.Get(key); ok {
		return b
	}
	b := rate.NewLimiter(rate.Limit(rps), max(burst, 1))
	l.buckets.Add(key, b)
	return b
}
