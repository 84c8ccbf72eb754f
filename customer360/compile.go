// Package customer360 is the one read path of the Customer 360 (§8): a customer and what
// hangs off it — addresses, loyalty account and its transactions, credit account with its
// aging, usages and payments, segment, purchases — as the API answers it. It owns the table
// of every field of those types (fields.go: its column or SQL expression, its JSON shape, its
// nested pages) and compiles a selection into ONE statement whose rows PostgreSQL renders as
// the answer's JSON, the approach of PostGraphile: the server copies the JSON out instead of
// decoding rows and resolving fields one by one.
//
// It knows nothing of GraphQL's libraries: the caller hands it a selection tree (Field), the
// fields asked for with their response keys and argument values. Every value of the request
// — ids, cursors, page sizes, enum filters — travels as a bind parameter (response keys that
// are GraphQL names are literals: compiler.key), so a statement's text depends only on the
// selection's shape and keys, and stays prepared.
package customer360

import (
	"errors"
	"fmt"
	"strings"

	"customerservice/apperr"
	"customerservice/db"
)

// Field is one field of a selection: its name in the schema, its response key, its
// arguments' values (nil, bool, int, string) with the schema's defaults applied, the
// directives on its definition, and the fields selected under it (fragments already
// collected for its type).
type Field struct {
	Name       string
	Alias      string
	Args       map[string]any
	Directives []string
	Selection  []Field
}

// ArgumentError is a field's argument that its rule refuses (a page size, a cursor, a
// horizon). Path holds the response keys from the compiled object to the field.
type ArgumentError struct {
	Path []string
	Err  error
}

func (e *ArgumentError) Error() string { return strings.Join(e.Path, ".") + ": " + e.Err.Error() }
func (e *ArgumentError) Unwrap() error { return e.Err }

// compiler writes one statement: the SQL of the selection and its bind parameters.
type compiler struct {
	args *db.Args
	// org is the SQL of the caller's organization (a bind parameter), or "" to correlate.
	// Each subquery then filters on it instead of on its parent row's organization_id: the
	// same rows (one organization), and on Citus a statement whose every table is filtered
	// on organization_id by a value is routed whole to that organization's shard, where a
	// subquery correlated on it cannot be pushed down (README, Scaling out).
	org  string
	path []string // response keys down to the field being compiled
	err  error
}

// fieldSQL compiles one field of an object whose row is aliased row: the SQL of its value.
type fieldSQL func(c *compiler, row string, f Field) string

// objectType is a type of the 360: its name and the SQL of each of its fields.
type objectType struct {
	name   string
	fields map[string]fieldSQL
}

// maxPairs: json_build_object takes at most 100 arguments.
const maxPairs = 50

// object is the JSON object of the fields of sel over the row aliased row, in selection
// order, each under its response key.
func (c *compiler) object(t *objectType, row string, sel []Field) string {
	pairs := make([]string, 0, 2*len(sel))
	for _, f := range sel {
		c.path = append(c.path, f.Alias)
		pairs = append(pairs, c.key(f.Alias), c.field(t, row, f))
		c.path = c.path[:len(c.path)-1]
	}
	if len(pairs) == 0 {
		return "json_build_object()"
	}
	// Past json_build_object's limit, objects of up to 50 fields are joined as text.
	var parts []string
	for len(pairs) > 0 {
		n := min(len(pairs), 2*maxPairs)
		parts = append(parts, "json_build_object("+strings.Join(pairs[:n], ", ")+")")
		pairs = pairs[n:]
	}
	if len(parts) == 1 {
		return parts[0]
	}
	// Each part's text is an object: drop exactly its closing brace (all but the last) and
	// its opening one (all but the first), and join the members.
	texts := make([]string, len(parts))
	for i, p := range parts {
		t := p + "::text"
		if i > 0 {
			t = "substr(" + t + ", 2)"
		}
		if i < len(parts)-1 {
			t = "left(" + t + ", -1)"
		}
		texts[i] = t
	}
	return "(" + strings.Join(texts, " || ', ' || ") + ")::json"
}

// key is the SQL of a response key. A key with the shape of a GraphQL name (letters,
// digits and underscores, not starting with a digit: every alias the parser accepts) is
// written as a literal, which needs no quoting; anything else travels as a bind parameter.
// Response keys were parameters too, until a lookup's compiled selection was kept per
// document (graph/compiled.go): a statement's text then depended on the shape only, but its
// 60-odd key parameters, encoded and bound on every execution, were a fifth of a full 360's
// allocations and part of its latency (BENCHMARKS.md, issue 17).
func (c *compiler) key(alias string) string {
	if !isName(alias) {
		return c.args.Add(alias) + "::text"
	}
	return "'" + alias + "'::text"
}

// isName reports whether s is a GraphQL name: /[_A-Za-z][_0-9A-Za-z]*/.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// field is the SQL of one field; __typename is the type's name.
func (c *compiler) field(t *objectType, row string, f Field) string {
	if len(f.Directives) > 0 {
		// A directive on a 360 field would be skipped silently here: refuse instead, until
		// this package implements it (TestNo360FieldCarriesADirective keeps the schema so).
		return c.fail(fmt.Errorf("customer360: %s.%s has directive @%s, which the compiler does not implement", t.name, f.Name, f.Directives[0]))
	}
	if f.Name == "__typename" {
		return "'" + t.name + "'::text"
	}
	sql, ok := t.fields[f.Name]
	if !ok {
		return c.fail(fmt.Errorf("customer360: %s has no field %q", t.name, f.Name))
	}
	out := sql(c, row, f)
	if c.org != "" {
		out = strings.ReplaceAll(out, "= "+row+".organization_id", "= "+c.org)
	}
	return out
}

// fail records the first error; the SQL written after it is never run.
func (c *compiler) fail(err error) string {
	if c.err == nil {
		c.err = err
	}
	return "NULL"
}

// argFail records an argument's refusal at the current path.
func (c *compiler) argFail(err error) string {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return c.fail(err)
	}
	return c.fail(&ArgumentError{Path: append([]string(nil), c.path...), Err: err})
}

// intArg, stringArg and boolArg read an argument (nil when absent or null).
func intArg(f Field, name string) *int {
	if v, ok := f.Args[name].(int); ok {
		return &v
	}
	return nil
}

func stringArg(f Field, name string) *string {
	if v, ok := f.Args[name].(string); ok {
		return &v
	}
	return nil
}

func boolArg(f Field, name string) bool {
	v, _ := f.Args[name].(bool)
	return v
}

// ---- scalars: the formats of the API's scalars, in SQL ------------------------------------------

// dateTime is RFC 3339 in UTC with the fraction's trailing zeros dropped, as Go's
// time.RFC3339Nano writes it (the DateTime scalar).
func dateTime(col string) string {
	return `rtrim(rtrim(to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') || 'Z'`
}

func date(col string) string { return "to_char(" + col + ", 'YYYY-MM-DD')" }

// decimal is the text of an amount: the amounts are numeric(12,2), and sums and
// differences of them keep the two decimals the Decimal scalar writes (a constant among them
// is written 0.00).
func decimal(col string) string { return col + "::text" }

// enum is a stored lower-case value as the API's UPPER_CASE one (§8).
func enum(col string) string { return "upper(" + col + "::text)" }

// asIs reads a column as it is: text, integers, booleans, uuids (JSON strings), arrays, json.
func asIs(col string) string { return col }

// column is a field reading one column of the row, formatted.
func column(name string, format func(string) string) fieldSQL {
	return func(_ *compiler, row string, _ Field) string { return format(row + "." + name) }
}

// expr is a field computed from the row: sql gets the row's alias.
func expr(sql func(row string) string) fieldSQL {
	return func(_ *compiler, row string, _ Field) string { return sql(row) }
}

// one is a field holding the object of type t in the one row (or none: null) that from
// (`table AS alias WHERE …`, correlated to the parent row) selects.
func one(t *objectType, alias, from string) fieldSQL {
	return func(c *compiler, row string, f Field) string {
		return "(SELECT " + c.object(t, alias, f.Selection) + " FROM " + strings.ReplaceAll(from, "{row}", row) + ")"
	}
}
