// Package citus distributes the schema over a Citus cluster (README, Scaling out): the
// tenant tables sharded by organization_id and colocated with customers, so that one
// organization's rows of every table live on one node and a statement that filters on the
// organization runs on that node alone; the small global tables made reference tables
// (copied to every node); the migration bookkeeping left on the coordinator.
package citus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/uptrace/bun"
)

// DistributionColumn is the column every tenant table is sharded by.
const DistributionColumn = "organization_id"

// Anchor is the table the tenant tables are colocated with.
const Anchor = "customers"

// local are the tables that stay on the coordinator: the migrations' bookkeeping.
var local = map[string]bool{"bun_migrations": true, "bun_migration_locks": true}

// ErrNoCitus: the database has no citus extension.
var ErrNoCitus = errors.New("the citus extension is not installed in this database (CREATE EXTENSION citus, on the coordinator and every worker; README, Scaling out)")

// KeyError lists the keys that keep the schema from being distributed: Citus requires every
// primary key, unique key and foreign key between distributed tables to include the
// distribution column. Nothing was changed.
type KeyError struct{ Problems []string }

func (e *KeyError) Error() string {
	return fmt.Sprintf("cannot distribute by %s: every PRIMARY KEY, UNIQUE key and foreign key between tenant tables must include it; nothing was changed:\n  %s",
		DistributionColumn, strings.Join(e.Problems, "\n  "))
}

// table is one table of the schema.
type table struct {
	name   string
	tenant bool   // has organization_id: distributed
	state  string // pg_dist_partition.partmethod: "h" distributed, "n" reference, "" local
	refs   []string
	trig   bool // has user triggers
}

// Distribute distributes the tables of schema (idempotent: a table Citus already manages is
// left as it is), writing what it does to out. It checks every key first and changes nothing
// when one lacks organization_id (KeyError).
func Distribute(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	var has bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&has); err != nil {
		return err
	}
	if !has {
		return ErrNoCitus
	}
	tables, err := readTables(ctx, conn, schema)
	if err != nil {
		return err
	}
	if _, ok := tables[Anchor]; !ok || !tables[Anchor].tenant {
		return fmt.Errorf("schema %s has no %s table with %s to colocate with", schema, Anchor, DistributionColumn)
	}
	problems, err := keyProblems(ctx, conn, schema, tables)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &KeyError{Problems: problems}
	}
	order, err := distributionOrder(tables)
	if err != nil {
		return err
	}
	if err := dropCounters(ctx, conn, schema, out); err != nil {
		return err
	}
	q := func(name string) string { return quoteIdent(schema) + "." + quoteIdent(name) }
	for _, name := range order {
		t := tables[name]
		switch {
		case t.state != "":
			fmt.Fprintf(out, "%s: already %s\n", name, map[string]string{"h": "distributed", "n": "a reference table"}[t.state])
			continue
		case local[name]:
			fmt.Fprintf(out, "%s: stays on the coordinator\n", name)
			continue
		}
		if t.trig {
			// The updated_at trigger is safe per row: it touches only the row itself.
			if _, err := conn.ExecContext(ctx, "SET citus.enable_unsafe_triggers = on"); err != nil {
				return err
			}
		}
		var stmt string
		var args []any
		switch {
		case !t.tenant:
			stmt, args = "SELECT create_reference_table(?)", []any{q(name)}
		case name == Anchor:
			stmt, args = "SELECT create_distributed_table(?, ?)", []any{q(name), DistributionColumn}
		default:
			stmt, args = "SELECT create_distributed_table(?, ?, colocate_with => ?)", []any{q(name), DistributionColumn, q(Anchor)}
		}
		if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("distribute %s: %w", name, err)
		}
		if t.tenant {
			fmt.Fprintf(out, "%s: distributed by %s, colocated with %s\n", name, DistributionColumn, Anchor)
		} else {
			fmt.Fprintf(out, "%s: reference table\n", name)
		}
	}
	if err := propagateColumnGrants(ctx, conn, schema, out); err != nil {
		return err
	}
	if err := runAsCaller(ctx, conn, schema, out); err != nil {
		return err
	}
	if err := grantRegistryUpdate(ctx, conn, schema, out); err != nil {
		return err
	}
	return warnFunctions(ctx, conn, schema, out)
}

// CountersTable holds the organizations' customer counters, kept on plain PostgreSQL by
// triggers named CountersTable_* on customers, loyalty_accounts and customer_segments
// (migration 20261226000002).
const CountersTable = "customer_counts"

// dropCounters drops the triggers that keep the customer counters and empties their table
// (idempotent): on Citus they would fire on a worker's shard and write another distributed
// table from there, a distributed write nested in a shard's query (the registry's trigger
// was rejected for the same reason, docs/decisions-citus.md). Without counters customerStats
// counts the organization's customers, as it does for a filter.
func dropCounters(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	rows, err := conn.QueryContext(ctx, `SELECT t.tgname, c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND t.tgname LIKE ? AND NOT t.tgisinternal ORDER BY 2, 1`, schema, CountersTable+`\_%`)
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var trigger, table string
		if err := rows.Scan(&trigger, &table); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, "DROP TRIGGER "+quoteIdent(trigger)+" ON "+quoteIdent(schema)+"."+quoteIdent(table))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range drops {
		if _, err := conn.ExecContext(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT to_regclass(?) IS NOT NULL", quoteIdent(schema)+"."+CountersTable).Scan(&exists); err != nil {
		return err
	}
	if exists {
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+quoteIdent(schema)+"."+CountersTable); err != nil {
			return err
		}
	}
	if len(drops) > 0 {
		fmt.Fprintf(out, "%s: %d triggers dropped, the table emptied (customerStats counts on Citus)\n", CountersTable, len(drops))
	}
	return nil
}

// AsCaller are the SECURITY DEFINER functions that distribution makes SECURITY INVOKER: run
// inside a shard's query they would read the shards as their owner, which would then have to
// log in to every worker. customer_search_ids(text) is owned by customer_service_definer (a
// NOLOGIN role that bypasses RLS, so that on plain PostgreSQL the trigram index serves the
// search's LIKE); as its caller it reads the organization's rows under RLS, with the same
// explicit organization filter, and without the index (README, Scaling out). So does
// customer_tag_ids (the filter by tag's, migration 20261230000001), and then
// customer_tags_indexed() never sends a filter to it.
var AsCaller = []string{"customer_search_ids(text)", "customer_tag_ids(character varying[], boolean)"}

// runAsCaller makes the functions of AsCaller that exist in schema SECURITY INVOKER
// (idempotent; Citus propagates the change to the workers).
func runAsCaller(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	for _, fn := range AsCaller {
		name := quoteIdent(schema) + "." + fn
		var definer sql.NullBool
		if err := conn.QueryRowContext(ctx, "SELECT (SELECT prosecdef FROM pg_proc WHERE oid = to_regprocedure(?))", name).Scan(&definer); err != nil {
			return err
		}
		switch {
		case !definer.Valid:
			continue
		case !definer.Bool:
			fmt.Fprintf(out, "%s: already runs as its caller\n", fn)
			continue
		}
		if _, err := conn.ExecContext(ctx, "ALTER FUNCTION "+name+" SECURITY INVOKER"); err != nil {
			return fmt.Errorf("%s: %w", fn, err)
		}
		fmt.Fprintf(out, "%s: now runs as its caller (SECURITY INVOKER)\n", fn)
	}
	return nil
}

// Registry is the organizations registry, a reference table on Citus.
const Registry = "organizations"

// grantRegistryUpdate grants UPDATE on the registry to the roles that may register an
// organization (INSERT), its owner aside: on Citus a registration (INSERT … ON CONFLICT DO
// NOTHING into a reference table) locks the table's shard EXCLUSIVE on every node
// (lock_shard_resources), which takes UPDATE privilege. Plain PostgreSQL does not need it
// and the migrations do not grant it (20261220000001); no policy allows an UPDATE, so none
// changes a row. Idempotent.
func grantRegistryUpdate(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	rows, err := conn.QueryContext(ctx, `SELECT r.rolname, has_table_privilege(r.oid, c.oid, 'UPDATE')
  FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace, pg_roles AS r
 WHERE n.nspname = ? AND c.relname = ? AND r.oid <> c.relowner AND NOT r.rolsuper
   AND has_table_privilege(r.oid, c.oid, 'INSERT') ORDER BY 1`, schema, Registry)
	if err != nil {
		return err
	}
	type grantee struct {
		role    string
		granted bool
	}
	var roles []grantee
	for rows.Next() {
		var g grantee
		if err := rows.Scan(&g.role, &g.granted); err != nil {
			rows.Close()
			return err
		}
		roles = append(roles, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range roles {
		if g.granted {
			fmt.Fprintf(out, "%s: %s may already update it\n", Registry, g.role)
			continue
		}
		if _, err := conn.ExecContext(ctx, "GRANT UPDATE ON "+quoteIdent(schema)+"."+quoteIdent(Registry)+" TO "+quoteIdent(g.role)); err != nil {
			return fmt.Errorf("grant update on %s: %w", Registry, err)
		}
		fmt.Fprintf(out, "%s: UPDATE granted to %s (a registration locks the reference table)\n", Registry, g.role)
	}
	return nil
}

// propagateColumnGrants copies the column-level grants of the distributed and reference
// tables to the workers' copies of the tables and to every shard placement: Citus propagates
// table grants but not column grants (the owner of the search function reads three columns
// of customers). Idempotent; shards created later (a rebalance that splits) need it again:
// run distribute again.
func propagateColumnGrants(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	rows, err := conn.QueryContext(ctx, `
SELECT c.relname, a.attname, g.privilege_type, r.rolname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(a.attacl) AS g JOIN pg_roles r ON r.oid = g.grantee
WHERE n.nspname = ? AND a.attacl IS NOT NULL AND NOT a.attisdropped
  AND EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
ORDER BY 1, 4, 3, 2`, schema)
	if err != nil {
		return err
	}
	type grant struct{ table, column, privilege, role string }
	var grants []grant
	for rows.Next() {
		var g grant
		if err := rows.Scan(&g.table, &g.column, &g.privilege, &g.role); err != nil {
			rows.Close()
			return err
		}
		grants = append(grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range grants {
		q := quoteIdent(schema) + "." + quoteIdent(g.table)
		grant := func(on string) string {
			return fmt.Sprintf("GRANT %s (%s) ON %s TO %s", g.privilege, quoteIdent(g.column), on, quoteIdent(g.role))
		}
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{"SELECT bool_and(success), string_agg(result, '; ') FILTER (WHERE NOT success) FROM run_command_on_workers(?)",
				// On a worker the table is Citus's too, which refuses column grants unless it
				// is told not to propagate them (there is nowhere further to propagate).
				[]any{"SET citus.enable_ddl_propagation TO off; " + grant(q)}},
			{"SELECT bool_and(success), string_agg(result, '; ') FILTER (WHERE NOT success) FROM run_command_on_placements(?::regclass, ?)", []any{q, grant("%s")}},
		} {
			var ok sql.NullBool
			var failure sql.NullString
			if err := conn.QueryRowContext(ctx, stmt.sql, stmt.args...).Scan(&ok, &failure); err != nil {
				return fmt.Errorf("column grant on %s: %w", g.table, err)
			}
			if ok.Valid && !ok.Bool {
				return fmt.Errorf("column grant on %s: %s", g.table, failure.String)
			}
		}
		fmt.Fprintf(out, "%s: %s (%s) granted to %s on the workers and the shards\n", g.table, g.privilege, g.column, g.role)
	}
	return nil
}

func readTables(ctx context.Context, conn bun.IConn, schema string) (map[string]*table, error) {
	rows, err := conn.QueryContext(ctx, `
SELECT c.relname,
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = ? AND NOT a.attisdropped),
       coalesce((SELECT p.partmethod::text FROM pg_dist_partition p WHERE p.logicalrelid = c.oid), ''),
       coalesce((SELECT array_agg(DISTINCT r.relname::text) FROM pg_constraint f JOIN pg_class r ON r.oid = f.confrelid
                 WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), '{}'),
       EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND NOT c.relispartition`, DistributionColumn, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string]*table{}
	for rows.Next() {
		t := &table{}
		var refs []string
		if err := rows.Scan(&t.name, &t.tenant, &t.state, pgArray(&refs), &t.trig); err != nil {
			return nil, err
		}
		t.refs = refs
		tables[t.name] = t
	}
	return tables, rows.Err()
}

// keyProblems lists the unique keys (constraints and unique indexes) of tenant tables that
// lack organization_id, and the foreign keys between tenant tables that do not carry it.
func keyProblems(ctx context.Context, conn bun.IConn, schema string, tables map[string]*table) ([]string, error) {
	var problems []string
	rows, err := conn.QueryContext(ctx, `
SELECT c.relname, i.relname
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND x.indisunique
  AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = ? AND a.attnum = ANY (x.indkey))
ORDER BY 1, 2`, schema, DistributionColumn)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tbl, idx string
		if err := rows.Scan(&tbl, &idx); err != nil {
			rows.Close()
			return nil, err
		}
		if t := tables[tbl]; t != nil && t.tenant && t.state == "" {
			problems = append(problems, fmt.Sprintf("%s: unique key %s does not include %s", tbl, idx, DistributionColumn))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.QueryContext(ctx, `
SELECT c.relname, f.conname, r.relname,
       EXISTS (SELECT FROM unnest(f.conkey, f.confkey) AS k(a, b)
               JOIN pg_attribute ca ON ca.attrelid = f.conrelid AND ca.attnum = k.a
               JOIN pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = k.b
               WHERE ca.attname = ? AND ra.attname = ?)
FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class r ON r.oid = f.confrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ? AND f.contype = 'f'
ORDER BY 1, 2`, DistributionColumn, DistributionColumn, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tbl, fk, ref string
		var carries bool
		if err := rows.Scan(&tbl, &fk, &ref, &carries); err != nil {
			return nil, err
		}
		from, to := tables[tbl], tables[ref]
		if from == nil || to == nil || from.state != "" {
			continue
		}
		switch {
		case from.tenant && to.tenant && !carries:
			problems = append(problems, fmt.Sprintf("%s: foreign key %s to %s does not pair %s with %s", tbl, fk, ref, DistributionColumn, DistributionColumn))
		case !from.tenant && to.tenant:
			problems = append(problems, fmt.Sprintf("%s: foreign key %s from a global (reference) table to the tenant table %s", tbl, fk, ref))
		}
	}
	return problems, rows.Err()
}

// distributionOrder: reference tables first, then customers, then the other tenant tables,
// each after the tables it references; by name among equals.
func distributionOrder(tables map[string]*table) ([]string, error) {
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(tables[names[i]]), rank(tables[names[j]])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var order []string
	done := map[string]bool{}
	visiting := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		if done[n] {
			return nil
		}
		if visiting[n] {
			return fmt.Errorf("foreign keys form a cycle through %s", n)
		}
		visiting[n] = true
		refs := append([]string(nil), tables[n].refs...)
		sort.Strings(refs)
		for _, r := range refs {
			if tables[r] != nil {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		visiting[n], done[n] = false, true
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func rank(t *table) int {
	switch {
	case local[t.name]:
		return 0
	case !t.tenant:
		return 1
	case t.name == Anchor:
		return 2
	}
	return 3
}

// warnFunctions names what distribution does not fix: SECURITY DEFINER functions run on the
// workers as their owner, which must be able to log in there, and SQL-language functions
// with parameters cannot be planned distributed.
func warnFunctions(ctx context.Context, conn bun.IConn, schema string, out io.Writer) error {
	rows, err := conn.QueryContext(ctx, `
SELECT p.oid::regprocedure::text, p.prosecdef AND NOT o.rolcanlogin, l.lanname = 'sql' AND p.pronargs > 0
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles o ON o.oid = p.proowner
JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = ? AND p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1`, schema)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var fn string
		var definer, sqlArgs bool
		if err := rows.Scan(&fn, &definer, &sqlArgs); err != nil {
			return err
		}
		if definer {
			fmt.Fprintf(out, "warning: %s is SECURITY DEFINER owned by a role that cannot log in: on distributed tables it fails on the workers\n", fn)
		}
		if sqlArgs {
			fmt.Fprintf(out, "warning: %s is a SQL-language function with parameters: Citus cannot plan it distributed (make it PL/pgSQL)\n", fn)
		}
	}
	return rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// pgArray scans a text[] (pgx's text format) into dst.
func pgArray(dst *[]string) sql.Scanner { return &textArray{dst} }

type textArray struct{ dst *[]string }

func (a *textArray) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
		*a.dst = nil
		return nil
	default:
		return fmt.Errorf("text[]: unexpected %T", src)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	*a.dst = nil
	if s == "" {
		return nil
	}
	for _, e := range strings.Split(s, ",") {
		*a.dst = append(*a.dst, strings.Trim(e, `"`))
	}
	return nil
}
