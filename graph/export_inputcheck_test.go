package graph

// TextRuleKeys are the Strings of the schema that have a rule, for the sweep of graph_test.
func TextRuleKeys() []string {
	keys := make([]string, 0, len(textRules))
	for k := range textRules {
		keys = append(keys, k)
	}
	return keys
}
