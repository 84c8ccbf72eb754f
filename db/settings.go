package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// SettingsRow reads the organization's row of a settings table that holds at most one row
// per organization (model T: the credit policy, the privacy settings) in the transaction of
// ctx: the stored row and true, or def and false while the organization has stored none.
// lock locks the stored row for a change (FOR UPDATE).
func SettingsRow[T any](ctx context.Context, tx bun.IDB, def T, lock bool) (T, bool, error) {
	var row T
	q := tx.NewSelect().Model(&row).Where("?TableAlias.organization_id = ?", Org(ctx))
	if lock {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return def, false, nil
	}
	if err != nil {
		return def, false, fmt.Errorf("read %T: %w", row, err)
	}
	return row, true, nil
}
