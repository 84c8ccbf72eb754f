// Package embedded is the zero-configuration default of specification §11: with no DATABASE_URL the
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
	"strconv"
	"strings"
	"syscall"

	"customerservice/internal/pgcluster"
)

// DBName is the embedded database.
const DBName = "customer_service"

// Start starts (initdb on first use) the PostgreSQL under dataDir/pg on port unless it is
// already running, migrates it and ensures the server's login role. Call Stop when done: it
// stops PostgreSQL if this process owns it — it started it, or found it running with its
// owner gone (a server killed with SIGKILL or crashed leaves its PostgreSQL running: the next
// start adopts it, so it does not run on forever). One started by a live process (a `serve`
// while `seed` runs) is left to that process.
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
	owner := ownerFile(dataDir)
	if !d.Started && !ownerAlive(owner) {
		d.Started, d.Adopted = true, true
	}
	if d.Started {
		if err := os.WriteFile(owner, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("DATA_DIR: %w", err)
		}
	}
	return d, nil
}

// Stop stops the embedded PostgreSQL if this process owns it (see Start).
func Stop(d *DB) error {
	if d == nil || !d.Started {
		return nil
	}
	if err := d.Cluster.Stop(); err != nil {
		return err
	}
	os.Remove(filepath.Join(d.Cluster.Dir, ownerFileName)) //nolint:errcheck // a stale one is harmless: its process is gone
	return nil
}

// ownerFileName, in dataDir/pg, holds the pid of the process that owns the running
// PostgreSQL: the one that stops it.
const ownerFileName = "owner.pid"

func ownerFile(dataDir string) string { return filepath.Join(dataDir, "pg", ownerFileName) }

// ownerAlive reports whether the process named in the owner file is running (a missing or
// unreadable file: no owner).
func ownerAlive(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
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

// ErrNoJWTSecret: DATA_DIR holds no JWT secret (no server has started on it).
var ErrNoJWTSecret = errors.New("no JWT secret")

// ExistingJWTSecret returns the HS256 secret kept in dataDir, which the server created at its
// first start there, without creating one: a secret made for a folder no server uses would
// sign tokens every server rejects. It fails with ErrNoJWTSecret, explained, when there is none.
func ExistingJWTSecret(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(abs, "jwt-secret"))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w in DATA_DIR=%s: no server has started on this folder, so no server would accept a token signed here. "+
			"Run token with the DATA_DIR of the running server (its banner names it), or start the server once with this DATA_DIR "+
			"(`customer-service serve`), or set JWT_SECRET to the server's", ErrNoJWTSecret, abs)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
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
