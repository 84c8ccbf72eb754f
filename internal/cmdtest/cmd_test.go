package cmdtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/httpapi/graphiql"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/proctest"
	"customerservice/internal/testkit/testdb"
	"customerservice/migrations"
	"customerservice/seed"
)

const secret = "cmd-test-secret-at-least-32-bytes!!!"

var (
	built    = make(chan struct{}) // closed when the build has ended
	binDir   string
	bin      string
	buildErr error
)

// TestMain builds the binary while the package's PostgreSQL starts.
func TestMain(m *testing.M) {
	go func() {
		defer close(built)
		if binDir, buildErr = os.MkdirTemp("", "customer-service-cmd-"); buildErr != nil {
			return
		}
		bin, buildErr = proctest.Build(binDir)
	}()
	code := testdb.Main(m)
	<-built
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary is the built customer-service.
func binary(t *testing.T) string {
	t.Helper()
	<-built
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// environment is a clean environment with the settings given as NAME=value: nothing of the
// test's own environment leaks into the command's configuration.
func environment(settings ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LOG_FORMAT=json"}, settings...)
}

// outcome is how a command ended.
type outcome struct {
	stdout, stderr string
	exitCode       int
}

// runCommand runs the binary with args to its end (at most a minute).
func runCommand(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%v: %v", args, err)
	}
	return outcome{stdout: stdout.String(), stderr: stderr.String(), exitCode: cmd.ProcessState.ExitCode()}
}

// ---- token ---------------------------------------------------------------------------

// claims decodes a token's payload (the signature is checked separately).
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// §7: `token` mints an HS256 token with JWT_SECRET that the server's verifier accepts, with
// the organization, user and roles given (spaces around the roles trimmed) and the TTL.
func TestToken_MintsAVerifiableTokenOfTheGivenPrincipal(t *testing.T) {
	org, sub := uuid.New(), uuid.New()
	out := runCommand(t, environment("JWT_SECRET="+secret, "DATABASE_URL=postgres://u:p@127.0.0.1:1/x"),
		"token", "--org", org.String(), "--sub", sub.String(), "--roles", " viewer, admin ", "--ttl", "90m")
	if out.exitCode != 0 {
		t.Fatalf("exit %d: %s", out.exitCode, out.stderr)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	p, err := verifier.Verify(strings.TrimSpace(out.stdout))
	if err != nil {
		t.Fatalf("the server would refuse the token: %v", err)
	}
	if p.OrganizationID != org || p.UserID != sub || !slices.Equal(p.Roles, []auth.Role{auth.Viewer, auth.Admin}) {
		t.Fatalf("principal %+v, want org %s, sub %s, roles [viewer admin]", p, org, sub)
	}
	c := claims(t, out.stdout)
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 90*60 {
		t.Errorf("exp − iat = %v s, want 5400 (--ttl 90m)", exp-iat)
	}
}

// `token` refuses what it cannot turn into a principal, saying which flag is wrong.
func TestToken_RefusesBadFlags(t *testing.T) {
	env := environment("JWT_SECRET="+secret, "DATABASE_URL=postgres://u:p@127.0.0.1:1/x")
	org := uuid.NewString()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown role", []string{"--org", org, "--roles", "viewer,root"}, `--roles: "root" is not a role; use viewer, agent, manager or admin, comma-separated`},
		{"no roles", []string{"--org", org}, `--roles: "" is not a role`},
		{"org not a UUID", []string{"--org", "acme", "--roles", "viewer"}, `--org "acme" is not an organization UUID`},
		{"no org outside embedded mode", []string{"--roles", "viewer"}, `--org "" is not an organization UUID`},
		{"sub not a UUID", []string{"--org", org, "--sub", "user-7", "--roles", "viewer"}, `--sub "user-7" is not a user UUID`},
		{"ttl not positive", []string{"--org", org, "--roles", "viewer", "--ttl", "-1h"}, "--ttl must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := runCommand(t, env, append([]string{"token"}, tc.args...)...)
			if out.exitCode != 1 || out.stdout != "" || !strings.Contains(out.stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, no token, and %q", out.exitCode, out.stdout, out.stderr, tc.want)
			}
		})
	}
}

// In embedded mode (no DATABASE_URL) `token` needs no flag but the roles: it signs with the
// secret the server keeps under DATA_DIR (without starting PostgreSQL), for the demo
// organization.
func TestToken_DefaultsToTheDemoOrganizationInEmbeddedMode(t *testing.T) {
	dataDir := t.TempDir()
	kept := "a-secret-the-server-made-at-its-first-start"
	if err := os.WriteFile(filepath.Join(dataDir, "jwt-secret"), []byte(kept+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runCommand(t, environment("DATA_DIR="+dataDir), "token", "--roles", "agent")
	if out.exitCode != 0 {
		t.Fatalf("exit %d: %s", out.exitCode, out.stderr)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: kept})
	if err != nil {
		t.Fatal(err)
	}
	p, err := verifier.Verify(strings.TrimSpace(out.stdout))
	if err != nil {
		t.Fatalf("the token is not signed with the kept secret: %v", err)
	}
	if p.OrganizationID != seed.DemoOrg || p.UserID == uuid.Nil || !slices.Equal(p.Roles, []auth.Role{auth.Agent}) {
		t.Fatalf("principal %+v, want the demo organization %s, a user, roles [agent]", p, seed.DemoOrg)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token started the embedded PostgreSQL (DATA_DIR/pg exists: %v)", err)
	}
}

// With a DATA_DIR no server has started on (not the running server's), `token` would sign
// with a secret of its own that every server rejects: it refuses, naming the folder, and
// creates nothing there.
func TestToken_RefusesADataDirWithoutTheServersSecret(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "elsewhere")
	out := runCommand(t, environment("DATA_DIR="+dataDir), "token", "--roles", "admin")
	if out.exitCode != 1 || out.stdout != "" || !strings.Contains(out.stderr, "no JWT secret in DATA_DIR="+dataDir) ||
		!strings.Contains(out.stderr, "no server would accept") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, no token, the folder named", out.exitCode, out.stdout, out.stderr)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token created DATA_DIR (%v)", err)
	}
}

// ---- help ----------------------------------------------------------------------------

// Every command answers --help (and -h) the same way: the full usage on stderr, exit 0,
// without touching a database.
func TestHelp_EveryCommandPrintsTheUsageAndExits0(t *testing.T) {
	env := environment("DATA_DIR=" + t.TempDir())
	for _, cmd := range []string{"serve", "migrate", "seed", "token", "jobs", "jobs run", "segments", "segments recalc", "import", "import customers", "import purchases"} {
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(cmd), flag)
			out := runCommand(t, env, args...)
			if out.exitCode != 0 || !strings.Contains(out.stderr, "Usage:") || !strings.Contains(out.stderr, "segments recalc") {
				t.Errorf("%s: exit %d, stderr %q; want exit 0 and the full usage", strings.Join(args, " "), out.exitCode, out.stderr)
			}
		}
	}
}

// ---- migrate -------------------------------------------------------------------------

// statusLines is what `migrate status` prints when every migration is in state.
func statusLines(state string) string {
	var b strings.Builder
	for _, m := range migrations.Migrations.Sorted() {
		fmt.Fprintf(&b, "%-8s %s_%s\n", state, m.Name, m.Comment)
	}
	return b.String()
}

// `migrate status` lists every migration, pending on a new database and applied after
// `migrate up` (which prints the same list); an unknown action is a usage error.
func TestMigrate_StatusListsEachMigrationPendingThenApplied(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	admin, err := db.Open(ctx, tdb.Cluster.SuperuserURL("postgres"), db.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE cmd_migrate_status"); err != nil {
		t.Fatal(err)
	}
	env := environment("MIGRATE_DATABASE_URL="+tdb.Cluster.SuperuserURL("cmd_migrate_status"), "JWT_SECRET="+secret)
	if n := len(migrations.Migrations.Sorted()); n < 6 || !strings.HasPrefix(statusLines("applied"), "applied  20261125000001_init\n") {
		t.Fatalf("the migrations are not what this test knows (%d): %s", n, statusLines("applied"))
	}

	for _, step := range []struct{ action, want string }{
		{"status", statusLines("pending")},
		{"up", statusLines("applied")},
		{"status", statusLines("applied")},
	} {
		out := runCommand(t, env, "migrate", step.action)
		if out.exitCode != 0 || out.stdout != step.want {
			t.Fatalf("migrate %s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", step.action, out.exitCode, out.stdout, step.want, out.stderr)
		}
	}
	out := runCommand(t, env, "migrate", "sideways")
	if out.exitCode != 1 || !strings.Contains(out.stderr, "usage: customer-service migrate up|down|status") {
		t.Errorf("migrate sideways: exit %d, stderr %q", out.exitCode, out.stderr)
	}
}

// ---- serve ---------------------------------------------------------------------------

// serveProcess is one `customer-service serve`.
type serveProcess struct {
	url    string
	cmd    *exec.Cmd
	log    *proctest.Output
	exited chan struct{} // closed when the process has ended
	err    error         // cmd.Wait's, once exited
}

// startServe starts serve as the server's role of the test database and waits until
// /healthz answers.
func startServe(t *testing.T, settings ...string) *serveProcess {
	t.Helper()
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: &proctest.Output{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary(t), "serve")
	s.cmd.Env = environment(append([]string{"DATABASE_URL=" + testdb.Get(t).AppURL, "JWT_SECRET=" + secret,
		"PORT=" + strconv.Itoa(port), "JOBS_ENABLED=false", "RATE_LIMIT_ORG_RPS=0", "RATE_LIMIT_SUBJECT_RPS=0"}, settings...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill() //nolint:errcheck
			<-s.exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(s.url + "/healthz"); err == nil {
			res.Body.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited (%v) before answering:\n%s", s.err, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer /healthz within 30 s:\n%s", s.log.String())
		}
	}
}

// terminate sends SIGTERM.
func (s *serveProcess) terminate(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits for the process to end and fails unless it exited 0.
func (s *serveProcess) waitExit(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("serve exited with %v:\n%s", s.err, s.log.String())
		}
	case <-time.After(within):
		t.Fatalf("serve did not exit within %v:\n%s", within, s.log.String())
	}
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

// §9: /healthz says the process is up, / is GraphiQL pointed at /graphql; SIGTERM with no
// request in flight ends serve at once with exit code 0.
func TestServe_HealthzAndGraphiQL(t *testing.T) {
	s := startServe(t)
	status, contentType, body := get(t, s.url+"/healthz")
	if status != http.StatusOK || !strings.HasPrefix(contentType, "application/json") || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/healthz: %d %s %q", status, contentType, body)
	}
	status, contentType, body = get(t, s.url+"/")
	if status != http.StatusOK || !strings.HasPrefix(contentType, "text/html") || !strings.Contains(body, "graphiql") ||
		!strings.Contains(body, `"/graphql"`) {
		t.Errorf("GraphiQL at /: %d %s, page mentions graphiql %v and \"/graphql\" %v", status, contentType,
			strings.Contains(body, "graphiql"), strings.Contains(body, `"/graphql"`))
	}
	// Everything the page loads comes from the binary: no CDN, so it works offline.
	if strings.Contains(body, "https://") {
		t.Errorf("GraphiQL's page loads something from another host:\n%s", body)
	}
	for _, asset := range graphiql.Files() {
		if status, contentType, _ := get(t, s.url+graphiql.Prefix+asset); status != http.StatusOK {
			t.Errorf("%s%s: %d %s", graphiql.Prefix, asset, status, contentType)
		}
	}
	status, _, _ = get(t, s.url+"/readyz")
	if status != http.StatusOK {
		t.Errorf("/readyz: %d", status)
	}
	s.terminate(t)
	s.waitExit(t, 10*time.Second)
}

// §9: on SIGTERM serve stops taking connections, lets the request in flight finish and
// exits 0. The request is an updateCustomer that waits for a row lock this test holds; the
// lock is released only after SIGTERM, so the request is still running when the signal
// comes.
func TestServe_DrainsTheRequestInFlightOnSIGTERM(t *testing.T) {
	tdb := testdb.Get(t)
	ctx := context.Background()
	s := startServe(t)
	owner, err := db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	org, customer := uuid.New(), uuid.New()
	if _, err := owner.ExecContext(ctx, `INSERT INTO customers (customer_id, organization_id, first_name, last_name)
		VALUES (?, ?, 'Ana', 'Pérez')`, customer, org); err != nil {
		t.Fatal(err)
	}
	token, err := auth.Mint(secret, auth.Principal{UserID: uuid.New(), OrganizationID: org, Roles: []auth.Role{auth.Agent}}, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}

	hold, err := owner.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback() //nolint:errcheck
	if _, err := hold.ExecContext(ctx, "SELECT 1 FROM customers WHERE customer_id = ? FOR UPDATE", customer); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(
			`mutation { updateCustomer(id: %q, input: {lastName: "Drained"}) { customer { lastName } userErrors { code } } }`, customer)})
		req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answered <- answer{status: res.StatusCode, body: string(b)}
	}()
	// The mutation is in flight once its statement waits for the lock.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		if err := owner.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'customer-service' AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mutation never waited for the lock:\n%s", s.log.String())
		}
	}

	s.terminate(t)
	// Draining: no new connection is accepted, the process waits for the request.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), 200*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("serve still accepts connections 5 s after SIGTERM")
		}
	}
	select {
	case <-s.exited:
		t.Fatalf("serve exited (%v) with a request in flight:\n%s", s.err, s.log.String())
	case a := <-answered:
		t.Fatalf("the request ended before the lock was released: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}

	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-answered:
		want := `{"data":{"updateCustomer":{"customer":{"lastName":"Drained"},"userErrors":[]}}}`
		if a.err != nil || a.status != http.StatusOK || a.body != want {
			t.Errorf("the drained request: status %d, body %s, err %v; want 200 %s", a.status, a.body, a.err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not finish after the lock was released")
	}
	s.waitExit(t, 10*time.Second)
	var lastName string
	if err := owner.QueryRowContext(ctx, "SELECT last_name FROM customers WHERE customer_id = ?", customer).Scan(&lastName); err != nil {
		t.Fatal(err)
	}
	if lastName != "Drained" {
		t.Errorf("the drained update did not commit: last_name %q", lastName)
	}
}

// §7 end to end: serve as a superuser exits 1 before listening, saying why and what to do.
func TestServe_RefusesASuperuserRole(t *testing.T) {
	tdb := testdb.Get(t)
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	out := runCommand(t, environment("DATABASE_URL="+tdb.OwnerURL, "JWT_SECRET="+secret, "PORT="+strconv.Itoa(port), "JOBS_ENABLED=false"), "serve")
	want := `customer-service: database role "postgres" is a superuser: row-level security would not isolate organizations; ` +
		"connect as a role that is a member of customer_service_app (or pass --allow-unsafe-role for local debugging)\n"
	if out.exitCode != 1 || !strings.HasSuffix(out.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 ending with:\n%s", out.exitCode, out.stderr, want)
	}
	if strings.Contains(out.stderr, "serving GraphQL") {
		t.Errorf("serve started listening before refusing the role:\n%s", out.stderr)
	}
}

// ---- stopping at any moment ----------------------------------------------------------

// A SIGINT at any moment of the start — while the database is opened and checked, while the
// jobs' connection opens, right at the "serving" line, once serving — stops serve
// gracefully: exit 0. (It used to exit 1 with "connect to database: … context canceled" when
// the signal came within milliseconds of the banner.) The moments count from serve's first
// (debug) line, from which on the process handles signals.
func TestServe_SIGINTAtAnyMomentOfTheStartExits0(t *testing.T) {
	url := testdb.Get(t).AppURL
	for _, tc := range []struct {
		after string
		delay time.Duration
	}{
		{"starting", 0}, {"starting", time.Millisecond}, {"starting", 5 * time.Millisecond},
		{"starting", 20 * time.Millisecond}, {"starting", 50 * time.Millisecond},
		{"serving GraphQL", 0}, {"serving GraphQL", 2 * time.Millisecond}, {"serving GraphQL", 20 * time.Millisecond},
	} {
		name := fmt.Sprintf("%s+%s", tc.after, tc.delay)
		t.Run(name, func(t *testing.T) {
			port, err := pgcluster.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary(t), "serve")
			cmd.Env = environment("DATABASE_URL="+url, "JWT_SECRET="+secret, "PORT="+strconv.Itoa(port),
				"JOBS_ENABLED=true", "JOBS_DAILY_AT=23:59", "LOG_LEVEL=debug")
			log := &proctest.Output{}
			cmd.Stdout, cmd.Stderr = log, log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), `"message":"`+tc.after); time.Sleep(200 * time.Microsecond) {
				if time.Now().After(deadline) {
					cmd.Process.Kill() //nolint:errcheck
					t.Fatalf("no %q line within 30 s:\n%s", tc.after, log.String())
				}
			}
			time.Sleep(tc.delay)
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("SIGINT %s: %v\n%s", name, err, log.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill() //nolint:errcheck
				t.Fatalf("serve did not stop within 30 s of SIGINT:\n%s", log.String())
			}
		})
	}
}

// After a crash (SIGKILL) the embedded PostgreSQL is still running; the next start takes it
// over and, stopped with SIGTERM, stops it: no postmaster is left behind. (It used to adopt
// it and leave it running, on every later start too.)
func TestServe_EmbeddedTakesOverThePostgreSQLItsKilledPredecessorLeft(t *testing.T) {
	dataDir, err := os.MkdirTemp("", "customer-service-cmdtest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dataDir, 0o755); err != nil { // as root, the postgres user must reach it
		t.Fatal(err)
	}
	pgPort, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dataDir, "pg", "data", "postmaster.pid")
	t.Cleanup(func() {
		if _, err := os.Stat(pidFile); err == nil {
			if c, err := pgcluster.Open(filepath.Join(dataDir, "pg"), pgPort); err == nil && c.Running() {
				c.Stop() //nolint:errcheck // left by a failure of this test
			}
		}
		os.RemoveAll(dataDir)
	})
	start := func() (*exec.Cmd, *proctest.Output, chan error, string) {
		port, err := pgcluster.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary(t), "serve")
		cmd.Env = environment("DATA_DIR="+dataDir, "PORT="+strconv.Itoa(port), "EMBEDDED_PG_PORT="+strconv.Itoa(pgPort), "JOBS_ENABLED=false")
		log := &proctest.Output{}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
		for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			if res, err := http.Get(url); err == nil {
				res.Body.Close()
				return cmd, log, exited, url
			}
			select {
			case err := <-exited:
				t.Fatalf("serve exited (%v) before answering:\n%s", err, log.String())
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill() //nolint:errcheck
				t.Fatalf("serve did not answer within 3 minutes:\n%s", log.String())
			}
		}
	}

	first, _, firstExited, _ := start()
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-firstExited
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("after SIGKILL the embedded PostgreSQL should still be running (postmaster.pid): %v", err)
	}

	second, log, secondExited, _ := start()
	if !strings.Contains(log.String(), "now owns it") {
		t.Errorf("the second start does not say it took over the PostgreSQL left running:\n%s", log.String())
	}
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-secondExited:
		if err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, log.String())
		}
	case <-time.After(60 * time.Second):
		second.Process.Kill() //nolint:errcheck
		t.Fatalf("serve did not stop within 60 s of SIGTERM:\n%s", log.String())
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the embedded PostgreSQL is still running after the server stopped (postmaster.pid: %v):\n%s", err, log.String())
	}
}

// ---- import --------------------------------------------------------------------------

// `import customers` of the README's sample file: each rejected row on standard output by
// line, the counts on standard error, exit 1 because rows were rejected; a re-run creates
// nothing and says what it found already imported. The flags may follow the file.
func TestImport_PrintsRejectedLinesAndCountsAndReRuns(t *testing.T) {
	env := environment("DATABASE_URL="+testdb.Get(t).AppURL, "JWT_SECRET="+secret)
	org, actor := uuid.New().String(), uuid.New().String()
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "import", "customers.rejected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rejected := string(want)
	file := filepath.Join("..", "..", "docs", "import", "customers.csv")
	for i, args := range [][]string{
		{"import", "customers", "--org", org, "--actor", actor, file},
		{"import", "customers", file, "--org", org, "--actor", actor, "--batch", "3"},
	} {
		out := runCommand(t, env, args...)
		counts := "customers: 14 rows: 5 created, 1 already imported, 8 rejected in "
		if i == 1 {
			counts = "customers: 14 rows: 0 created, 6 already imported, 8 rejected in "
		}
		if out.exitCode != 1 || out.stdout != rejected || !strings.Contains(out.stderr, counts) ||
			!strings.Contains(out.stderr, "customer-service: 8 of 14 rows rejected (listed above, by line); the others are loaded") {
			t.Errorf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i+1, out.exitCode, out.stdout, out.stderr)
		}
	}
	out := runCommand(t, env, "import", "purchases", filepath.Join("..", "..", "docs", "import", "purchases.csv"), "--org", org, "--actor", actor)
	if out.exitCode != 1 || !strings.Contains(out.stderr, "purchases: 10 rows: 3 created, 1 already imported, 6 rejected in ") {
		t.Errorf("purchases: exit %d\nstdout:\n%s\nstderr:\n%s", out.exitCode, out.stdout, out.stderr)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "customers", file, "--org", org}, "--actor must be a user's UUID"},
		{[]string{"import", "customers", file, "--actor", actor}, "--org must be an organization UUID"},
		{[]string{"import", "orders", file}, "usage: customer-service import customers|purchases"},
		{[]string{"import", "customers", "--org", org, "--actor", actor}, "usage: customer-service import customers|purchases"},
		{[]string{"import", "customers", file, file, "--org", org, "--actor", actor}, "usage: customer-service import customers|purchases"},
		{[]string{"import", "customers", "no-such.csv", "--org", org, "--actor", actor}, "no-such.csv: no such file"},
		{[]string{"import", "customers", file, "--org", org, "--actor", actor, "--batch", "0"}, "--batch must be between 1 and 10000"},
	} {
		out := runCommand(t, env, bad.args...)
		if out.exitCode != 1 || !strings.Contains(out.stderr, bad.want) || out.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", bad.args, out.exitCode, out.stderr, bad.want)
		}
	}
}
