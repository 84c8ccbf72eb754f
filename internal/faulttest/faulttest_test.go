package faulttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/embedded"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/proctest"
	"customerservice/migrations"
)

const secret = "fault-test-secret-at-least-32-bytes!!"

// cluster is this package's own PostgreSQL: the tests stop it, so it is shared with no one.
var cluster *embedded.DB

// clusterSettings are the cluster's options. fsync stays on: these tests are about what
// survives.
var clusterSettings = []string{"max_connections=100"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "customer-service-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach its data directory
	port, err := pgcluster.FreePort()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cluster, err = embedded.Provision(ctx, filepath.Join(dir, "pg"), port, "customer_service_fault", clusterSettings...)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if cluster.Cluster.Running() {
		cluster.Cluster.Stop() //nolint:errcheck
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// PostgreSQL stops under load and starts again: while it is down requests fail at once with
// UNAVAILABLE (none hangs past the deadline) and /readyz says 503; once it is back the same
// server serves again, and every write it acknowledged is there.
func TestFault_DatabaseRestartUnderLoad(t *testing.T) {
	ctx := context.Background()
	const timeout = 3 * time.Second
	pool, err := db.Open(ctx, cluster.AppURL, db.Options{MaxConns: 10, StatementTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	var logs proctest.Output
	api := httpapi.New(httpapi.Deps{
		Log:            zerolog.New(&logs),
		Verifier:       verifier,
		Resolver:       graph.NewResolver(db.NewHandle(pool, nil), graph.ResolverOptions{}),
		RequestTimeout: timeout,
		Ready: func(ctx context.Context) error {
			if err := pool.PingContext(ctx); err != nil {
				return err
			}
			_, err := migrations.Pending(ctx, pool)
			return err
		},
	})
	hs := httptest.NewServer(api)
	defer hs.Close()
	c := newClient(t, hs.URL, auth.Agent)

	load := startLoad(c, 4)
	load.waitForCreates(t, minCreates, 60*time.Second)

	stopped := time.Now()
	if err := cluster.Cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	load.mark("down")
	time.Sleep(2 * time.Second)
	if status := c.status("/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d, want 503", status)
	}

	load.mark("starting") // requests may succeed as soon as PostgreSQL accepts connections
	if err := cluster.Cluster.Start(ctx, clusterSettings...); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	load.mark("up")
	recovered := load.waitForSuccessAfter(started, 30*time.Second)
	if recovered.IsZero() {
		t.Fatal("the server did not recover within 30 s of the database's restart")
	}
	if status := c.status("/readyz"); status != http.StatusOK {
		t.Errorf("/readyz after the restart: %d, want 200", status)
	}
	time.Sleep(time.Second)
	res := load.stop()

	down := res.phase["down"]
	t.Logf("acknowledged: %d creates, %d updates; while down: %d requests, slowest %v, codes %v; recovered %v after the start (%v after the stop)",
		len(res.created), len(res.updated), down.requests, down.slowest, down.codes,
		recovered.Sub(started).Round(time.Millisecond), recovered.Sub(stopped).Round(time.Millisecond))
	if down.requests == 0 {
		t.Fatal("no request ran while the database was down")
	}
	if down.slowest > timeout+time.Second {
		t.Errorf("a request took %v while the database was down: more than the deadline %v", down.slowest, timeout)
	}
	for code, n := range down.codes { // the stop has returned: nothing can succeed
		if code != "UNAVAILABLE" {
			t.Errorf("%d requests failed with %q while the database was down: want UNAVAILABLE", n, code)
		}
	}
	if len(res.created) < minCreates {
		t.Fatalf("only %d creates acknowledged: the load did not run", len(res.created))
	}
	owner := openOwner(t)
	checkNothingLost(t, owner, c.org, res)
	checkNothingHalfApplied(t, owner, c.org)
}

// The server is killed (SIGKILL) while writes are in flight and started again: every write
// it acknowledged is there, and nothing is half applied — each customer has its audit row,
// each customer at most one default address of a kind, each loyalty balance equals the sum
// of its transactions.
func TestFault_ServerKilledMidLoad(t *testing.T) {
	if !cluster.Cluster.Running() {
		t.Fatal("the cluster is not running")
	}
	bin := proctest.BuildT(t)
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var out proctest.Output
	serverLog := &out
	serve := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(),
			"DATABASE_URL="+cluster.AppURL, "JWT_SECRET="+secret, "PORT="+strconv.Itoa(port),
			"LOG_FORMAT=json", "LOG_LEVEL=warn", "REQUEST_TIMEOUT=5s",
			"RATE_LIMIT_ORG_RPS=0", "RATE_LIMIT_SUBJECT_RPS=0")
		cmd.Stdout, cmd.Stderr = serverLog, serverLog
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	c := newClient(t, url, auth.Agent)

	first := serve()
	if !c.waitReady(30 * time.Second) {
		first.Process.Kill() //nolint:errcheck
		t.Fatalf("the server did not become ready:\n%s", out.String())
	}
	load := startLoad(c, 6)
	load.waitForCreates(t, minCreates, 60*time.Second)
	if err := first.Process.Kill(); err != nil { // SIGKILL: no drain, no deferred cleanup
		t.Fatal(err)
	}
	first.Wait() //nolint:errcheck // killed
	killed := time.Now()
	time.Sleep(300 * time.Millisecond)
	res := load.stop()

	second := serve()
	defer func() {
		second.Process.Kill() //nolint:errcheck
		second.Wait()         //nolint:errcheck
	}()
	if !c.waitReady(30 * time.Second) {
		t.Fatalf("the server did not restart:\n%s", out.String())
	}
	t.Logf("acknowledged before the kill: %d creates, %d updates, %d addresses, %d bonuses; %d requests failed in flight; ready again %v after the kill",
		len(res.created), len(res.updated), len(res.addresses), len(res.bonuses), res.failed, time.Since(killed).Round(time.Millisecond))
	if len(res.created) < minCreates {
		t.Fatalf("only %d creates acknowledged: the load did not run", len(res.created))
	}
	// Through the API, as a client would check: every acknowledged customer is there.
	for id := range res.created {
		var got struct{ Customer *struct{ ID string } }
		if code := c.do(fmt.Sprintf(`{ customer(id: %q) { id } }`, id), &got); code != "ok" || got.Customer == nil {
			t.Errorf("acknowledged customer %s is missing after the restart (%s)", id, code)
		}
	}
	owner := openOwner(t)
	checkNothingLost(t, owner, c.org, res)
	checkNothingHalfApplied(t, owner, c.org)
}

// client calls the API as one agent of a fresh organization.
type client struct {
	t    *testing.T
	base string
	org  uuid.UUID
	tok  string
	http *http.Client
}

func newClient(t *testing.T, base string, role auth.Role) *client {
	org := uuid.New()
	tok, err := auth.Mint(secret, auth.Principal{UserID: uuid.New(), OrganizationID: org, Roles: []auth.Role{role}}, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// The client's own timeout is far past the server's deadline: a hang shows as a slow
	// request, not as a client error.
	return &client{t: t, base: base, org: org, tok: tok, http: &http.Client{Timeout: 30 * time.Second}}
}

// do runs a GraphQL request and returns "ok", the first error's code, or "http" when the
// request got no GraphQL answer (connection refused or reset).
func (c *client) do(query string, out any) string {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.tok)
	res, err := c.http.Do(req)
	if err != nil {
		return "http"
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r struct {
		Data   json.RawMessage
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if json.Unmarshal(raw, &r) != nil {
		return "http"
	}
	if len(r.Errors) > 0 {
		return r.Errors[0].Extensions.Code
	}
	if out != nil && json.Unmarshal(r.Data, out) != nil {
		return "bad data"
	}
	return "ok"
}

func (c *client) status(path string) int {
	res, err := c.http.Get(c.base + path)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func (c *client) waitReady(limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c.status("/readyz") == http.StatusOK {
			return true
		}
	}
	return false
}

// load is writers creating customers, then for each: updating it, adding a default address,
// enrolling it in loyalty and awarding bonus points — recording every acknowledged write.
type load struct {
	c      *client
	stopCh chan struct{}
	wg     sync.WaitGroup
	phaseV atomic.Value // string: the phase requests are counted in
	seq    atomic.Int64

	mu         sync.Mutex
	res        loadResult
	lastOKTime time.Time
}

type loadResult struct {
	created   map[string]string // customer id → email
	updated   map[string]int    // customer id → last acknowledged version (notes "v<n>")
	addresses map[string]string // address id → customer id
	bonuses   map[string]string // bonus referenceId → customer id
	failed    int
	phase     map[string]*phaseStats
}

type phaseStats struct {
	requests int
	slowest  time.Duration
	codes    map[string]int
}

func startLoad(c *client, writers int) *load {
	l := &load{c: c, stopCh: make(chan struct{}), res: loadResult{
		created: map[string]string{}, updated: map[string]int{}, addresses: map[string]string{},
		bonuses: map[string]string{}, phase: map[string]*phaseStats{},
	}}
	l.phaseV.Store("up")
	for range writers {
		l.wg.Add(1)
		go l.writer()
	}
	return l
}

func (l *load) mark(phase string) { l.phaseV.Store(phase) }

// call runs one request and books its outcome in the current phase.
func (l *load) call(query string, out any) bool {
	phase := l.phaseV.Load().(string)
	start := time.Now()
	code := l.c.do(query, out)
	d := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.res.phase[phase]
	if p == nil {
		p = &phaseStats{codes: map[string]int{}}
		l.res.phase[phase] = p
	}
	p.requests++
	p.codes[code]++
	p.slowest = max(p.slowest, d)
	if code == "ok" {
		l.lastOKTime = time.Now()
	} else {
		l.res.failed++
	}
	return code == "ok"
}

func (l *load) writer() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stopCh:
			return
		default:
		}
		n := l.seq.Add(1)
		email := fmt.Sprintf("fault-%d-%s@example.com", n, uuid.NewString()[:8])
		var created struct {
			CreateCustomer struct {
				Customer   *struct{ ID string }
				UserErrors []struct{ Code string }
			}
		}
		if !l.call(fmt.Sprintf(`mutation { createCustomer(input: {firstName: "Fault", lastName: "Test%d", email: %q}) { customer { id } userErrors { code } } }`, n, email), &created) ||
			created.CreateCustomer.Customer == nil {
			time.Sleep(20 * time.Millisecond) // failing fast: do not spin
			continue
		}
		id := created.CreateCustomer.Customer.ID
		l.ack(func(r *loadResult) { r.created[id] = email })

		for v := 1; v <= 2; v++ {
			var updated struct {
				UpdateCustomer struct{ Customer *struct{ ID string } }
			}
			if l.call(fmt.Sprintf(`mutation { updateCustomer(id: %q, input: {notes: "v%d"}) { customer { id } } }`, id, v), &updated) &&
				updated.UpdateCustomer.Customer != nil {
				l.ack(func(r *loadResult) { r.updated[id] = v })
			}
		}
		var address struct {
			AddAddress struct{ Address *struct{ ID string } }
		}
		if l.call(fmt.Sprintf(`mutation { addAddress(customerId: %q, input: {addressLine1: "Calle %d", city: "Panamá", isDefault: true}) { address { id } } }`, id, n), &address) &&
			address.AddAddress.Address != nil {
			l.ack(func(r *loadResult) { r.addresses[address.AddAddress.Address.ID] = id })
		}
		var enrolled struct {
			EnrollLoyalty struct{ LoyaltyAccount *struct{ ID string } }
		}
		if !l.call(fmt.Sprintf(`mutation { enrollLoyalty(customerId: %q) { loyaltyAccount { id } } }`, id), &enrolled) ||
			enrolled.EnrollLoyalty.LoyaltyAccount == nil {
			continue
		}
		ref := "fault-bonus-" + uuid.NewString()
		var bonus struct {
			AwardBonusPoints struct{ Transaction *struct{ ID string } }
		}
		if l.call(fmt.Sprintf(`mutation { awardBonusPoints(input: {customerId: %q, points: 25, reason: "fault test", referenceId: %q}) { transaction { id } } }`, id, ref), &bonus) &&
			bonus.AwardBonusPoints.Transaction != nil {
			l.ack(func(r *loadResult) { r.bonuses[ref] = id })
		}
	}
}

func (l *load) ack(f func(*loadResult)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.res)
}

// minCreates is how many acknowledged creates make the load worth checking: the fault comes
// only once the load has written this many, however slow the machine.
const minCreates = 20

// waitForCreates waits until the load has acknowledged n creates (the fault tests strike
// after that, not after a fixed time, which a loaded machine may not fill).
func (l *load) waitForCreates(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		l.mu.Lock()
		got := len(l.res.created)
		l.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("the load acknowledged fewer than %d creates in %v", n, limit)
}

// waitForSuccessAfter waits for a request that succeeds after t, and returns when it did.
func (l *load) waitForSuccessAfter(t time.Time, limit time.Duration) time.Time {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		l.mu.Lock()
		ok := l.lastOKTime
		l.mu.Unlock()
		if ok.After(t) {
			return ok
		}
	}
	return time.Time{}
}

func (l *load) stop() loadResult {
	close(l.stopCh)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.res
}

func openOwner(t *testing.T) *db.Pool {
	owner, err := db.Open(context.Background(), cluster.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	return owner
}

// checkNothingLost re-reads every acknowledged write.
func checkNothingLost(t *testing.T, owner *db.Pool, org uuid.UUID, res loadResult) {
	t.Helper()
	ctx := context.Background()
	lost := 0
	for id, email := range res.created {
		var stored string
		var notes *string
		err := owner.QueryRowContext(ctx, "SELECT email, notes FROM customers WHERE customer_id = ? AND organization_id = ?", id, org).Scan(&stored, &notes)
		if err != nil || stored != email {
			t.Errorf("acknowledged customer %s lost: %v", id, err)
			lost++
			continue
		}
		// A later update may have committed without its answer reaching the client, so the
		// stored version is the last acknowledged one or later.
		if v, ok := res.updated[id]; ok {
			got := 0
			if notes != nil {
				got, _ = strconv.Atoi(strings.TrimPrefix(*notes, "v"))
			}
			if got < v {
				t.Errorf("customer %s: acknowledged update v%d lost (stored %v)", id, v, got)
				lost++
			}
		}
	}
	for addressID, customerID := range res.addresses {
		var n int
		owner.QueryRowContext(ctx, "SELECT count(*) FROM addresses WHERE address_id = ? AND customer_id = ?", addressID, customerID).Scan(&n) //nolint:errcheck
		if n != 1 {
			t.Errorf("acknowledged address %s lost", addressID)
			lost++
		}
	}
	for ref, customerID := range res.bonuses {
		var n int
		owner.QueryRowContext(ctx, `SELECT count(*) FROM loyalty_transactions t JOIN loyalty_accounts a USING (loyalty_account_id)
			WHERE t.reference_id = ? AND a.customer_id = ?`, ref, customerID).Scan(&n) //nolint:errcheck
		if n != 1 {
			t.Errorf("acknowledged bonus %s: %d transactions, want 1", ref, n)
			lost++
		}
	}
	t.Logf("re-read %d acknowledged writes: %d lost", len(res.created)+len(res.updated)+len(res.addresses)+len(res.bonuses), lost)
}

// checkNothingHalfApplied checks the invariants each mutation's transaction keeps.
func checkNothingHalfApplied(t *testing.T, owner *db.Pool, org uuid.UUID) {
	t.Helper()
	for name, query := range map[string]string{
		"customers without their creation's audit row": `SELECT count(*) FROM customers c WHERE c.organization_id = ?0
			AND NOT EXISTS (SELECT FROM audit_log a WHERE a.organization_id = ?0 AND a.entity_id = c.customer_id AND a.action = 'customer.create')`,
		"addresses without their audit row": `SELECT count(*) FROM addresses d WHERE d.organization_id = ?0
			AND NOT EXISTS (SELECT FROM audit_log a WHERE a.organization_id = ?0 AND a.entity_id = d.address_id)`,
		"customers with two default addresses of a kind": `SELECT count(*) FROM (SELECT customer_id FROM addresses
			WHERE organization_id = ?0 AND is_default AND is_active GROUP BY customer_id, address_type HAVING count(*) > 1) x`,
		"loyalty balances that differ from their transactions": `SELECT count(*) FROM loyalty_accounts a WHERE a.organization_id = ?0
			AND a.points_balance <> (SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t WHERE t.loyalty_account_id = a.loyalty_account_id)`,
	} {
		var n int
		if err := owner.QueryRowContext(context.Background(), query, org).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, name)
		}
	}
}
