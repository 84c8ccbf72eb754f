package customer360

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/customers"
	"customerservice/db"
)

// Reader runs the compiled statements: each root of a read is ONE statement, sent with the
// organization setting in one round trip (db.ReadInOrg), and kept prepared (its text
// depends only on the selection's shape).
type Reader struct {
	db *db.Handle
}

// NewReader reads through the database handle (its replica serves query operations).
func NewReader(h *db.Handle) *Reader { return &Reader{db: h} }

// Selections are the places of one answer where an object of the root's type is written,
// each with what the query selects there: a field asked for twice under different response
// keys (`a: customer { id } b: customer { email }`) is rendered twice. The keys are the
// caller's names for the places; Rendered holds each place's JSON under its key.
type Selections map[string][]Field

// Rendered is one object of the answer as PostgreSQL rendered it for each place of
// Selections (nil: no object there, JSON null).
type Rendered map[string][]byte

// Customer renders the customer key names (none: nil).
func (r *Reader) Customer(ctx context.Context, sel Selections, key customers.Key) (Rendered, error) {
	if key.None() {
		return nil, nil
	}
	return r.one(ctx, customerType, sel, "customers AS c", key.Where)
}

// LoyaltyAccount renders the loyalty account with id.
func (r *Reader) LoyaltyAccount(ctx context.Context, sel Selections, id uuid.UUID) (Rendered, error) {
	return r.one(ctx, loyaltyAccountType, sel, "loyalty_accounts AS la", byID("la.loyalty_account_id", id))
}

// CreditAccount renders the credit account with id.
func (r *Reader) CreditAccount(ctx context.Context, sel Selections, id uuid.UUID) (Rendered, error) {
	return r.one(ctx, creditAccountType, sel, "credit_accounts AS ca", byID("ca.credit_account_id", id))
}

func byID(col string, id uuid.UUID) func(*db.Args) string {
	return func(a *db.Args) string { return col + " = " + a.Add(id.String()) + "::uuid" }
}

// Compiled is a selection compiled for a root type once, to be read many times: the SQL of
// its columns and the bind parameters they carry (response keys, page sizes), which depend
// on the selection alone — not on the organization or on the row looked up. A caller that
// sees the same selection again (the same document) keeps it and skips the compilation
// (graph's cache of compiled selections).
type Compiled struct {
	t    *objectType
	keys []string
	cols string
	args []any // the parameters after the organization's ($1)
}

// Size is about the bytes c holds (its SQL, keys and parameters), for the bounds of a cache.
func (c *Compiled) Size() int {
	n := len(c.cols) + 64
	for _, k := range c.keys {
		n += len(k) + 16
	}
	for _, a := range c.args {
		n += 16
		if s, ok := a.(string); ok {
			n += len(s)
		}
	}
	return n
}

// Compile compiles sel on the root type named typeName. Its errors are Check's.
func Compile(typeName string, sel Selections) (*Compiled, error) {
	t, ok := roots[typeName]
	if !ok {
		return nil, fmt.Errorf("customer360: %s is not rendered", typeName)
	}
	return compileRoot(t, sel)
}

func compileRoot(t *objectType, sel Selections) (*Compiled, error) {
	var args db.Args
	args.Add(nil) // $1: the organization, given at each read
	keys, cols, err := compileAll(t, rootAlias[t], orgParam, sel, &args)
	if err != nil {
		return nil, err
	}
	return &Compiled{t: t, keys: keys, cols: cols, args: args.Values()[1:]}, nil
}

// orgParam is the organization's parameter in a compiled lookup.
const orgParam = "$1::uuid"

// CustomerCompiled renders the customer key names with a selection compiled before (none:
// nil).
func (r *Reader) CustomerCompiled(ctx context.Context, c *Compiled, key customers.Key) (Rendered, error) {
	if c.t != customerType {
		return nil, fmt.Errorf("customer360: a selection of %s read as a Customer", c.t.name)
	}
	if key.None() {
		return nil, nil
	}
	return r.read1(ctx, c, "customers AS c", key.Where)
}

// one reads the object of type t in the row of from that where selects, rendered for each
// selection.
func (r *Reader) one(ctx context.Context, t *objectType, sel Selections, from string, where func(*db.Args) string) (Rendered, error) {
	c, err := compileRoot(t, sel)
	if err != nil {
		return nil, err
	}
	return r.read1(ctx, c, from, where)
}

// read1 reads the row of from (aliased rootAlias[c.t]) that where selects, with the compiled
// selection c.
// The row is looked up in the caller's organization, named in SQL beside the policy (every
// statement carries organization_id: docs/decisions-tenancy-keys.md), and the compiled
// subqueries join on (organization_id, key) from it.
func (r *Reader) read1(ctx context.Context, c *Compiled, from string, where func(*db.Args) string) (Rendered, error) {
	org, err := r.org(ctx)
	if err != nil {
		return nil, err
	}
	var args db.Args
	args.Add(org.String())
	for _, v := range c.args {
		args.Add(v)
	}
	alias := rootAlias[c.t]
	sql := "SELECT " + c.cols + " FROM " + from + " WHERE " + alias + ".organization_id = " + orgParam + " AND " +
		where(&args) + " LIMIT 1"
	var out Rendered
	err = r.read(ctx, org, db.Stmt{SQL: sql, Args: args.Values(), Prepare: true, Row: func(values [][]byte) error {
		out = rendered(c.keys, values)
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.t.name, err)
	}
	return out, nil
}

// Page is one page of the customer list: each customer rendered for each selection, in the
// requested order, and Cursor(i) the cursor of the i-th.
type Page struct {
	Customers            []Rendered
	Cursor               func(i int) string
	HasNext, HasPrevious bool
	TotalCount           int
}

// Customers renders the page of the customer list p asks for (count: also count every
// match, in a second statement of the same round trip).
func (r *Reader) Customers(ctx context.Context, sel Selections, p customers.ListParams) (*Page, error) {
	org, err := r.org(ctx)
	if err != nil {
		return nil, err
	}
	// A filter by tag asks first whether the tags index serves it (one round trip more, only
	// then): the statements' text depends on the answer.
	if err := customers.IndexTags(ctx, r.db, org, &p.Filter); err != nil {
		return nil, err
	}
	var args db.Args
	q, err := customers.List(org, p, &args)
	if err != nil {
		return nil, err
	}
	keys, cols, err := compileAll(customerType, "c", q.Org, sel, &args)
	if err != nil {
		return nil, err
	}
	if cols != "" {
		cols += ", "
	}
	sql := "SELECT " + cols + "c.customer_id::text, (" + q.SortKey + ")::text FROM " + q.From +
		" WHERE " + q.Where + " ORDER BY " + q.OrderBy + " LIMIT " + q.Limit
	var (
		nodes []Rendered
		rows  []customers.Row
		page  Page
	)
	stmts := []db.Stmt{{SQL: sql, Args: args.Values(), Prepare: true, Row: func(values [][]byte) error {
		n := len(values)
		id, err := uuid.ParseBytes(values[n-2])
		if err != nil {
			return err
		}
		row := customers.Row{ID: id}
		if values[n-1] != nil {
			k := string(values[n-1])
			row.SortKey = &k
		}
		rows = append(rows, row)
		nodes = append(nodes, rendered(keys, values[:n-2]))
		return nil
	}}}
	if q.Count != nil {
		stmts = append(stmts, db.Stmt{SQL: q.Count.SQL, Args: q.Count.Args, Prepare: true, Row: func(values [][]byte) error {
			_, err := fmt.Sscan(string(values[0]), &page.TotalCount)
			return err
		}})
	}
	if err := r.read(ctx, org, stmts...); err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	shape := q.Page(rows)
	page.HasNext, page.HasPrevious, page.Cursor = shape.HasNext, shape.HasPrevious, shape.Cursor
	page.Customers = make([]Rendered, len(shape.Index))
	for i, j := range shape.Index {
		page.Customers[i] = nodes[j]
	}
	return &page, nil
}

// compileAll compiles each selection of sel into a column of JSON; keys are the
// selections' keys in column order.
func compileAll(t *objectType, alias, org string, sel Selections, args *db.Args) (keys []string, cols string, err error) {
	c := &compiler{args: args, org: org}
	keys = slices.Sorted(maps.Keys(sel)) // a text that repeats: the same order every time
	for _, key := range keys {
		if cols != "" {
			cols += ", "
		}
		c.path = []string{key}
		cols += c.object(t, alias, sel[key]) + "::text"
	}
	return keys, cols, c.err
}

func rendered(keys []string, values [][]byte) Rendered {
	out := make(Rendered, len(keys))
	for i, k := range keys {
		out[k] = append([]byte(nil), values[i]...) // the row's buffer is reused
	}
	return out
}

// org is the caller's organization; any role may read (@hasRole is the first gate, this the
// second).
func (r *Reader) org(ctx context.Context) (uuid.UUID, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return uuid.Nil, err
	}
	p, err := db.Caller(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	return p.OrganizationID, nil
}

// read runs the statements in one round trip of the organization (the caller's: org).
func (r *Reader) read(ctx context.Context, org uuid.UUID, stmts ...db.Stmt) error {
	return db.ReadInOrg(ctx, r.db, org, stmts...)
}

// rootAlias is the alias of a root type's table in its lookup's FROM.
var rootAlias = map[*objectType]string{customerType: "c", loyaltyAccountType: "la", creditAccountType: "ca"}

// roots are the types a selection can be rendered from, by name.
var roots = map[string]*objectType{
	"Customer": customerType, "LoyaltyAccount": loyaltyAccountType, "CreditAccount": creditAccountType,
}

// Check compiles sel on the root type named typeName without reading anything: the error an
// argument of the selection would give (an ArgumentError), found before a mutation writes.
func Check(typeName string, sel Selections) error {
	t, ok := roots[typeName]
	if !ok {
		return fmt.Errorf("customer360: %s is not rendered", typeName)
	}
	var args db.Args
	_, _, err := compileAll(t, "x", "", sel, &args)
	return err
}
