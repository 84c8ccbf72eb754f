package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
	"customerservice/subscriptions"
)

const (
	subCustomerEvents = `subscription($id: UUID!) { customerEvents(customerId: $id) {
		id customerId kind actor points balanceAfter amount reference } }`
	subOrgEvents = `subscription($kinds: [TimelineEventKind!]) { organizationEvents(kinds: $kinds) {
		id customerId kind actor points balanceAfter amount reference } }`
)

type liveEvent struct {
	ID           string
	CustomerID   uuid.UUID
	Kind         string
	Actor        string
	Points       *int
	BalanceAfter *int
	Amount       *string
	Reference    *string
}

// nextEvent reads the next event of subscription id on ws (a "next" message), failing the
// test after wait.
func nextEvent(t *testing.T, ws *apitest.WS, id, field string, wait time.Duration) liveEvent {
	t.Helper()
	m := ws.Next(wait)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("want a next message of %s, got %+v (%s)", id, m, m.Payload)
	}
	var p struct {
		Data   map[string]liveEvent
		Errors []apitest.Error
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data[field]
}

// noMessage asserts nothing but pings comes on ws for wait; the read's timeout closes the
// connection (the WebSocket library's rule), so it is a test's last read of ws.
func noMessage(t *testing.T, ws *apitest.WS, wait time.Duration) {
	t.Helper()
	if m := ws.Next(wait); m.Type != "" {
		t.Fatalf("want nothing, got %+v (%s)", m, m.Payload)
	}
}

// subscribed waits until org holds n subscriptions on srv (the subscribe message is
// handled asynchronously).
func subscribed(t *testing.T, srv *apitest.Server, org uuid.UUID, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Resolver.Hub.Subscribers(org) != n {
		if time.Now().After(deadline) {
			t.Fatalf("org holds %d subscriptions, want %d", srv.Resolver.Hub.Subscribers(org), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two servers, each its own pool and listener, on one database: a points change made
// through one reaches a subscriber of the other within a second, read under the
// subscriber's organization, with its figures.
func TestSubscriptions_APointsChangeOnOneServerReachesASubscriberOnTheOther(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	tm, customer := enrolledCustomer(t, a)

	onB := b.As(t, tm.Org, auth.Viewer)
	ws := onB.Subscriber(t)
	ws.Subscribe("c", subCustomerEvents, map[string]any{"id": customer})
	ws.Subscribe("o", subOrgEvents, map[string]any{"kinds": []string{"POINTS_BONUS"}})
	subscribed(t, b, tm.Org, 2)

	start := time.Now()
	p := loyBonus(t, tm.Agent, customer, 120)
	first := ws.Next(time.Second)
	second := ws.Next(time.Second)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("delivered after %v, want within a second", took)
	}
	got := map[string]liveEvent{}
	for _, m := range []apitest.WSMessage{first, second} {
		var pl struct{ Data map[string]liveEvent }
		if m.Type != "next" || json.Unmarshal(m.Payload, &pl) != nil {
			t.Fatalf("want next, got %+v (%s)", m, m.Payload)
		}
		for _, e := range pl.Data {
			got[m.ID] = e
		}
	}
	want := liveEvent{ID: "points:" + p.Transaction.ID, CustomerID: customer, Kind: "POINTS_BONUS", Actor: tm.Agent.User.String(),
		Points: ptrTo(120), BalanceAfter: ptrTo(120), Reference: got["c"].Reference}
	for _, id := range []string{"c", "o"} {
		e := got[id]
		if e.ID != want.ID || e.CustomerID != want.CustomerID || e.Kind != want.Kind || e.Actor != want.Actor ||
			*e.Points != 120 || *e.BalanceAfter != 120 || e.Amount != nil {
			t.Fatalf("subscription %s got %+v, want %+v", id, e, want)
		}
	}
	// A purchase: the customer's subscription gets the purchase and its points; the
	// organization's (bonus only) nothing.
	buy := loyBuy(t, tm.Agent, customer, "10.00")
	kinds := map[string]bool{}
	for range 2 {
		kinds[nextEvent(t, ws, "c", "customerEvents", time.Second).Kind] = true
	}
	if !kinds["PURCHASE"] || !kinds["POINTS_EARNED"] {
		t.Fatalf("purchase %s delivered %v, want PURCHASE and POINTS_EARNED", buy.Purchase.ID, kinds)
	}
	noMessage(t, ws, 200*time.Millisecond)
	if n := metric(t, b, "customer_service_subscriptions_events_delivered_total"); n != 4 {
		t.Fatalf("events delivered %v, want 4", n)
	}
}

func ptrTo[T any](v T) *T { return &v }

// metric reads one series of the server's /metrics.
func metric(t *testing.T, srv *apitest.Server, name string) float64 {
	t.Helper()
	return srv.Metric(t, name)
}

// enrolledCustomer is a new organization's team on srv and a customer of it enrolled in
// the loyalty program.
func enrolledCustomer(t *testing.T, srv *apitest.Server) (loyTeam, uuid.UUID) {
	t.Helper()
	tm := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, tm.Org)
	loyEnroll(t, tm.Agent, customer)
	return tm, customer
}

// A write that rolls back after writing its event (a charge refused by the limit: the usage
// row is inserted, then the raise of credit_used fails) is never delivered; the next
// committed one is, first.
func TestSubscriptions_ARolledBackWriteIsNeverDelivered(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	tm := newCreditTeam(t, a)
	customer, _ := tm.approved(t, "100.00")
	ws := b.As(t, tm.org, auth.Viewer).Subscriber(t)
	ws.Subscribe("o", subOrgEvents, map[string]any{"kinds": []string{"CREDIT_CHARGE"}})
	subscribed(t, b, tm.org, 1)

	refused := tm.charge(t, customer, "ORDER-OVER", "150.00")
	wantCreditError(t, refused, "CREDIT_LIMIT_EXCEEDED")
	if n := loyInt(t, a, "SELECT count(*) FROM credit_usage WHERE organization_id = ?", tm.org); n != 0 {
		t.Fatalf("%d usages stored after the refusal", n)
	}
	ok := creditOK(t, tm.charge(t, customer, "ORDER-OK", "40.00"))
	e := nextEvent(t, ws, "o", "organizationEvents", time.Second)
	if e.ID != "charge:"+ok.Usage.ID || *e.Reference != "ORDER-OK" || *e.Amount != "40.00" || e.Kind != "CREDIT_CHARGE" {
		t.Fatalf("got %+v, want the committed charge", e)
	}
	noMessage(t, ws, 200*time.Millisecond)
}

// An organization's subscriber never receives another organization's events, whatever the
// subscription: the organization's, or a customer of the other organization by id.
func TestSubscriptions_AnotherOrganizationsEventsAreNeverDelivered(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	mine, theirs := newLoyTeam(t, a), newLoyTeam(t, a)
	myCustomer, theirCustomer := loyCustomer(t, a, mine.Org), loyCustomer(t, a, theirs.Org)
	loyEnroll(t, mine.Agent, myCustomer)
	loyEnroll(t, theirs.Agent, theirCustomer)

	ws := b.As(t, mine.Org, auth.Viewer).Subscriber(t)
	ws.Subscribe("o", subOrgEvents, nil)
	ws.Subscribe("theirs", subCustomerEvents, map[string]any{"id": theirCustomer})
	subscribed(t, b, mine.Org, 2)
	// Their subscriber too: the notifications of both organizations reach server b.
	wsTheirs := b.As(t, theirs.Org, auth.Viewer).Subscriber(t)
	wsTheirs.Subscribe("o", subOrgEvents, nil)
	subscribed(t, b, theirs.Org, 1)

	loyBonus(t, theirs.Agent, theirCustomer, 50)
	if e := nextEvent(t, wsTheirs, "o", "organizationEvents", time.Second); e.CustomerID != theirCustomer {
		t.Fatalf("their subscriber got %+v", e)
	}
	loyBonus(t, mine.Agent, myCustomer, 70)
	e := nextEvent(t, ws, "o", "organizationEvents", time.Second)
	if e.CustomerID != myCustomer || *e.Points != 70 {
		t.Fatalf("first event delivered %+v, want my own bonus of 70", e)
	}
	noMessage(t, ws, 300*time.Millisecond)
}

// Without a valid token the WebSocket is closed 4403 at connection_init and SSE is refused
// 401; without the viewer role a subscription is FORBIDDEN.
func TestSubscriptions_UnauthenticatedIsRefused(t *testing.T) {
	srv := apitest.New(t)
	viewer := srv.NewOrg(t, auth.Viewer)
	expired, err := auth.Mint(apitest.Secret, auth.Principal{UserID: uuid.New(), OrganizationID: viewer.Org, Roles: []auth.Role{auth.Viewer}}, -time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string]map[string]any{
		"no payload":   nil,
		"no token":     {"Authorization": ""},
		"not bearer":   {"Authorization": "Basic " + viewer.Token},
		"bad token":    {"Authorization": "Bearer not-a-jwt"},
		"wrong secret": {"Authorization": "Bearer " + viewer.Token[:len(viewer.Token)-2] + "xx"},
		"expired":      {"Authorization": "Bearer " + expired},
	} {
		ws := srv.DialWS(t, payload)
		if code := ws.CloseStatus(2 * time.Second); code != 4403 {
			t.Fatalf("%s: closed with %d, want 4403", name, code)
		}
	}
	if resp, _ := srv.SSE(t, "", subOrgEvents, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SSE without a token: %d", resp.StatusCode)
	}
	if resp, _ := srv.SSE(t, "bad", subOrgEvents, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SSE with a bad token: %d", resp.StatusCode)
	}
	// Authenticated without a role: the subscription is refused, the connection stays.
	ws := srv.As(t, viewer.Org).Subscriber(t)
	ws.Subscribe("1", subOrgEvents, nil)
	m := ws.Next(2 * time.Second)
	if m.ID != "1" || !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) {
		t.Fatalf("without a role: %+v (%s)", m, m.Payload)
	}
	if m := ws.Next(2 * time.Second); m.ID != "1" || m.Type != "complete" {
		t.Fatalf("without a role, then: %+v", m)
	}
	if n := srv.Resolver.Hub.Subscribers(viewer.Org); n != 0 {
		t.Fatalf("%d subscriptions registered", n)
	}
}

// Over Server-Sent Events, with the token in the Authorization header: an event written
// through another server arrives.
func TestSubscriptions_SSEDeliversAcrossServers(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	tm, customer := enrolledCustomer(t, a)
	resp, events := b.As(t, tm.Org, auth.Viewer).SSE(t, subCustomerEvents, map[string]any{"id": customer})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	subscribed(t, b, tm.Org, 1)
	p := loyBonus(t, tm.Agent, customer, 30)
	select {
	case data := <-events:
		var got struct {
			Data struct{ CustomerEvents liveEvent }
		}
		if err := json.Unmarshal(data, &got); err != nil || got.Data.CustomerEvents.ID != "points:"+p.Transaction.ID {
			t.Fatalf("SSE event %s, want %s", data, p.Transaction.ID)
		}
	case <-time.After(time.Second):
		t.Fatal("no SSE event within a second")
	}
}

// The limits: subscriptions per connection and per organization (LIMIT_EXCEEDED), the idle
// timeout of a connection without a subscription.
func TestSubscriptions_Limits(t *testing.T) {
	srv := apitest.NewWith(t, apitest.Options{
		Subscriptions: subscriptions.Config{PerConnection: 2, PerOrganization: 3},
		Limits:        graph.Limits{Live: graph.Live{IdleTimeout: 2 * time.Second}},
	})
	viewer := srv.NewOrg(t, auth.Viewer)
	ws := viewer.Subscriber(t)
	ws.Subscribe("1", subOrgEvents, nil)
	ws.Subscribe("2", subOrgEvents, nil)
	subscribed(t, srv, viewer.Org, 2)
	ws.Subscribe("3", subOrgEvents, nil)
	if m := ws.Next(2 * time.Second); m.ID != "3" || !strings.Contains(string(m.Payload), `"code":"LIMIT_EXCEEDED"`) {
		t.Fatalf("third on one connection: %+v (%s)", m, m.Payload)
	}
	if m := ws.Next(2 * time.Second); m.ID != "3" || m.Type != "complete" {
		t.Fatalf("third on one connection, then: %+v", m)
	}
	// Ending one frees its place.
	ws.Send(apitest.WSMessage{ID: "1", Type: "complete"})
	subscribed(t, srv, viewer.Org, 1)
	if m := ws.Next(2 * time.Second); m.ID != "1" || m.Type != "complete" {
		t.Fatalf("after completing 1: %+v", m)
	}
	ws.Subscribe("4", subOrgEvents, nil)
	subscribed(t, srv, viewer.Org, 2)

	other := srv.As(t, viewer.Org, auth.Viewer).Subscriber(t)
	other.Subscribe("1", subOrgEvents, nil)
	subscribed(t, srv, viewer.Org, 3)
	other.Subscribe("2", subOrgEvents, nil)
	if m := other.Next(2 * time.Second); m.ID != "2" || !strings.Contains(string(m.Payload), `"code":"LIMIT_EXCEEDED"`) {
		t.Fatalf("fourth of the organization: %+v (%s)", m, m.Payload)
	}
	// Another organization is not counted with it.
	srv.NewOrg(t, auth.Viewer).Subscriber(t).Subscribe("1", subOrgEvents, nil)

	// Idle: an acknowledged connection without a subscription is closed after the timeout;
	// one with a subscription is not.
	idle := viewer.Subscriber(t)
	start := time.Now()
	if code := idle.CloseStatus(8 * time.Second); code != websocket.StatusNormalClosure || time.Since(start) < 1500*time.Millisecond {
		t.Fatalf("idle connection: closed %d after %v", code, time.Since(start))
	}
	time.Sleep(time.Second) // ws still open, holding two subscriptions
	if n := srv.Resolver.Hub.Subscribers(viewer.Org); n != 3 {
		t.Fatalf("%d subscriptions after the idle close, want 3", n)
	}
	// ws, other and the other organization's: open; idle: closed.
	if n := metric(t, srv, "customer_service_subscriptions_connections"); n != 3 {
		t.Fatalf("connections %v, want 3", n)
	}
	if n := metric(t, srv, "customer_service_subscriptions_open"); n != 4 {
		t.Fatalf("open subscriptions %v, want 4", n)
	}
}

// A consumer that stops reading is dropped once QueueSize events wait for it: its queue is
// bounded, its channel closes, its connection is closed, and the drop is counted.
func TestSubscriptions_ASlowConsumerIsDropped(t *testing.T) {
	srv := apitest.NewWith(t, apitest.Options{Subscriptions: subscriptions.Config{QueueSize: 2}})
	tm := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, tm.Org)
	loyEnroll(t, tm.Agent, customer)

	killed := make(chan struct{})
	conn := subscriptions.NewConn(func() { close(killed) }, 0)
	ctx, cancel := context.WithCancel(auth.WithPrincipal(context.Background(),
		auth.Principal{UserID: uuid.New(), OrganizationID: tm.Org, Roles: []auth.Role{auth.Viewer}}))
	defer cancel()
	events, err := srv.Resolver.Hub.Subscribe(subscriptions.WithConn(ctx, conn), subscriptions.Filter{Kinds: []string{"POINTS_BONUS"}})
	if err != nil {
		t.Fatal(err)
	}
	// A reader that keeps up on the same server is not affected.
	ws := tm.Viewer.Subscriber(t)
	ws.Subscribe("o", subOrgEvents, map[string]any{"kinds": []string{"POINTS_BONUS"}})
	subscribed(t, srv, tm.Org, 2)
	for i := range 3 {
		loyBonus(t, tm.Agent, customer, 10+i)
		nextEvent(t, ws, "o", "organizationEvents", time.Second)
	}
	select {
	case <-killed:
	case <-time.After(time.Second):
		t.Fatal("the slow consumer's connection was not closed")
	}
	if cap(events) != 2 {
		t.Fatalf("queue of %d, want 2", cap(events))
	}
	var got []int
	for e := range events { // the two queued, then closed
		got = append(got, *e.Points)
	}
	if len(got) != 2 || got[0] != 10 || got[1] != 11 {
		t.Fatalf("queued %v, want [10 11]", got)
	}
	subscribed(t, srv, tm.Org, 1)
	if n := metric(t, srv, "customer_service_subscriptions_dropped_consumers_total"); n != 1 {
		t.Fatalf("dropped %v, want 1", n)
	}
	if n := metric(t, srv, "customer_service_subscriptions_open"); n != 1 {
		t.Fatalf("open %v, want 1", n)
	}
}

// The listener reconnects after its connection is lost (the database restarted or killed
// it), and delivers what commits after.
func TestSubscriptions_TheListenerReconnects(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	tm, customer := enrolledCustomer(t, a)
	ws := b.As(t, tm.Org, auth.Viewer).Subscriber(t)
	ws.Subscribe("c", subCustomerEvents, map[string]any{"id": customer})
	subscribed(t, b, tm.Org, 1)

	if n := b.Resolver.Hub.Listens(); n != 1 {
		t.Fatalf("listened %d times, want once", n)
	}
	var killed int
	if err := b.Owner.NewRaw(`SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %customer_events%'`).Scan(context.Background(), &killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 { // b's (a has no subscriber: it does not listen)
		t.Fatalf("%d listening connections, want 1", killed)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Resolver.Hub.Listens() != 2 || !b.Resolver.Hub.Listening() {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not reconnect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := loyBonus(t, tm.Agent, customer, 5)
	if e := nextEvent(t, ws, "c", "customerEvents", 2*time.Second); e.ID != "points:"+p.Transaction.ID {
		t.Fatalf("after reconnecting got %+v", e)
	}
}

// Events the audit trail holds are delivered too: a status change (its audit row), with
// its figures.
func TestSubscriptions_AnAuditedChangeIsDelivered(t *testing.T) {
	a, b := apitest.New(t), apitest.New(t)
	tm := newLoyTeam(t, a)
	customer := loyCustomer(t, a, tm.Org)
	ws := b.As(t, tm.Org, auth.Viewer).Subscriber(t)
	ws.Subscribe("c", subCustomerEvents, map[string]any{"id": customer})
	ws.Subscribe("o", `subscription { organizationEvents(kinds: [STATUS_CHANGED]) { kind from to actor customerId } }`, nil)
	subscribed(t, b, tm.Org, 2)
	var out struct{ SetCustomerStatus struct{ UserErrors []any } }
	tm.Manager.Must(t, setStatusMutation, map[string]any{"id": customer, "status": "BLOCKED", "reason": "fraud"}, &out)
	if len(out.SetCustomerStatus.UserErrors) > 0 {
		t.Fatalf("setCustomerStatus: %+v", out)
	}
	seen := map[string]string{}
	for range 2 {
		m := ws.Next(time.Second)
		if m.Type != "next" {
			t.Fatalf("got %+v", m)
		}
		seen[m.ID] = string(m.Payload)
	}
	if !strings.Contains(seen["c"], `"kind":"STATUS_CHANGED"`) || !strings.Contains(seen["c"], `"id":"audit:`) {
		t.Fatalf("customer subscription got %s", seen["c"])
	}
	want := `{"data":{"organizationEvents":{"kind":"STATUS_CHANGED","from":"ACTIVE","to":"BLOCKED","actor":"` + tm.Manager.User.String() + `","customerId":"` + customer.String() + `"}}}`
	if seen["o"] != want {
		t.Fatalf("organization subscription got %s, want %s", seen["o"], want)
	}
}

// Every subscription of the schema is refused without the viewer role and runs with it
// (the security test's roles, for the root type it cannot drive over HTTP POST); a new one
// must be added here.
func TestSubscriptions_EverySubscriptionNeedsTheViewerRole(t *testing.T) {
	srv := apitest.New(t)
	viewer := srv.NewOrg(t, auth.Viewer)
	var got struct {
		Schema struct {
			SubscriptionType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	viewer.Must(t, `{ __schema { subscriptionType { fields { name } } } }`, nil, &got)
	docs := map[string]string{
		"customerEvents":     `subscription { customerEvents(customerId: "` + uuid.NewString() + `") { id } }`,
		"organizationEvents": `subscription { organizationEvents { id } }`,
	}
	if len(got.Schema.SubscriptionType.Fields) != len(docs) {
		t.Fatalf("subscriptions %+v, want exactly those of this test", got.Schema.SubscriptionType.Fields)
	}
	for _, f := range got.Schema.SubscriptionType.Fields {
		doc, ok := docs[f.Name]
		if !ok {
			t.Fatalf("subscription %s has no role test", f.Name)
		}
		none := srv.As(t, viewer.Org).Subscriber(t)
		none.Subscribe("1", doc, nil)
		if m := none.Next(2 * time.Second); m.ID != "1" || !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) {
			t.Fatalf("%s without a role: %+v (%s)", f.Name, m, m.Payload)
		}
		ws := viewer.Subscriber(t)
		ws.Subscribe("1", doc, nil)
		subscribed(t, srv, viewer.Org, 1)
		ws.Send(apitest.WSMessage{ID: "1", Type: "complete"})
		subscribed(t, srv, viewer.Org, 0)
	}
	// Over HTTP POST a subscription is not run: it needs a stream.
	res := viewer.Do(t, docs["organizationEvents"], nil)
	if res.Status != http.StatusBadRequest || res.ErrorCode(t) != "BAD_USER_INPUT" {
		t.Fatalf("a subscription over POST: %d %s", res.Status, res.Body)
	}
}

// The hub reads on a pool of its own (SUBSCRIPTION_DB_CONNECTIONS): a burst of events fanned
// out to many subscribers never makes a Customer 360 read of the same server wait for a
// connection. Server a's request pool has ONE connection and a reader reads the 360 in a loop
// while 100 events are written through server b and fanned out on a to 500 subscriptions of
// 5 organizations (50,000 deliveries): the request pool never waited, and every event
// reached every subscriber.
func TestSubscriptions_ABurstOfEventsNeverTakesTheRequestsConnections(t *testing.T) {
	t.Parallel() // its servers, organizations and pools are its own
	const orgs, subsPerOrg, perConn, eventsPerOrg = 5, 100, 20, 20
	a := apitest.NewWith(t, apitest.Options{DB: db.Options{MaxConns: 1},
		Subscriptions: subscriptions.Config{PerConnection: perConn}})
	b := apitest.New(t)
	type team struct {
		tm       loyTeam
		customer uuid.UUID
	}
	teams := make([]team, orgs)
	var conns []*apitest.WS
	for i := range teams {
		tm := newLoyTeam(t, b)
		c := loyCustomer(t, b, tm.Org)
		loyEnroll(t, tm.Agent, c)
		teams[i] = team{tm, c}
		viewer := a.As(t, tm.Org, auth.Viewer)
		for range subsPerOrg / perConn {
			ws := viewer.Subscriber(t)
			for j := range perConn {
				ws.Subscribe(strconv.Itoa(j), subOrgEvents, map[string]any{"kinds": []string{"POINTS_BONUS"}})
			}
			conns = append(conns, ws)
		}
		subscribed(t, a, tm.Org, subsPerOrg)
	}
	reader := a.As(t, teams[0].tm.Org, auth.Viewer)
	read360 := func() {
		reader.Must(t, `query($id: UUID!) { customer(id: $id) { id firstName status
			loyaltyAccount { pointsBalance tier } timeline(first: 5) { edges { node { kind } } } } }`,
			map[string]any{"id": teams[0].customer}, nil)
	}
	read360() // the pool's one connection is open
	before := a.App.DB.DB.Stats()

	// Every connection reads its 20 × 20 events while the burst is written and the reader
	// reads.
	received := make(chan int, len(conns))
	for _, ws := range conns {
		go func() {
			n := 0
			for n < perConn*eventsPerOrg {
				m, err := ws.Read(30 * time.Second)
				if err != nil {
					break
				}
				if m.Type == "next" {
					n++
				}
			}
			received <- n
		}()
	}
	done := make(chan struct{})
	reads := make(chan int, 1)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				reads <- n
				return
			default:
				read360()
				n++
			}
		}
	}()
	var wg sync.WaitGroup
	for _, tm := range teams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range eventsPerOrg {
				loyBonus(t, tm.tm.Agent, tm.customer, 1)
			}
		}()
	}
	wg.Wait()
	for range conns {
		if n := <-received; n != perConn*eventsPerOrg {
			t.Errorf("a connection received %d events, want %d", n, perConn*eventsPerOrg)
		}
	}
	close(done)
	n := <-reads
	after := a.App.DB.DB.Stats()
	if waits := after.WaitCount - before.WaitCount; waits != 0 {
		t.Errorf("the request pool waited %d times (%v) during the burst, want never", waits, after.WaitDuration-before.WaitDuration)
	}
	if after.MaxOpenConnections != 1 || after.OpenConnections != 1 {
		t.Errorf("the request pool: %+v", after)
	}
	hub := a.Resolver.Hub.DB().Stats()
	if hub.MaxOpenConnections != subscriptions.DefaultConnections || hub.OpenConnections < 2 {
		t.Errorf("the hub's pool: %+v, want %d connections, the listener and a reader open", hub, subscriptions.DefaultConnections)
	}
	if got := metric(t, a, "customer_service_subscriptions_events_delivered_total"); got != orgs*subsPerOrg*eventsPerOrg {
		t.Errorf("events delivered %v, want %d", got, orgs*subsPerOrg*eventsPerOrg)
	}
	t.Logf("%d Customer 360 reads during the burst; the request pool waited %d times; the hub's pool %d open, waited %d times (%v)",
		n, after.WaitCount-before.WaitCount, hub.OpenConnections, hub.WaitCount, hub.WaitDuration)
}

// The other way round: with every connection of the request pool taken, the hub still
// listens and reads on its own: an event written through another server is delivered.
func TestSubscriptions_ABusyRequestPoolDoesNotDelayDelivery(t *testing.T) {
	a := apitest.NewWith(t, apitest.Options{DB: db.Options{MaxConns: 1}})
	b := apitest.New(t)
	tm, customer := enrolledCustomer(t, b)
	ws := a.As(t, tm.Org, auth.Viewer).Subscriber(t)
	ws.Subscribe("c", subCustomerEvents, map[string]any{"id": customer})
	subscribed(t, a, tm.Org, 1)

	held, err := a.App.DB.Conn(context.Background()) // the request pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	p := loyBonus(t, tm.Agent, customer, 7)
	if e := nextEvent(t, ws, "c", "customerEvents", 2*time.Second); e.ID != "points:"+p.Transaction.ID || *e.Points != 7 {
		t.Fatalf("got %+v", e)
	}
	if s := a.App.DB.DB.Stats(); s.InUse != 1 || s.WaitCount != 0 {
		t.Fatalf("the request pool: %+v, want its one connection held by the test and no wait", s)
	}
}
