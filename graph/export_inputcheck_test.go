package graph

// TextRuleCaps are the Strings of the schema that have a rule, with their caps, for the
// sweep of graph_test.
func TextRuleCaps() map[string]int {
	caps := make(map[string]int, len(textRules))
	for k, r := range textRules {
		caps[k] = r.max
	}
	return caps
}
