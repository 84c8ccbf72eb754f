package cli

import (
	"context"
	"errors"
	"os"

	"customerservice/config"
	"customerservice/migrations"
)

// migrate runs with the owner's credentials: MIGRATE_DATABASE_URL, else DATABASE_URL, else
// the embedded database's superuser.
func migrate(ctx context.Context, cfg config.Config, args []string) error {
	if err := help(args); err != nil {
		return err
	}
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return errors.New("usage: customer-service migrate up|down|status")
	}
	owner, closeOwner, err := ownerPool(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer closeOwner()
	switch args[0] {
	case "up":
		err = migrations.Up(ctx, owner.DB)
	case "down":
		err = migrations.Down(ctx, owner.DB)
	}
	if err != nil {
		return err
	}
	return migrations.PrintStatus(ctx, owner.DB, os.Stdout)
}
