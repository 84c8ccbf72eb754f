package browsertest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"customerservice/db"
	"customerservice/internal/embedded"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/proctest"
	"customerservice/seed"
)

// customer360 is the query typed into GraphiQL, short lines so the screenshot shows it whole.
const customer360 = `query Customer360($id: UUID!) {
  customer(id: $id) {
    fullName
    customerType
    email
    phone
    documentNumber
    status
    defaultShippingAddress { city country }
    loyaltyAccount { tier pointsBalance }
    creditAccount { creditLimit creditUsed }
    segment { segmentCode isVip isAtRisk }
  }
}
`

// liveEvents is the subscription run in GraphiQL after the query.
const liveEvents = `subscription LiveEvents($id: UUID!) {
  customerEvents(customerId: $id) {
    id
    kind
    occurredAt
    actor
    points
    balanceAfter
  }
}
`

// GraphiQL as a person uses it, on the embedded default exactly as `go run .` starts it:
// with the printed token in the Headers tab, a Customer 360 query shows the customer's data
// as the database has it, the docs explorer shows Query.customer's descriptions from
// schema.graphqls, and a subscription to the customer's events shows, in the result panel,
// the points change a mutation then makes.
func TestGraphiQL_Customer360AndDocsInChromium(t *testing.T) {
	if os.Getenv("BROWSER_TEST") == "" {
		t.Skip("set BROWSER_TEST=1 to run GraphiQL in headless Chromium (needs chromium, node, and `npm ci` in internal/browsertest)")
	}
	// Asked for, so a missing prerequisite is a failure, not a skip.
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s (set CHROMIUM, or on Debian: apt-get install chromium): %v", chromium, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		t.Fatal("node_modules/playwright-core is missing: run `npm ci` in internal/browsertest")
	}
	fieldDescription, argumentDescription := customerDescriptions(t)

	work := t.TempDir()
	bin, err := proctest.Build(work)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := dataDir(t)
	port, pgPort := freePort(t), freePort(t)
	url, token := serve(t, bin, dataDir, port, pgPort)
	want := demoCustomer(t, dataDir, pgPort)
	t.Logf("GraphiQL at %s; customer %s (%s)", url, want.id, want.fullName)

	if err := os.MkdirAll("out", 0o755); err != nil {
		t.Fatal(err)
	}
	screenshot, err := filepath.Abs(filepath.Join("out", "graphiql.png"))
	if err != nil {
		t.Fatal(err)
	}
	subscriptionShot := filepath.Join(filepath.Dir(screenshot), "graphiql-subscription.png")
	for _, old := range []string{screenshot, strings.TrimSuffix(screenshot, ".png") + "-failure.png", subscriptionShot} {
		os.Remove(old) //nolint:errcheck // a previous run's, if any
	}
	profile := filepath.Join(work, "chromium-profile")
	config, err := json.Marshal(map[string]any{
		"url":       url,
		"token":     token,
		"query":     customer360,
		"variables": fmt.Sprintf("{\n  \"id\": %q\n}", want.id),
		// As the result panel prints them: JSON members of the customer's data.
		"expectInResult": []string{
			fmt.Sprintf("%q: %q", "fullName", want.fullName),
			fmt.Sprintf("%q: %q", "email", want.email),
			fmt.Sprintf("%q: %q", "tier", want.tier),
			fmt.Sprintf("%q: %q", "creditLimit", want.creditLimit),
		},
		"fieldDescription":    fieldDescription,
		"argumentDescription": argumentDescription,
		"chromiumPath":        chromium,
		"profileDir":          profile,
		"screenshot":          screenshot,
		"subscription":        liveEvents,
		"mutation": map[string]any{
			"query": `mutation($in: AdjustPointsInput!) { adjustPoints(input: $in) { transaction { id } userErrors { code message } } }`,
			"variables": map[string]any{"in": map[string]any{
				"customerId": want.id, "points": 25, "reason": "browser test", "idempotencyKey": "browsertest-" + strconv.FormatInt(time.Now().UnixNano(), 10),
			}},
		},
		"points":                 25,
		"subscriptionScreenshot": subscriptionShot,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e2e := exec.CommandContext(ctx, node, "e2e.mjs", string(config))
	// On timeout SIGTERM, on which playwright closes Chromium; SIGKILL if that hangs.
	e2e.Cancel = func() error { return e2e.Process.Signal(syscall.SIGTERM) }
	e2e.WaitDelay = 15 * time.Second
	out, err := e2e.CombinedOutput()
	killBrowser(t, profile) // in case node died without closing it
	if err != nil {
		t.Fatalf("e2e.mjs: %v\n%s", err, out)
	}
	t.Logf("e2e.mjs:\n%s", out)
	t.Logf("screenshot: %s (copy it to docs/graphiql.png to update the README's)", screenshot)
}

// customerDescriptions reads Query.customer's description and its id argument's from
// schema.graphqls: what the docs explorer must show.
func customerDescriptions(t *testing.T) (field, argument string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	query := doc.Definitions.ForName("Query")
	if query == nil || query.Fields.ForName("customer") == nil {
		t.Fatal("schema.graphqls has no Query.customer")
	}
	f := query.Fields.ForName("customer")
	id := f.Arguments.ForName("id")
	if f.Description == "" || id == nil || id.Description == "" {
		t.Fatal("Query.customer or its id argument has no description in schema.graphqls")
	}
	return f.Description, id.Description
}

// dataDir is a fresh DATA_DIR that, as root, the postgres user can reach.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "customer-service-browsertest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// serve starts `serve` on the embedded default, as `go run .` does, and returns the
// GraphiQL URL and token it prints. At cleanup it stops the server with SIGTERM (it then
// stops its PostgreSQL), and stops that PostgreSQL itself if the server did not.
func serve(t *testing.T, bin, dataDir string, port, pgPort int) (url, token string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	// Only what the embedded default needs: nothing of the caller's DATABASE_URL or JWT settings.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dataDir, "PORT=" + strconv.Itoa(port),
		"EMBEDDED_PG_PORT=" + strconv.Itoa(pgPort), "LOG_FORMAT=json",
	}
	logs := &proctest.Output{}
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	printed := make(chan [2]string, 1)
	go func() {
		url, token := readWelcome(io.TeeReader(stdout, logs))
		printed <- [2]string{url, token}
		io.Copy(logs, stdout) //nolint:errcheck // until the server exits
		cmd.Wait()            //nolint:errcheck // its exit is reported by the log
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop within 30 s of SIGTERM: killed")
			cmd.Process.Kill() //nolint:errcheck
			<-exited
		}
		stopPostgres(t, dataDir, pgPort)
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	})

	select {
	case p := <-printed:
		if p[0] == "" || p[1] == "" {
			<-exited
			t.Fatalf("the server exited without printing the GraphiQL URL and a token:\n%s", logs.String())
		}
		return p[0], p[1]
	case <-time.After(3 * time.Minute): // the first start runs initdb and loads the demo organization
		t.Fatalf("the server printed no GraphiQL URL within 3 minutes:\n%s", logs.String())
	}
	return "", ""
}

// readWelcome reads the server's welcome (cli/serve.go's printWelcome) until the GraphiQL URL
// and the token have been printed, or the output ends.
func readWelcome(r io.Reader) (url, token string) {
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		switch fields := strings.Fields(lines.Text()); {
		case len(fields) == 2 && fields[0] == "GraphiQL":
			url = fields[1]
		case len(fields) == 2 && fields[0] == "Token":
			token = fields[1]
		}
		if url != "" && token != "" {
			return url, token
		}
	}
	return "", ""
}

// stopPostgres stops the embedded PostgreSQL under dataDir if it is still running: the
// server stops it on SIGTERM, but not if it crashed or was killed.
func stopPostgres(t *testing.T, dataDir string, port int) {
	dir := filepath.Join(dataDir, "pg")
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		return
	}
	c, err := pgcluster.Open(dir, port)
	if err == nil && c.Running() {
		t.Log("the embedded PostgreSQL outlived the server: stopping it")
		err = c.Stop()
	}
	if err != nil {
		t.Errorf("stop the embedded PostgreSQL: %v", err)
	}
}

type customer struct {
	id, fullName, email, tier, creditLimit string
}

// demoCustomer reads, as the owner and straight from the database, the first demo customer
// with every part of the 360 view (loyalty, credit and segment), so the answer and the
// screenshot show them all.
func demoCustomer(t *testing.T, dataDir string, pgPort int) customer {
	t.Helper()
	c, err := pgcluster.Open(filepath.Join(dataDir, "pg"), pgPort)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := db.Open(t.Context(), c.SuperuserURL(embedded.DBName), db.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var cu customer
	err = owner.QueryRowContext(t.Context(), `
		SELECT c.customer_id, c.first_name || ' ' || c.last_name, c.email, upper(l.tier), a.credit_limit::text
		FROM customers c
		JOIN loyalty_accounts l USING (customer_id)
		JOIN credit_accounts a USING (customer_id)
		JOIN customer_segments s USING (customer_id)
		WHERE c.organization_id = ? AND c.email IS NOT NULL
		ORDER BY c.created_at, c.customer_id
		LIMIT 1`, seed.DemoOrg).Scan(&cu.id, &cu.fullName, &cu.email, &cu.tier, &cu.creditLimit)
	if err != nil {
		t.Fatalf("a demo customer with loyalty, credit and a segment: %v", err)
	}
	return cu
}

// killBrowser kills any Chromium process still using profile: Chromium runs in its own
// process group, so it would outlive a node that was killed. The profile folder is this
// test's own, so nothing else is touched.
func killBrowser(t *testing.T, profile string) {
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return
	}
	mark := []byte("--user-data-dir=" + profile + "\x00")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(cmdline, mark) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		switch err := syscall.Kill(pid, syscall.SIGKILL); {
		case err == nil:
			t.Logf("killed a leftover Chromium process %d", pid)
		case !errors.Is(err, syscall.ESRCH): // ESRCH: it has just exited
			t.Errorf("kill Chromium %d: %v", pid, err)
		}
	}
}
