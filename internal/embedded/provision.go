package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"customerservice/db"
	"customerservice/internal/pgcluster"
	"customerservice/migrations"
)

// LoginRole is the role the server logs in as on a provisioned database.
const LoginRole = "customer_service"

// DB is a provisioned database.
type DB struct {
	Cluster  *pgcluster.Cluster
	Name     string
	OwnerURL string // superuser: migrations, seeding checks, test inspection
	AppURL   string // the non-owner login role the server uses
	Started  bool   // this call started the cluster (it was not running), or took it over: stop it when done
	Adopted  bool   // found running with no live owner (Start): taken over, so Started too
}

// Provision opens (initdb on first use) and starts the cluster in dir on port if it is not
// running, creates database name if missing, migrates it and ensures the login role: the
// embedded default's database (Start) and the throwaway databases of the tests. It migrates
// as the superuser (the owner) and hands out a login role that is a member of
// customer_service_app, so the server runs under row-level security exactly as in
// production.
func Provision(ctx context.Context, dir string, port int, name string, settings ...string) (*DB, error) {
	c, err := pgcluster.Open(dir, port)
	if err != nil {
		return nil, err
	}
	d := &DB{Cluster: c, Name: name, OwnerURL: c.SuperuserURL(name)}
	if !c.Running() {
		if err := c.Start(ctx, settings...); err != nil {
			return nil, err
		}
		d.Started = true
	}
	if err := d.provision(ctx, filepath.Join(dir, "app-password")); err != nil {
		if d.Started {
			c.Stop() //nolint:errcheck // the provisioning error is the one to report
		}
		return nil, err
	}
	return d, nil
}

func (d *DB) provision(ctx context.Context, passwordFile string) error {
	admin, err := db.Open(ctx, d.Cluster.SuperuserURL("postgres"), db.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = ?)", d.Name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %q", d.Name)); err != nil {
			return fmt.Errorf("create database %s: %w", d.Name, err)
		}
	}
	password, err := readOrCreate(passwordFile)
	if err != nil {
		return err
	}
	owner, err := db.Open(ctx, d.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer owner.Close()
	if err := migrations.Up(ctx, owner.DB); err != nil {
		return err
	}
	if err := db.EnsureLoginRole(ctx, owner, LoginRole, password); err != nil {
		return err
	}
	d.AppURL = fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", LoginRole, password, d.Cluster.Port, d.Name)
	return nil
}

func readOrCreate(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	secret := pgcluster.RandomSecret(16)
	return secret, os.WriteFile(path, []byte(secret+"\n"), 0o600)
}
