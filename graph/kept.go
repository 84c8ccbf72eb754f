package graph

import (
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// keptPerDocument keeps what the server works out from a document again and again for each
// request that sends it — a lookup's compiled selection (compiled.go), an operation's
// complexity (complexity.go) — under the document, the operation, a place in it, and the
// values of the variables the result depends on (found once per document: vars), never the
// others (the id looked up). The key holds the document's text itself: comparing it is cheaper
// than hashing it (a SHA-256 of a Customer 360 document was 6 % of the read's CPU), and its
// bytes count toward the bound.
//
// Bounded: past maxKeptPlaces places, or maxKeptValues combinations of values of one, that
// map is emptied and fills again; past maxKeptBytes of documents, names and values in all,
// everything is. A document longer than maxKeptDocument (bodies may reach 1 MiB) or values
// longer than maxKeptValueBytes are worked out for their request only, never kept; so is a
// result that came with an error.
type keptPerDocument[V any] struct {
	mu    sync.RWMutex
	m     map[keptKey]*keptPlace[V]
	bytes int
}

const (
	maxKeptPlaces     = 1000
	maxKeptValues     = 64
	maxKeptDocument   = 32 << 10
	maxKeptValueBytes = 4 << 10
	maxKeptBytes      = 16 << 20
)

type keptKey struct {
	query, operation, place string
}

func (k keptKey) size() int { return len(k.query) + len(k.operation) + len(k.place) + 48 }

type keptPlace[V any] struct {
	vars     []string // the variables the result depends on, sorted
	byValues map[string]V
	bytes    int // of the key and byValues
}

// get is the value kept for the place of op's document, or the one work works out now (with
// about the bytes it holds), kept unless it came with an error.
func (k *keptPerDocument[V]) get(op *graphql.OperationContext, place string, vars func() []string, work func() (V, int, error)) (V, error) {
	if len(op.RawQuery) > maxKeptDocument {
		v, _, err := work()
		return v, err
	}
	name := ""
	if op.Operation != nil {
		name = op.Operation.Name
	}
	key := keptKey{query: op.RawQuery, operation: name, place: place}
	k.mu.RLock()
	entry := k.m[key]
	k.mu.RUnlock()
	if entry == nil {
		entry = &keptPlace[V]{vars: vars(), byValues: map[string]V{}}
	}
	values := ""
	if len(entry.vars) > 0 {
		vals := make([]any, 2*len(entry.vars))
		for i, name := range entry.vars {
			v, given := op.Variables[name]
			vals[2*i], vals[2*i+1] = given, v // a variable left out is not one given as null
		}
		b, err := json.Marshal(vals)
		if err != nil {
			var zero V
			return zero, err
		}
		values = string(b)
	}
	k.mu.RLock()
	v, ok := entry.byValues[values]
	k.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, size, err := work()
	if err != nil || len(values) > maxKeptValueBytes {
		return v, err
	}
	cost := len(values) + size
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || k.bytes+cost+key.size() > maxKeptBytes {
		k.m = map[keptKey]*keptPlace[V]{}
		k.bytes = 0
	}
	if kept := k.m[key]; kept != nil {
		entry = kept
	} else {
		if len(k.m) >= maxKeptPlaces {
			clear(k.m)
			k.bytes = 0
		}
		entry.bytes = key.size()
		k.bytes += entry.bytes
		k.m[key] = entry
	}
	if len(entry.byValues) >= maxKeptValues {
		clear(entry.byValues)
		k.bytes -= entry.bytes - key.size()
		entry.bytes = key.size()
	}
	if old, ok := entry.byValues[values]; ok { // worked out meanwhile by another request
		return old, nil
	}
	entry.byValues[values] = v
	entry.bytes += cost
	k.bytes += cost
	return v, nil
}

// holds reports whether a value of the document query is kept; size is the bytes counted.
func (k *keptPerDocument[V]) holds(query string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for key := range k.m {
		if key.query == query {
			return true
		}
	}
	return false
}

func (k *keptPerDocument[V]) size() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.bytes
}
