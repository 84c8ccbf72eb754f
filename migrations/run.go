package migrations

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

func migrator(db *bun.DB) *migrate.Migrator {
	return migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
}

// Up applies every pending migration.
func Up(ctx context.Context, db *bun.DB) error {
	m := migrator(db)
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down rolls back the last group of migrations.
func Down(ctx context.Context, db *bun.DB) error {
	m := migrator(db)
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck
	if _, err := m.Rollback(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Current reports why db cannot serve the code's schema: unreachable, or a migration not
// applied yet (serve's start and /readyz, on the primary and on a read replica).
func Current(ctx context.Context, db bun.IDB) error {
	pending, err := Pending(ctx, db)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("%d migration(s) pending (%s)", len(pending), strings.Join(pending, ", "))
	}
	return nil
}

// Pending lists the migrations not applied yet (for `migrate status` and /readyz).
func Pending(ctx context.Context, db bun.IDB) ([]string, error) {
	var applied []string
	err := db.NewSelect().Table("bun_migrations").Column("name").Scan(ctx, &applied)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	done := make(map[string]bool, len(applied))
	for _, name := range applied {
		done[name] = true
	}
	var pending []string
	for _, m := range Migrations.Sorted() {
		if !done[m.Name] {
			pending = append(pending, m.Name)
		}
	}
	return pending, nil
}

// PrintStatus writes which migrations are applied and which are pending.
func PrintStatus(ctx context.Context, db *bun.DB, w io.Writer) error {
	m := migrator(db)
	if err := m.Init(ctx); err != nil {
		return err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return err
	}
	for _, mg := range ms {
		state := "pending"
		if mg.IsApplied() {
			state = "applied"
		}
		fmt.Fprintf(w, "%-8s %s_%s\n", state, mg.Name, mg.Comment)
	}
	return nil
}
