package graph

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit is gqlgen's extension.FixedComplexityLimit — the same walk
// (complexity.Calculate), the same statistics, the same error and code — with the walk's
// result kept per document (keptPerDocument): it walked every field of the operation and built
// each one's argument map on every request, a tenth of a Customer 360 read's CPU (BENCHMARKS.md,
// issue 17). An operation's complexity depends on the document, the operation and the values
// of the variables given to the arguments of the fields that have a cost function of their
// own (setComplexity: the paged fields' first and last); every other field costs one plus its
// children, whatever its arguments. So the values of exactly those variables are part of the
// key; the id a lookup is given is not.
type complexityLimit struct {
	limit  int
	es     graphql.ExecutableSchema
	priced map[string]bool // "type.field", lower-cased, of the fields with a cost function
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &complexityLimit{}

// complexityKept are the operations' complexities, by document, operation and the values of
// the variables their priced fields are given.
var complexityKept keptPerDocument[int]

// complexityName is gqlgen's: its statistics stay where extension.GetComplexityStats reads them.
const complexityName = "ComplexityLimit"

func newComplexityLimit(limit int) *complexityLimit {
	var costs ComplexityRoot
	setComplexity(&costs)
	return &complexityLimit{limit: limit, priced: pricedFields(&costs)}
}

func (*complexityLimit) ExtensionName() string { return complexityName }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	def := op.Doc.Operations.ForName(op.OperationName)
	n, _ := complexityKept.get(op, "",
		func() []string { return c.pricedVariables(op.Doc, def) },
		func() (int, int, error) { return complexity.Calculate(ctx, c.es, def, op.Variables), 8, nil })
	op.Stats.SetExtension(complexityName, &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, codeGqlgenComplexity)
		return err
	}
	return nil
}

// pricedVariables are the variables given to an argument of a priced field anywhere in the
// operation (through fragments), or of a field of an interface or union, whose cost gqlgen
// takes from the types that implement it, sorted.
func (c *complexityLimit) pricedVariables(doc *ast.QueryDocument, def *ast.OperationDefinition) []string {
	if def == nil {
		return nil
	}
	var out []string
	visited := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if s.ObjectDefinition == nil || s.ObjectDefinition.Kind != ast.Object ||
					c.priced[strings.ToLower(s.ObjectDefinition.Name+"."+s.Name)] {
					for _, a := range s.Arguments {
						out = variablesOfValue(a.Value, out)
					}
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if !visited[s.Name] {
					visited[s.Name] = true
					if f := doc.Fragments.ForName(s.Name); f != nil {
						walk(f.SelectionSet)
					}
				}
			}
		}
	}
	walk(def.SelectionSet)
	return sortedOnce(out)
}

// pricedFields are the fields cr gives a cost function ("type.field", lower-cased: gqlgen
// names ComplexityRoot's members after the schema's types and fields in Go's case).
func pricedFields(cr *ComplexityRoot) map[string]bool {
	out := map[string]bool{}
	root := reflect.ValueOf(cr).Elem()
	for i := range root.NumField() {
		typ := root.Field(i)
		for j := range typ.NumField() {
			if f := typ.Field(j); f.Kind() == reflect.Func && !f.IsNil() {
				out[strings.ToLower(root.Type().Field(i).Name+"."+typ.Type().Field(j).Name)] = true
			}
		}
	}
	return out
}
