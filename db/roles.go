package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// AppRole is the NOLOGIN role the migrations create with exactly the server's grants (§7).
const AppRole = "customer_service_app"

// EnsureLoginRole creates (or resets the password of) a login role that is a member of
// AppRole and nothing more: no superuser, no BYPASSRLS, not the tables' owner.
func EnsureLoginRole(ctx context.Context, owner bun.IDB, name, password string) error {
	var exists bool
	if err := owner.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = ?)", name).Scan(&exists); err != nil {
		return err
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	stmts := []string{
		fmt.Sprintf("%s ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %s", verb, quoteIdent(name), quoteLiteral(password)),
		fmt.Sprintf("GRANT %s TO %s", AppRole, quoteIdent(name)),
	}
	for _, s := range stmts {
		if _, err := owner.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("login role %s: %w", name, err)
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// CheckRole refuses a role that would make row-level security moot (§7): a superuser or a
// role with BYPASSRLS sees every organization, and the owner of a table can switch its
// policies off (ALTER TABLE … NO FORCE ROW LEVEL SECURITY, DROP POLICY) — so the server
// must not run as the role that migrates. A role that can become one of those is refused
// as well: a member of a role, directly or through a chain of memberships, can SET ROLE to
// it, whether the membership inherits (INHERIT) or not. The error names the chain. The
// walk starts from session_user, the login, which any SET ROLE of the session can return to.
func CheckRole(ctx context.Context, db bun.IDB) error {
	var path []string // the login, then each role it is a member of, to the unsafe one
	var super, bypass bool
	var ownedTable string // a table of the server's schema the last role of path owns, if any
	err := db.QueryRowContext(ctx, `WITH RECURSIVE chain (oid, path) AS (
		  SELECT oid, ARRAY[rolname::text] FROM pg_roles WHERE rolname = session_user
		  UNION ALL
		  SELECT m.roleid, c.path || r.rolname::text
		  FROM chain c
		  JOIN pg_auth_members m ON m.member = c.oid
		  JOIN pg_roles r ON r.oid = m.roleid
		  WHERE r.rolname::text <> ALL (c.path)
		)
		SELECT c.path, r.rolsuper, r.rolbypassrls, coalesce(t.tablename::text, '')
		FROM chain c
		JOIN pg_roles r ON r.oid = c.oid
		LEFT JOIN LATERAL (
		  SELECT tablename FROM pg_tables
		  WHERE schemaname = current_schema() AND tableowner = r.rolname
		  ORDER BY tablename LIMIT 1
		) t ON true
		WHERE r.rolsuper OR r.rolbypassrls OR t.tablename IS NOT NULL
		ORDER BY cardinality(c.path), c.path
		LIMIT 1`).Scan(pgdialect.Array(&path), &super, &bypass, &ownedTable)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the database role and its memberships: %w", err)
	}
	return unsafeRoleError(path, super, bypass, ownedTable)
}

func unsafeRoleError(path []string, super, bypass bool, ownedTable string) error {
	const override = "(or pass --allow-unsafe-role for local debugging)"
	login := path[0]
	if len(path) == 1 {
		switch {
		case super:
			return fmt.Errorf("database role %q is a superuser: row-level security would not isolate organizations; connect as a role that is a member of customer_service_app %s", login, override)
		case bypass:
			return fmt.Errorf("database role %q has BYPASSRLS: row-level security would not isolate organizations; connect as a role that is a member of customer_service_app %s", login, override)
		default:
			return fmt.Errorf("database role %q owns the tables (table %s is owned by %q): an owner can switch row-level security off, so it would not isolate organizations; "+
				"keep that role for `migrate` (MIGRATE_DATABASE_URL) and serve as a login role that owns nothing and is a member of customer_service_app %s",
				login, ownedTable, login, override)
		}
	}
	var chain strings.Builder
	fmt.Fprintf(&chain, "database role %q", login)
	for i, role := range path[1:] {
		if i > 0 {
			chain.WriteString(", which")
		}
		fmt.Fprintf(&chain, " is a member of %q", role)
	}
	var what string
	switch {
	case super:
		what = "is a superuser"
	case bypass:
		what = "has BYPASSRLS"
	default:
		what = fmt.Sprintf("owns the tables (table %s)", ownedTable)
	}
	return fmt.Errorf("%s, which %s: the login can SET ROLE to it (with or without INHERIT), so row-level security would not isolate organizations; "+
		"serve as a login role that is a member of customer_service_app and of no role that is a superuser, has BYPASSRLS or owns the tables %s",
		chain.String(), what, override)
}
