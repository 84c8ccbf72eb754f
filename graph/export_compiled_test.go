package graph

// CompiledCacheHolds reports whether the compiled-selection cache holds a selection of the
// document query; CompiledCacheBytes is the bytes it counts, MaxCompiledBytes its bound.
func CompiledCacheHolds(query string) bool { return compiledLookups.holds(query) }

func CompiledCacheBytes() int { return compiledLookups.size() }

const MaxCompiledBytes = maxKeptBytes

// ComplexityKeptValues is how many combinations of variable values the complexity cache
// keeps for the document query (its operation, whichever).
func ComplexityKeptValues(query string) int {
	complexityKept.mu.RLock()
	defer complexityKept.mu.RUnlock()
	n := 0
	for k, place := range complexityKept.m {
		if k.query == query {
			n += len(place.byValues)
		}
	}
	return n
}

// PricedFields are the fields with a cost function of their own, as the complexity cache
// finds them ("type.field", lower-cased).
func PricedFields() map[string]bool {
	var costs ComplexityRoot
	setComplexity(&costs)
	return pricedFields(&costs)
}
