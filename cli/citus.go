package cli

import (
	"context"
	"errors"
	"os"

	"customerservice/citus"
	"customerservice/config"
)

// citusCommand runs `citus distribute` with the owner's credentials (like migrate):
// MIGRATE_DATABASE_URL, else DATABASE_URL, else the embedded database's superuser (which has
// no citus extension: it says so).
func citusCommand(ctx context.Context, cfg config.Config, args []string) error {
	if err := help(args); err != nil {
		return err
	}
	if len(args) != 1 || args[0] != "distribute" {
		return errors.New("usage: customer-service citus distribute")
	}
	owner, closeOwner, err := ownerPool(ctx, cfg, 1)
	if err != nil {
		return err
	}
	defer closeOwner()
	conn, err := owner.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return citus.Distribute(ctx, conn, "public", os.Stdout)
}
