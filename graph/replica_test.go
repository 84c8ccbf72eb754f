package graph_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// §9, read replica: with DATABASE_REPLICA_URL set (here a real hot standby of the test
// cluster), every read of a query operation runs on the replica, and nothing of a mutation
// does — the reads that build its payload included, so the payload shows the write even
// while the replica lags. The lag is made visible by pausing the standby's replay: a query
// right after a mutation shows the replica's older data until it has caught up.
func TestReplica_QueriesReadTheReplicaMutationsThePrimary(t *testing.T) {
	t.Parallel()
	if testdb.OnCitus() {
		// A standby of the coordinator alone is no read replica on Citus: the rows live on
		// the workers, which it queries on their primaries, so it never shows older data. A
		// Citus read replica is a standby of every node (citus.use_secondary_nodes), which
		// this one-machine cluster does not run (README, Scaling out).
		t.Skip("on Citus a read replica is a standby of every node; the one-machine test cluster has none")
	}
	standby := testdb.NewStandby(t)
	srv := apitest.NewWith(t, apitest.Options{ReplicaURL: standby.AppURL})
	c := srv.NewOrg(t, auth.Admin)
	// sent runs fn and returns the statements each of the server's pools sent meanwhile.
	sent := func(fn func()) (onPrimary, onReplica int64) {
		p, r := srv.Statements.Count(), srv.ReplicaStatements.Count()
		fn()
		return srv.Statements.Count() - p, srv.ReplicaStatements.Count() - r
	}
	type view struct {
		FullName       string
		LoyaltyAccount *struct{ PointsBalance int }
		Addresses      []struct{ City string }
	}
	const viewFields = `fullName loyaltyAccount { pointsBalance } addresses { city }`
	var customerID uuid.UUID

	// A mutation whose payload renders the customer's relations: all on the primary.
	p, r := sent(func() {
		var out struct {
			CreateCustomer struct {
				Customer   *struct{ ID uuid.UUID }
				UserErrors []struct{ Code string }
			}
		}
		c.Must(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Ríos"}) { customer { id } userErrors { code } } }`, nil, &out)
		if out.CreateCustomer.Customer == nil {
			t.Fatalf("createCustomer with a replica configured: %+v", out.CreateCustomer.UserErrors)
		}
		customerID = out.CreateCustomer.Customer.ID
		var added struct {
			AddAddress struct{ Address *struct{ City string } }
		}
		c.Must(t, `mutation($id: UUID!) { addAddress(customerId: $id, input: {addressLine1: "Calle 50", city: "Panamá"}) { address { city } } }`,
			map[string]any{"id": customerID}, &added)
		bought := loyBuy(t, c, customerID, "100.00") // enrolls: 100 points
		if added.AddAddress.Address == nil || bought.LoyaltyAccount == nil || bought.LoyaltyAccount.PointsBalance != 100 {
			t.Fatalf("mutations with a replica configured: address %+v, purchase %+v", added.AddAddress, bought)
		}
	})
	if p == 0 || r != 0 {
		t.Fatalf("mutations: %d statements on the primary, %d on the replica; want some and none", p, r)
	}
	t.Logf("three mutations: %d statements on the primary", p)

	// Queries once the replica has replayed them: every statement on the replica.
	standby.CatchUp(t)
	query := func() (v view, listed, total int) {
		t.Helper()
		var out struct {
			Customer  view
			Customers struct{ TotalCount int }
			Stats     struct{ Total int }
		}
		c.Must(t, `query($id: UUID!) { customer(id: $id) { `+viewFields+` }
			customers(search: "rios") { totalCount } stats: customerStats { total } }`, map[string]any{"id": customerID}, &out)
		return out.Customer, out.Customers.TotalCount, out.Stats.Total
	}
	var v view
	var listed, total int
	p, r = sent(func() { v, listed, total = query() })
	if v.FullName != "Ana Ríos" || v.LoyaltyAccount == nil || v.LoyaltyAccount.PointsBalance != 100 || len(v.Addresses) != 1 || listed != 1 || total != 1 {
		t.Fatalf("the query after the replica caught up: %+v, listed %d, total %d", v, listed, total)
	}
	if p != 0 || r == 0 {
		t.Fatalf("a query: %d statements on the primary, %d on the replica; want none and some", p, r)
	}
	t.Logf("a customer with its relations, a search and stats: %d statements on the replica", r)

	// The replica lags (replay paused): a mutation's payload still shows its own write…
	standby.PauseReplay(t)
	replayPaused := true
	defer func() {
		if replayPaused {
			standby.ResumeReplay(t)
		}
	}()
	p, r = sent(func() {
		var out struct {
			UpdateCustomer struct{ Customer *view }
		}
		c.Must(t, `mutation($id: UUID!) { updateCustomer(id: $id, input: {firstName: "Beatriz"}) { customer { `+viewFields+` } } }`,
			map[string]any{"id": customerID}, &out)
		bought := loyBuy(t, c, customerID, "50.00")
		if got := out.UpdateCustomer.Customer; got == nil || got.FullName != "Beatriz Ríos" || got.LoyaltyAccount.PointsBalance != 100 ||
			bought.LoyaltyAccount.PointsBalance != 150 {
			t.Fatalf("payloads while the replica lags: %+v, purchase %+v", got, bought.LoyaltyAccount)
		}
	})
	if p == 0 || r != 0 {
		t.Fatalf("mutations while the replica lags: %d statements on the primary, %d on the replica", p, r)
	}
	// …while a query right after it answers from the replica, which has not seen it yet.
	if v, _, _ := query(); v.FullName != "Ana Ríos" || v.LoyaltyAccount.PointsBalance != 100 {
		t.Fatalf("a query while the replica lags shows %+v: not the replica's (older) data", v)
	}
	standby.ResumeReplay(t)
	replayPaused = false
	standby.CatchUp(t)
	if v, _, _ := query(); v.FullName != "Beatriz Ríos" || v.LoyaltyAccount.PointsBalance != 150 {
		t.Fatalf("a query once the replica caught up: %s, %+v", v.FullName, v.LoyaltyAccount)
	}

	// A query that writes (the loyalty program's defaults, created on first read) writes on the
	// primary: its read found nothing on the replica, its insert ran on the primary.
	fresh := srv.NewOrg(t, auth.Viewer)
	p, r = sent(func() {
		var out struct {
			LoyaltyProgram struct{ PointsPerCurrencyUnit string }
		}
		fresh.Must(t, `{ loyaltyProgram { pointsPerCurrencyUnit } }`, nil, &out)
		if out.LoyaltyProgram.PointsPerCurrencyUnit != "1.00" {
			t.Fatalf("loyaltyProgram of a new organization: %+v", out)
		}
	})
	if p == 0 || r == 0 {
		t.Fatalf("a query that creates the program: %d statements on the primary, %d on the replica; want both", p, r)
	}

	// /readyz needs both; with the replica down queries fail (UNAVAILABLE), mutations still work.
	if status := getStatus(t, srv.URL+"/readyz"); status != http.StatusOK {
		t.Fatalf("/readyz with both up: %d", status)
	}
	if err := standby.Cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if status := getStatus(t, srv.URL+"/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the replica down: %d, want 503", status)
	}
	res := c.Do(t, `query($id: UUID!) { customer(id: $id) { fullName } }`, map[string]any{"id": customerID})
	if code := res.ErrorCode(t); code != "UNAVAILABLE" {
		t.Fatalf("a query with the replica down: %s", res.Body)
	}
	if bought := loyBuy(t, c, customerID, "10.00"); bought.LoyaltyAccount.PointsBalance != 160 {
		t.Fatalf("a mutation with the replica down: %+v", bought.LoyaltyAccount)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// creditCheck promises what chargeCredit would do now: it reads the primary even in a query,
// so a charge the replica has not replayed yet counts (the customer's other fields still
// come from the replica).
func TestReplica_CreditCheckReadsThePrimary(t *testing.T) {
	t.Parallel()
	if testdb.OnCitus() {
		t.Skip("on Citus a read replica is a standby of every node; the one-machine test cluster has none")
	}
	standby := testdb.NewStandby(t)
	srv := apitest.NewWith(t, apitest.Options{ReplicaURL: standby.AppURL})
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "1000")
	standby.CatchUp(t)
	standby.PauseReplay(t)
	defer standby.ResumeReplay(t)
	tm.charge(t, customerID, "order-1", "300")

	p, r := srv.Statements.Count(), srv.ReplicaStatements.Count()
	got := tm.check(t, customerID, "800")
	onPrimary, onReplica := srv.Statements.Count()-p, srv.ReplicaStatements.Count()-r
	if got.Approved || got.Available != "700.00" || got.AvailableAfter != "700.00" {
		t.Fatalf("creditCheck of 800 after a charge of 300 the replica has not seen: %+v", got)
	}
	if onPrimary == 0 || onReplica != 0 {
		t.Fatalf("creditCheck: %d statements on the primary, %d on the replica; want some and none", onPrimary, onReplica)
	}
	// The 360 of the same query string reads the replica, which lags.
	var out struct {
		Customer struct {
			CreditAccount struct{ CreditAvailable string }
		}
	}
	tm.agent.Must(t, `query($id: UUID!) { customer(id: $id) { creditAccount { creditAvailable } } }`, map[string]any{"id": customerID}, &out)
	if out.Customer.CreditAccount.CreditAvailable != "1000.00" {
		t.Fatalf("the 360 while the replica lags: %+v, want the replica's 1000.00", out.Customer.CreditAccount)
	}
}
