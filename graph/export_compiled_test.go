package graph

import "crypto/sha256"

// CompiledCacheHolds reports whether the compiled-selection cache holds a selection of the
// document query; CompiledCacheBytes is the bytes it counts, MaxCompiledBytes its bound.
func CompiledCacheHolds(query string) bool {
	h := sha256.Sum256([]byte(query))
	compiledLookups.RLock()
	defer compiledLookups.RUnlock()
	for k := range compiledLookups.m {
		if k.query == h {
			return true
		}
	}
	return false
}

func CompiledCacheBytes() int {
	compiledLookups.RLock()
	defer compiledLookups.RUnlock()
	return compiledLookups.bytes
}

const MaxCompiledBytes = maxCompiledBytes
