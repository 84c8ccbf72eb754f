package livetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/proctest"
	"customerservice/internal/testkit/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// serve starts `customer-service serve` on the test database, with the environment's
// settings and env's, and waits until it is ready; pid is its process.
func serve(t testing.TB, bin, databaseURL string, env ...string) (srv *apitest.Server, pid int) {
	t.Helper()
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	log := &proctest.Output{}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "JWT_SECRET="+apitest.Secret,
		"PORT="+strconv.Itoa(port), "LOG_FORMAT=json", "JOBS_ENABLED=false")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		if t.Failed() {
			t.Logf("server on port %d:\n%s", port, log.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return apitest.Remote(url), cmd.Process.Pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server on port %d was not ready within a minute:\n%s", port, log.String())
		}
	}
}

// Issue 15's "done when": two built servers on one database; a subscription held on server
// A receives, within a second, each points change made through server B — adjustPoints and
// recordPurchase. The delay from commit to client is bounded above by the time from the
// event's own occurredAt (stamped in the write's transaction, before its commit, by the
// database on this machine) to its arrival, and is at least the time from B's answer
// reaching the test (0 when the event was already waiting).
func TestLive_APointsChangeThroughServerBReachesServerAWithinASecond(t *testing.T) {
	tdb := testdb.Get(t)
	bin := proctest.BuildT(t)
	a, _ := serve(t, bin, tdb.AppURL)
	b, _ := serve(t, bin, tdb.AppURL)
	org := uuid.New()
	manager := b.As(t, org, auth.Manager)

	var created struct {
		CreateCustomer struct {
			Customer struct{ ID uuid.UUID }
		}
	}
	manager.Must(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Viva"}) { customer { id } userErrors { code } } }`, nil, &created)
	customer := created.CreateCustomer.Customer.ID
	manager.Must(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, map[string]any{"id": customer}, nil)

	ws := a.As(t, org, auth.Viewer).Subscriber(t)
	ws.Subscribe("c", `subscription($id: UUID!) { customerEvents(customerId: $id) { id kind occurredAt points balanceAfter } }`,
		map[string]any{"id": customer})
	for deadline := time.Now().Add(5 * time.Second); a.Metric(t, "customer_service_subscriptions_open") != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("server A holds no subscription")
		}
	}

	type event struct {
		ID, Kind     string
		OccurredAt   time.Time
		Points       *int
		BalanceAfter *int
	}
	// next reads the next event of the subscription.
	next := func() (event, time.Time) {
		t.Helper()
		m := ws.Next(2 * time.Second)
		at := time.Now()
		var p struct {
			Data struct{ CustomerEvents event }
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
			t.Fatalf("want an event, got %+v (%s)", m, m.Payload)
		}
		return p.Data.CustomerEvents, at
	}
	balance := 0
	var worst time.Duration
	check := func(write string, e event, arrived, sent, answered time.Time, wantKind string, wantPoints int) {
		t.Helper()
		balance += wantPoints
		if e.Kind != wantKind || e.Points == nil || *e.Points != wantPoints || *e.BalanceAfter != balance {
			t.Fatalf("%s: got %+v, want %s of %d points, balance %d", write, e, wantKind, wantPoints, balance)
		}
		upper := arrived.Sub(e.OccurredAt)
		worst = max(worst, upper)
		t.Logf("%-15s through B → %-13s on A: %6.1f ms after its transaction stamped it (commit→client at most), %6.1f ms after B's answer reached the test; the write took %6.1f ms",
			write, e.Kind, ms(upper), ms(arrived.Sub(answered)), ms(answered.Sub(sent)))
		if upper >= time.Second {
			t.Errorf("%s: delivered %v after its transaction, want within a second", write, upper)
		}
	}
	for i := range 5 {
		sent := time.Now()
		var adj struct {
			AdjustPoints struct{ Transaction struct{ ID string } }
		}
		manager.Must(t, `mutation($in: AdjustPointsInput!) { adjustPoints(input: $in) { transaction { id } userErrors { code } } }`,
			map[string]any{"in": map[string]any{"customerId": customer, "points": 10 + i, "reason": "live test", "idempotencyKey": uuid.NewString()}}, &adj)
		answered := time.Now()
		e, arrived := next()
		if e.ID != "points:"+adj.AdjustPoints.Transaction.ID {
			t.Fatalf("adjustPoints: got %+v, want points:%s", e, adj.AdjustPoints.Transaction.ID)
		}
		check("adjustPoints", e, arrived, sent, answered, "POINTS_ADJUSTED", 10+i)

		sent = time.Now()
		manager.Must(t, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { userErrors { code } } }`,
			map[string]any{"in": map[string]any{"customerId": customer, "orderId": uuid.NewString(), "amount": "25.00"}}, nil)
		answered = time.Now()
		// The purchase and its earn, in the order they happened.
		purchase, _ := next()
		if purchase.Kind != "PURCHASE" {
			t.Fatalf("recordPurchase: first event %+v, want PURCHASE", purchase)
		}
		earn, arrived := next()
		check("recordPurchase", earn, arrived, sent, answered, "POINTS_EARNED", 25)
	}
	t.Logf("worst of 10 points changes: %.1f ms from the transaction to the subscriber on the other server", ms(worst))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
