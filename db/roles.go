package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
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
