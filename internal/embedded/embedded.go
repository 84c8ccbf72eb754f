// Package embedded is the zero-configuration default of DESIGN §9: with no DATABASE_URL the
// service runs on a private PostgreSQL started from the binaries installed on the machine,
// with its data, its passwords and a generated JWT secret kept under DATA_DIR, so a second
// start finds the same data and the tokens it printed before still work. It is production
// code (the binary's default); the tests provision their throwaway databases with the same
// Provision.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"customerservice/internal/pgcluster"
)

// DBName is the embedded database.
const DBName = "customer_service"

// Start starts (initdb on first use) the PostgreSQL under dataDir/pg on port unless it is
// already running, migrates it and ensures the server's login role. Call Stop when done: it
// stops PostgreSQL only if this call started it.
func Start(ctx context.Context, dataDir string, port int) (*DB, error) {
	// As root, PostgreSQL runs as the postgres user, which must reach its data directory.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	if err := checkReachable(dataDir); err != nil {
		return nil, err
	}
	d, err := Provision(ctx, filepath.Join(dataDir, "pg"), port, DBName)
	if err != nil {
		return nil, fmt.Errorf("embedded PostgreSQL (DATA_DIR=%s, EMBEDDED_PG_PORT=%d): %w", dataDir, port, err)
	}
	return d, nil
}

// Stop stops the embedded PostgreSQL if Start started it.
func Stop(d *DB) error {
	if d == nil || !d.Started {
		return nil
	}
	return d.Cluster.Stop()
}

// JWTSecret returns the HS256 secret kept in dataDir, generating it (0600) on first use.
func JWTSecret(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "jwt-secret")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("DATA_DIR: %w", err)
	}
	secret := pgcluster.RandomSecret(32)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}

// checkReachable fails with a clear message when, as root, the postgres user cannot reach
// dir (for example a checkout under /root, which is private to root).
func checkReachable(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return nil // pgcluster says what to install
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if exec.Command("runuser", "-u", "postgres", "--", "test", "-x", abs).Run() != nil {
		return fmt.Errorf("DATA_DIR=%s: as root, PostgreSQL runs as the postgres user, which cannot reach this folder (a parent folder is private); set DATA_DIR to a folder it can reach, e.g. DATA_DIR=/var/tmp/customer-service", abs)
	}
	return nil
}
