// Package migrations holds the schema as numbered SQL files (up and down) and registers them
// with bun's migrator. Files ending in .tx.up.sql run in one transaction.
package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Migrations is every migration of the service, in order.
var Migrations = migrate.NewMigrations()

func init() {
	if err := Migrations.Discover(files); err != nil {
		panic(err)
	}
}
