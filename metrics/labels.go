package metrics

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Label values that stand for many.
const (
	overflowLabel      = "other"     // a value over the bound, or not a valid one
	anonymousOperation = "anonymous" // an operation without a name
	unknownOperation   = "unknown"   // no operation was read: refused before GraphQL, or unparsable
	otherCode          = "OTHER"     // an error code over the bound, invalid, or missing
)

const (
	maxCodes = 50 // error codes are the server's own: a handful in practice
)

// boundedLabels keeps the series of at most max distinct label values, resolved once: a
// lookup of a known value is a map read without lock or allocation. A value that is not
// valid, or comes when max are known, gets the overflow value's series.
type boundedLabels[T any] struct {
	max      int
	valid    func(string) bool
	resolve  func(string) T
	overflow T

	mu      sync.Mutex // serializes additions
	fixed   int        // values added by the code (add), not counted against max
	current atomic.Pointer[map[string]T]
}

func newBoundedLabels[T any](max int, valid func(string) bool, resolve func(string) T, overflow string) *boundedLabels[T] {
	b := &boundedLabels[T]{max: max, valid: valid, resolve: resolve, overflow: resolve(overflow)}
	known := map[string]T{overflow: b.overflow}
	b.current.Store(&known)
	b.fixed = 1
	return b
}

// add makes value known without counting it against the bound.
func (b *boundedLabels[T]) add(value string) T {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fixed++
	return b.insert(value)
}

// get is the series of value.
func (b *boundedLabels[T]) get(value string) T {
	if t, ok := (*b.current.Load())[value]; ok {
		return t
	}
	if !b.valid(value) {
		return b.overflow
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	known := *b.current.Load()
	if t, ok := known[value]; ok {
		return t
	}
	if len(known)-b.fixed >= b.max {
		return b.overflow
	}
	return b.insert(value)
}

// insert adds value (mu held): a copy of the map, so that readers never lock.
func (b *boundedLabels[T]) insert(value string) T {
	known := *b.current.Load()
	next := make(map[string]T, len(known)+1)
	for k, v := range known {
		next[k] = v
	}
	value = strings.Clone(value) // not a slice of a request body, kept alive forever
	t := b.resolve(value)
	next[value] = t
	b.current.Store(&next)
	return t
}

// validOperationName is ^[A-Za-z_][A-Za-z0-9_]{0,63}$: a GraphQL name of at most 64 bytes.
func validOperationName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// validCode is ^[A-Z][A-Z0-9_]{0,63}$, the shape of the service's error codes.
func validCode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
		case (c == '_' || c >= '0' && c <= '9') && i > 0:
		default:
			return false
		}
	}
	return true
}
