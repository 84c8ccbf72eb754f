// Package pgbouncer runs the installed PgBouncer in transaction mode in front of a test
// cluster, configured as README's "Behind PgBouncer" says, so tests can run the service
// through it: server connections are handed out per transaction and shared by every client
// connection — and so by every organization.
package pgbouncer

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"customerservice/internal/pgcluster"
)

// Binary is where Debian's package installs PgBouncer.
const Binary = "/usr/sbin/pgbouncer"

// Start runs PgBouncer with pool_mode = transaction and default_pool_size = poolSize in
// front of the PostgreSQL server that serverURL names, for serverURL's user and password,
// and returns serverURL through PgBouncer. It is stopped when t ends, failed or not. A
// machine without PgBouncer fails the test: scripts/test installs it.
func Start(t testing.TB, serverURL string, poolSize int) string {
	t.Helper()
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		found, lookErr := exec.LookPath("pgbouncer")
		if lookErr != nil {
			t.Fatalf("PgBouncer is not installed (no %s, none on PATH): run the tests with scripts/test, which installs it (or install it, e.g. `apt-get install pgbouncer`)", Binary)
		}
		bin = found
	}
	server, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := server.User.Password()
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "customer-service-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// ignore_startup_parameters: PgBouncer refuses a connection with a startup parameter it
	// does not track, and the service sends statement_timeout (REQUEST_TIMEOUT) as one.
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
pool_mode = transaction
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 1000
ignore_startup_parameters = statement_timeout
logfile = %s
pidfile = %s
`, server.Hostname(), server.Port(), port, filepath.Join(dir, "userlist.txt"), poolSize,
		filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	userlist := fmt.Sprintf("%q %q\n", server.User.Username(), password)
	for name, content := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": userlist} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// PgBouncer refuses to run as root: as root, it switches to the postgres system user
	// (-u), which must own its files.
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root: PgBouncer refuses root and there is no `postgres` system user to run it as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "userlist.txt")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		args = append([]string{"-u", u.Username}, args...)
	}
	cmd := exec.Command(bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start PgBouncer: %v", err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(done) }()
	logFile := filepath.Join(dir, "pgbouncer.log")
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("PgBouncer's log (the end):\n%s", tail(string(log), 4000))
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listening := make(chan error, 1)
	go func() { listening <- pgcluster.WaitReady(ctx, port) }()
	select {
	case err := <-listening:
		if err != nil {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("PgBouncer does not listen on port %d: %v\n%s", port, err, tail(string(log), 4000))
		}
	case <-done:
		t.Fatalf("PgBouncer exited at start: %v\n%s", exitErr, out.String())
	}

	bounced := *server
	bounced.Host = "127.0.0.1:" + strconv.Itoa(port)
	return bounced.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
