package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"

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
// kept under exactly those — the document by its SHA-256, so a key holds 32 bytes however
// long the document. Bounded: past maxCompiledFields root fields, or maxCompiledValues
// combinations of variable values of one, that map is emptied and fills again; past
// maxCompiledBytes of compiled SQL and variable values in all, everything is. A document
// longer than maxCompiledDocument (bodies may reach 1 MiB) or variable values longer than
// maxCompiledValueBytes are compiled for their request only, never kept. A selection that
// does not compile (an argument refused) is not kept.
const (
	maxCompiledFields     = 1000
	maxCompiledValues     = 64
	maxCompiledDocument   = 32 << 10
	maxCompiledValueBytes = 4 << 10
	maxCompiledBytes      = 16 << 20
)

type compiledKey struct {
	query                      [sha256.Size]byte
	operation, field, typeName string
}

type compiledField struct {
	vars     []string // the variables the selection reads, sorted
	byValues map[string]*customer360.Compiled
	bytes    int // of byValues: its keys and compiled selections
}

var compiledLookups = struct {
	sync.RWMutex
	m     map[compiledKey]*compiledField
	bytes int // of every entry's byValues, and its key's names
}{m: map[compiledKey]*compiledField{}}

// compiledHere is the compiled selection of the lookup field being resolved (a root field
// of typeName), from the cache or compiled now.
func compiledHere(ctx context.Context, typeName string) (*customer360.Compiled, error) {
	op := graphql.GetOperationContext(ctx)
	fc := graphql.GetFieldContext(ctx)
	name := ""
	if op.Operation != nil {
		name = op.Operation.Name
	}
	if len(op.RawQuery) > maxCompiledDocument {
		return customer360.Compile(typeName, hereSelections(ctx, typeName))
	}
	key := compiledKey{query: sha256.Sum256([]byte(op.RawQuery)), operation: name, field: fc.Field.Alias, typeName: typeName}

	compiledLookups.RLock()
	entry := compiledLookups.m[key]
	compiledLookups.RUnlock()
	if entry == nil {
		entry = &compiledField{vars: variablesIn(op.Doc, fc.Field.Selections), byValues: map[string]*customer360.Compiled{}}
	}
	values := ""
	if len(entry.vars) > 0 {
		vals := make([]any, len(entry.vars))
		for i, v := range entry.vars {
			vals[i] = op.Variables[v]
		}
		b, err := json.Marshal(vals)
		if err != nil {
			return nil, err
		}
		values = string(b)
	}
	compiledLookups.RLock()
	c := entry.byValues[values]
	compiledLookups.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := customer360.Compile(typeName, hereSelections(ctx, typeName))
	if err != nil || len(values) > maxCompiledValueBytes {
		return c, err
	}
	cost := len(values) + c.Size()
	compiledLookups.Lock()
	defer compiledLookups.Unlock()
	if compiledLookups.bytes+cost > maxCompiledBytes {
		clear(compiledLookups.m)
		compiledLookups.bytes = 0
	}
	if kept := compiledLookups.m[key]; kept != nil {
		entry = kept
	} else {
		if len(compiledLookups.m) >= maxCompiledFields {
			clear(compiledLookups.m)
			compiledLookups.bytes = 0
		}
		entry.bytes = len(key.operation) + len(key.field) + len(key.typeName) + sha256.Size
		compiledLookups.bytes += entry.bytes
		compiledLookups.m[key] = entry
	}
	if len(entry.byValues) >= maxCompiledValues {
		clear(entry.byValues)
		names := len(key.operation) + len(key.field) + len(key.typeName) + sha256.Size
		compiledLookups.bytes -= entry.bytes - names
		entry.bytes = names
	}
	if old := entry.byValues[values]; old != nil { // compiled meanwhile by another request
		return old, nil
	}
	entry.byValues[values] = c
	entry.bytes += cost
	compiledLookups.bytes += cost
	return c, nil
}

// variablesIn are the names of the variables that sel reads — in arguments and directives,
// at any depth, through fragments — sorted, once each.
func variablesIn(doc *ast.QueryDocument, sel ast.SelectionSet) []string {
	seen := map[string]bool{}
	visited := map[string]bool{} // fragments
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable {
			seen[v.Raw] = true
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	directives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					value(a.Value)
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
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
