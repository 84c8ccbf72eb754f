// Package pgcluster runs a private PostgreSQL cluster from the binaries installed on the
// machine: the embedded default of `serve` (specification §11) and the throwaway cluster of the tests.
// PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` system user
// on a data directory it owns; as any other user it runs as that user.
package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cluster is a PostgreSQL cluster in Dir listening on 127.0.0.1:Port.
type Cluster struct {
	Dir      string // holds data/, the log and the superuser password
	Port     int
	Password string // of the superuser "postgres"
	bin      string
	runAs    *user.User // nil: the current user
}

// SuperuserURL is the URL of database dbname as the superuser.
func (c *Cluster) SuperuserURL(dbname string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", c.Password, c.Port, dbname)
}

// Open prepares the cluster in dir: initdb on first use, and the port and password it
// keeps. Settings are the extra postgres -c options.
func Open(dir string, port int) (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: port, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root: PostgreSQL refuses root and there is no `postgres` system user to run it as (install the postgresql package, or run as a normal user)")
		}
		c.runAs = u
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := c.chown(dir); err != nil {
		return nil, err
	}
	pwFile := filepath.Join(dir, "superuser-password")
	if b, err := os.ReadFile(pwFile); err == nil {
		c.Password = strings.TrimSpace(string(b))
	} else {
		c.Password = randomHex(16)
		if err := os.WriteFile(pwFile, []byte(c.Password+"\n"), 0o600); err != nil {
			return nil, err
		}
		if err := c.chown(pwFile); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		out, err := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=scram-sha-256",
			"--pwfile="+pwFile, "--encoding=UTF8", "--locale=C.UTF-8").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// Standby makes dir a hot standby of the running cluster c, to serve on port once started:
// a base backup streamed from c whose configuration (pg_basebackup -R: standby.signal and
// primary_conninfo) streams c's changes from then on. It has c's superuser password. Start
// it with Start, with at least c's max_connections (a hot standby refuses fewer).
func (c *Cluster) Standby(dir string, port int) (*Cluster, error) {
	s := &Cluster{Dir: dir, Port: port, Password: c.Password, bin: c.bin, runAs: c.runAs}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := s.chown(dir); err != nil {
		return nil, err
	}
	cmd := s.command("pg_basebackup", "-D", s.dataDir(), "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port),
		"-U", "postgres", "-w", "--wal-method=stream", "--write-recovery-conf", "--checkpoint=fast")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+c.Password) // -R writes it into primary_conninfo
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_basebackup from port %d: %v: %s", c.Port, err, out)
	}
	return s, nil
}

// Start starts the server and waits until it accepts connections. settings are extra
// `-c name=value` options.
func (c *Cluster) Start(ctx context.Context, settings ...string) error {
	opts := []string{"-p", strconv.Itoa(c.Port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="}
	for _, s := range settings {
		opts = append(opts, "-c", s)
	}
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "postgres.log"),
		"-o", strings.Join(opts, " "), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
		return fmt.Errorf("start PostgreSQL on port %d: %v: %s\n%s", c.Port, err, out, tail(string(log), 2000))
	}
	return nil
}

// Stop stops the server (fast shutdown).
func (c *Cluster) Stop() error {
	out, err := c.command("pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop PostgreSQL: %v: %s", err, out)
	}
	return nil
}

// Running reports whether the cluster's postmaster is up.
func (c *Cluster) Running() bool {
	return c.command("pg_ctl", "-D", c.dataDir(), "status").Run() == nil
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.runAs == nil {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.runAs.Username, "--", path}, args...)...)
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	return os.Chown(path, uid, gid)
}

// findBinaries finds initdb and pg_ctl (and their siblings, such as pg_basebackup) on PATH
// or in Debian's /usr/lib/postgresql/N/bin.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// A link into an installation (/usr/local/bin/pg_ctl → …/15/bin/pg_ctl): take the
		// installation's directory, which has the other binaries too (pg_basebackup).
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := os.Stat(filepath.Join(filepath.Dir(real), "initdb")); err == nil {
				return filepath.Dir(real), nil
			}
		}
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil && versionOf(d) >= 15 {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL 15+ binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitReady waits until the port accepts TCP connections.
func WaitReady(ctx context.Context, port int) error {
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RandomSecret returns n random bytes as hex, for generated passwords and secrets.
func RandomSecret(n int) string { return randomHex(n) }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
