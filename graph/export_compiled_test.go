package graph

// CompiledCacheHolds reports whether the compiled-selection cache holds a selection of the
// document query; CompiledCacheBytes is the bytes it counts, MaxCompiledBytes its bound.
func CompiledCacheHolds(query string) bool { return compiledLookups.holds(query) }

func CompiledCacheBytes() int { return compiledLookups.size() }

const MaxCompiledBytes = maxKeptBytes
