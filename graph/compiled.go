package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/customer360"
)

// The compiled selections of the lookups (customer, customerByEmail, …). A client sends the
// same document again and again with other ids; turning its selection into customer360's
// tree and compiling that into SQL cost a tenth of a Customer 360 read's CPU (BENCHMARKS.md,
// issue 17). The compiled selection depends only on the document, the operation, the root
// field (by response key) and the values of the variables its selection reads (a page size,
// an @include condition) — not on the root field's own arguments, the id looked up — so it is
// kept under exactly those (keptPerDocument, with its bounds). A selection that does not
// compile (an argument refused) is not kept.
var compiledLookups keptPerDocument[*customer360.Compiled]

// compiledHere is the compiled selection of the lookup field being resolved (a root field
// of typeName), from the cache or compiled now.
func compiledHere(ctx context.Context, typeName string) (*customer360.Compiled, error) {
	op := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	return compiledLookups.get(op, fc.Field.Alias+" "+typeName,
		func() []string {
			// The field's merged selection does not show which of its occurrences were
			// collected: an @include or @skip on the root field, or on a fragment around it,
			// decides that, so the variables of every directive of the operation count too.
			return sortedOnce(append(variablesIn(op.Doc, fc.Field.Selections, false),
				variablesIn(op.Doc, op.Operation.SelectionSet, true)...))
		},
		func() (*customer360.Compiled, int, error) {
			c, err := customer360.Compile(typeName, hereSelections(ctx, typeName))
			if err != nil {
				return nil, 0, err
			}
			return c, c.Size(), nil
		})
}

// variablesIn are the names of the variables that sel reads — in arguments and directives,
// or in directives only — at any depth, through fragments, sorted, once each.
func variablesIn(doc *ast.QueryDocument, sel ast.SelectionSet, directivesOnly bool) []string {
	var out []string
	visited := map[string]bool{} // fragments
	directives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			for _, a := range d.Arguments {
				out = variablesOfValue(a.Value, out)
			}
		}
	}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if !directivesOnly {
					for _, a := range s.Arguments {
						out = variablesOfValue(a.Value, out)
					}
				}
				directives(s.Directives)
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				directives(s.Directives)
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				directives(s.Directives)
				if visited[s.Name] {
					continue
				}
				visited[s.Name] = true
				if doc != nil {
					if f := doc.Fragments.ForName(s.Name); f != nil {
						directives(f.Directives)
						walk(f.SelectionSet)
					}
				}
			}
		}
	}
	walk(sel)
	return sortedOnce(out)
}

// variablesOfValue appends the names of the variables in v (at any depth of a list or an
// input object) to out.
func variablesOfValue(v *ast.Value, out []string) []string {
	if v == nil {
		return out
	}
	if v.Kind == ast.Variable {
		out = append(out, v.Raw)
	}
	for _, c := range v.Children {
		out = variablesOfValue(c.Value, out)
	}
	return out
}

// sortedOnce is names sorted, each once.
func sortedOnce(names []string) []string {
	slices.Sort(names)
	return slices.Compact(names)
}
