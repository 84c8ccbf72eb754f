package db

import "strconv"

// Args collects the bind parameters of a statement written by hand: Add returns the
// placeholder of a value ($1, $2, …), so request values travel as parameters and never
// as SQL text, and a statement's text depends only on its shape.
type Args struct{ values []any }

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.values = append(a.values, v)
	return "$" + strconv.Itoa(len(a.values))
}

// Values are the parameters in placeholder order.
func (a *Args) Values() []any { return a.values }
