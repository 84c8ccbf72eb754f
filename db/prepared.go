package db

import (
	"context"
	stdsql "database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

type preparedKey struct{}

// OrgParam is the organization in a statement sent by ScanPrepared: by convention its first
// bind parameter, so that one text serves every organization.
const OrgParam = "$1::uuid"

// ScanPrepared runs sql — a fixed text whose values are bind parameters ($1, $2, …; a bun
// query built with bun.Safe("$1") in place of each value gives one) — with args in InOrg's
// transaction tx, and scans its rows into dest as bun's Scan would. The statement is kept
// prepared on the connection (pgx's statement cache), so PostgreSQL plans it once per
// connection instead of on every call: a write's deciding read costs more to plan than to run
// (docs/decisions-writes.md). Where the pool keeps nothing prepared (PgBouncer in transaction
// mode) it is sent unnamed, parsed and planned each time, as everything else. No row is
// sql.ErrNoRows, as for bun's Scan into a struct; it reads one row.
func ScanPrepared(ctx context.Context, tx bun.Tx, dest any, sql string, args ...any) error {
	mode := pgx.QueryExecModeExec
	if prepare, _ := ctx.Value(preparedKey{}).(bool); prepare {
		mode = pgx.QueryExecModeCacheStatement
	}
	rows, err := tx.Tx.QueryContext(ctx, sql, append([]any{mode}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return stdsql.ErrNoRows
	}
	if err := tx.NewSelect().DB().ScanRow(ctx, rows, dest); err != nil {
		return err
	}
	if rows.Next() {
		return errors.New("db: ScanPrepared read more than one row")
	}
	return rows.Err()
}
