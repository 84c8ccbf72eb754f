package cli

import (
	"context"
	"fmt"
	"os"

	"customerservice/config"
	"customerservice/db"
	"customerservice/internal/embedded"
)

// database is where a command's SQL goes: DATABASE_URL and MIGRATE_DATABASE_URL, or else
// the embedded PostgreSQL, started for the command if it is not running.
type database struct {
	appURL, ownerURL string
	embedded         *embedded.DB
}

func openDatabase(ctx context.Context, cfg config.Config) (*database, error) {
	if !cfg.Embedded() {
		return &database{appURL: cfg.DatabaseURL, ownerURL: cfg.MigrateDatabaseURL}, nil
	}
	pg, err := embedded.Start(ctx, cfg.DataDir, cfg.EmbeddedPGPort)
	if err != nil {
		return nil, err
	}
	return &database{appURL: pg.AppURL, ownerURL: pg.OwnerURL, embedded: pg}, nil
}

// close stops the embedded PostgreSQL if this command started it.
func (d *database) close() {
	if err := embedded.Stop(d.embedded); err != nil {
		fmt.Fprintln(os.Stderr, "customer-service:", err)
	}
}

// appPool opens the server's pool (the non-owner role, under row-level security) for a
// command; close stops the embedded PostgreSQL if the command started it.
func appPool(ctx context.Context, cfg config.Config) (pool *db.Pool, close func(), err error) {
	d, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	pool, err = db.Open(ctx, d.appURL, db.Options{MaxConns: 4})
	if err != nil {
		d.close()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); d.close() }, nil
}

// ownerPool opens a pool of the tables' owner for a command (MIGRATE_DATABASE_URL, else the
// embedded PostgreSQL's owner); close also stops the embedded PostgreSQL if the command
// started it.
func ownerPool(ctx context.Context, cfg config.Config, maxConns int) (pool *db.Pool, close func(), err error) {
	ownerURL, stop := cfg.MigrateDatabaseURL, func() {}
	if ownerURL == "" {
		d, err := openDatabase(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		ownerURL, stop = d.ownerURL, d.close
	}
	pool, err = db.Open(ctx, ownerURL, db.Options{MaxConns: maxConns})
	if err != nil {
		stop()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); stop() }, nil
}
