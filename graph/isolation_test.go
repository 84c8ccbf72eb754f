package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §7: another organization's record is indistinguishable from a missing one — by id,
// lookup, list, search, stats and mutation — and mutations through the API change nothing.
func TestIsolation_AnotherOrganizationSeesAndChangesNothing(t *testing.T) {
	t.Parallel()
	anotherOrganizationSeesAndChangesNothing(t, apitest.New(t))
}

// anotherOrganizationSeesAndChangesNothing is the scenario on srv (also run through PgBouncer).
func anotherOrganizationSeesAndChangesNothing(t *testing.T, srv *apitest.Server) {
	owner := srv.NewOrg(t, auth.Admin)
	other := srv.NewOrg(t, auth.Admin)

	customerID, addressID := uuid.New(), uuid.New()
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name, email, phone, document_type, document_number, tags)
		VALUES (?, ?, 'b2b', 'Isabel', 'Núñez', 'isabel@example.com', '+50761234567', 'cedula', '8-123-4567', '{vip}')`, customerID, owner.Org)
	mustExec(t, srv, `INSERT INTO addresses (address_id, organization_id, customer_id, address_line1, city, is_default) VALUES (?, ?, ?, 'Calle 50', 'Panamá', true)`, addressID, owner.Org, customerID)
	mustExec(t, srv, `INSERT INTO loyalty_accounts (organization_id, customer_id, points_balance) VALUES (?, ?, 500)`, owner.Org, customerID)
	mustExec(t, srv, `INSERT INTO credit_accounts (organization_id, customer_id, credit_limit, status) VALUES (?, ?, 1000, 'approved')`, owner.Org, customerID)
	mustExec(t, srv, `INSERT INTO customer_segments (organization_id, customer_id, segment_code) VALUES (?, ?, 'champions')`, owner.Org, customerID)

	// The owner sees it: the fixtures are right, so what follows tests isolation.
	var mine struct{ Customer *struct{ ID string } }
	owner.Must(t, `query($id: UUID!) { customer(id: $id) { id } }`, map[string]any{"id": customerID}, &mine)
	if mine.Customer == nil || mine.Customer.ID != customerID.String() {
		t.Fatalf("owner cannot read its own customer: %+v", mine)
	}

	reads := map[string]struct {
		query string
		vars  map[string]any
	}{
		"by id":       {`query($id: UUID!) { r: customer(id: $id) { id } }`, map[string]any{"id": customerID}},
		"by email":    {`{ r: customerByEmail(email: "isabel@example.com") { id } }`, nil},
		"by phone":    {`{ r: customerByPhone(phone: "6123-4567") { id } }`, nil},
		"by document": {`{ r: customerByDocument(documentType: CEDULA, documentNumber: "8-123-4567") { id } }`, nil},
	}
	for name, q := range reads {
		var got struct{ R *struct{ ID string } }
		other.Must(t, q.query, q.vars, &got)
		if got.R != nil {
			t.Errorf("%s: another organization read the customer", name)
		}
		owner.Must(t, q.query, q.vars, &got)
		if got.R == nil || got.R.ID != customerID.String() {
			t.Errorf("%s: the owner does not find its customer", name)
		}
	}

	var list struct {
		Customers struct {
			TotalCount int
			Nodes      []struct{ ID string }
		}
		Search struct{ TotalCount int }
		Stats  struct{ Total int }
	}
	other.Must(t, `{ customers(first: 100) { totalCount nodes { id } }
		search: customers(search: "isabel") { totalCount }
		stats: customerStats { total } }`, nil, &list)
	if list.Customers.TotalCount != 0 || len(list.Customers.Nodes) != 0 || list.Search.TotalCount != 0 || list.Stats.Total != 0 {
		t.Fatalf("another organization lists the customer: %+v", list)
	}

	mutations := map[string]struct {
		query string
		vars  map[string]any
	}{
		"updateCustomer":    {`mutation($id: UUID!) { r: updateCustomer(id: $id, input: {firstName: "X"}) { userErrors { code } } }`, map[string]any{"id": customerID}},
		"setCustomerStatus": {`mutation($id: UUID!) { r: setCustomerStatus(id: $id, status: BLOCKED, reason: "x") { userErrors { code } } }`, map[string]any{"id": customerID}},
		"addAddress":        {`mutation($id: UUID!) { r: addAddress(customerId: $id, input: {addressLine1: "X", city: "Colón"}) { userErrors { code } } }`, map[string]any{"id": customerID}},
		"updateAddress":     {`mutation($id: UUID!) { r: updateAddress(id: $id, input: {city: "Colón"}) { userErrors { code } } }`, map[string]any{"id": addressID}},
		"removeAddress":     {`mutation($id: UUID!) { r: removeAddress(id: $id) { userErrors { code } } }`, map[string]any{"id": addressID}},
		"setDefaultAddress": {`mutation($id: UUID!) { r: setDefaultAddress(id: $id) { userErrors { code } } }`, map[string]any{"id": addressID}},
	}
	for name, m := range mutations {
		var got struct {
			R struct{ UserErrors []struct{ Code string } }
		}
		other.Must(t, m.query, m.vars, &got)
		if len(got.R.UserErrors) != 1 || got.R.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("%s: want one NOT_FOUND user error, got %+v", name, got.R.UserErrors)
		}
	}

	// Nothing changed, and nothing was written for the other organization.
	var firstName, status, city string
	var active, isDefault bool
	var audits, otherRows int
	ctx := context.Background()
	// Three statements (one would correlate across organizations, which Citus cannot plan):
	// the customer and its address, every audit row of either in any organization, and the
	// other organization's addresses.
	var addrID string
	if err := srv.Owner.QueryRowContext(ctx, `SELECT c.first_name, c.status, a.city, a.is_active, a.is_default, a.address_id::text
		FROM customers c JOIN addresses a ON a.organization_id = c.organization_id AND a.customer_id = c.customer_id
		WHERE c.customer_id = ?`, customerID).
		Scan(&firstName, &status, &city, &active, &isDefault, &addrID); err != nil {
		t.Fatal(err)
	}
	if err := srv.Owner.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE entity_id IN (?::uuid, ?::uuid)`, customerID, addrID).
		Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if err := srv.Owner.QueryRowContext(ctx, `SELECT count(*) FROM addresses WHERE organization_id = ?`, other.Org).
		Scan(&otherRows); err != nil {
		t.Fatal(err)
	}
	if firstName != "Isabel" || status != "active" || city != "Panamá" || !active || !isDefault || audits != 0 || otherRows != 0 {
		t.Fatalf("another organization changed data: %s %s %s %v %v audits=%d rows=%d", firstName, status, city, active, isDefault, audits, otherRows)
	}

	// §2: uniqueness is per organization — the same email, phone and document are free elsewhere.
	var created struct {
		CreateCustomer struct {
			Customer   *struct{ ID string }
			UserErrors []struct{ Code string }
		}
	}
	other.Must(t, `mutation { createCustomer(input: {firstName: "Isabel", lastName: "Núñez", email: "ISABEL@example.com ",
		phone: "+507 6123-4567", documentType: CEDULA, documentNumber: "8-123-4567"}) { customer { id } userErrors { code } } }`, nil, &created)
	if created.CreateCustomer.Customer == nil || len(created.CreateCustomer.UserErrors) != 0 {
		t.Fatalf("same contact data in another organization: %+v", created.CreateCustomer)
	}
}

// §7 under load: two organizations' requests interleaved on many goroutines — reads of
// every path (the 360 statement, lists, search, stats) and writes with payloads —
// share the server's pool connections; no response ever holds the other organization's
// data, and no write reaches it.
func TestIsolation_InterleavedOrganizationsUnderConcurrency(t *testing.T) {
	t.Parallel()
	interleavedOrganizationsStayApart(t, apitest.New(t))
}

// interleavedOrganizationsStayApart is the scenario on srv (also run through PgBouncer).
func interleavedOrganizationsStayApart(t *testing.T, srv *apitest.Server) {
	type tenant struct {
		client  *apitest.Client
		name    string // every customer's last name starts with it
		ids     []uuid.UUID
		markers []string // what only this organization's responses may hold
	}
	const perOrg = 5
	tenants := []*tenant{{name: "Alfaro"}, {name: "Bethancourt"}}
	for _, tn := range tenants {
		tn.client = srv.NewOrg(t, auth.Agent)
		tn.markers = []string{tn.name, tn.client.Org.String()}
		for i := range perOrg {
			id := uuid.New()
			mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, email) VALUES (?, ?, 'Cliente', ?, ?)`,
				id, tn.client.Org, fmt.Sprintf("%s-%d", tn.name, i), fmt.Sprintf("%s.%d@example.com", strings.ToLower(tn.name), i))
			mustExec(t, srv, `INSERT INTO addresses (organization_id, customer_id, address_line1, city) VALUES (?, ?, 'Calle 1', ?)`, tn.client.Org, id, tn.name+"-city")
			mustExec(t, srv, `INSERT INTO loyalty_accounts (organization_id, customer_id, points_balance) VALUES (?, ?, 10)`, tn.client.Org, id)
			tn.ids = append(tn.ids, id)
			tn.markers = append(tn.markers, id.String())
		}
	}
	requests := []func(me, other *tenant, n int) (query string, vars map[string]any, check func(data map[string]any) error){
		// A page of 360s (one statement).
		func(me, _ *tenant, _ int) (string, map[string]any, func(map[string]any) error) {
			return `{ customers(first: 100) { totalCount nodes { id lastName loyaltyAccount { pointsBalance } addresses { city } } } }`, nil,
				func(d map[string]any) error { return wantNumber(d, "customers.totalCount", perOrg) }
		},
		// One 360 of its own, and the other's by id: null.
		func(me, other *tenant, n int) (string, map[string]any, func(map[string]any) error) {
			return `query($mine: UUID!, $theirs: UUID!) { mine: customer(id: $mine) { lastName defaultShippingAddress { city } loyaltyAccount { pointsBalance } }
					theirs: customer(id: $theirs) { id } }`,
				map[string]any{"mine": me.ids[n%perOrg], "theirs": other.ids[n%perOrg]},
				func(d map[string]any) error {
					if d["theirs"] != nil {
						return errors.New("read the other organization's customer")
					}
					return wantPrefix(d, "mine.lastName", me.name)
				}
		},
		// A search for the other's name finds nothing; its own finds all.
		func(me, other *tenant, _ int) (string, map[string]any, func(map[string]any) error) {
			return `query($mine: String!, $theirs: String!) { mine: customers(search: $mine) { totalCount } theirs: customers(search: $theirs) { totalCount }
					stats: customerStats { total } }`,
				map[string]any{"mine": me.name, "theirs": other.name},
				func(d map[string]any) error {
					return errors.Join(wantNumber(d, "mine.totalCount", perOrg), wantNumber(d, "theirs.totalCount", 0), wantNumber(d, "stats.total", perOrg))
				}
		},
		// A write with a payload on its own customer; on the other's: NOT_FOUND.
		func(me, other *tenant, n int) (string, map[string]any, func(map[string]any) error) {
			return `mutation($mine: UUID!, $theirs: UUID!, $notes: String!) {
					mine: updateCustomer(id: $mine, input: {notes: $notes}) { customer { lastName loyaltyAccount { pointsBalance } } userErrors { code } }
					theirs: updateCustomer(id: $theirs, input: {notes: $notes}) { customer { id } userErrors { code } } }`,
				map[string]any{"mine": me.ids[n%perOrg], "theirs": other.ids[n%perOrg], "notes": me.name + " was here"},
				func(d map[string]any) error {
					return errors.Join(wantPrefix(d, "mine.customer.lastName", me.name), wantString(d, "theirs.userErrors.0.code", "NOT_FOUND"))
				}
		},
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 12 {
				me, other := tenants[(g+i)%2], tenants[(g+i+1)%2]
				query, vars, check := requests[(g+i)%len(requests)](me, other, g+i)
				res := me.client.Do(t, query, vars)
				var data map[string]any
				if res.Status != http.StatusOK || len(res.Errors) > 0 || json.Unmarshal(res.Data, &data) != nil {
					t.Errorf("%s, request %d/%d: %d %s", me.name, g, i, res.Status, res.Body)
					return
				}
				for _, m := range other.markers {
					if strings.Contains(string(res.Body), m) {
						t.Errorf("%s, request %d/%d: the response holds the other organization's %s: %s", me.name, g, i, m, res.Body)
					}
				}
				if err := check(data); err != nil {
					t.Errorf("%s, request %d/%d: %v: %s", me.name, g, i, err, res.Body)
				}
			}
		})
	}
	wg.Wait()
	// Every note was written by the customer's own organization.
	for _, tn := range tenants {
		var strangers int
		if err := srv.Owner.QueryRowContext(context.Background(), `SELECT count(*) FROM customers WHERE organization_id = ? AND notes IS NOT NULL AND notes <> ?`,
			tn.client.Org, tn.name+" was here").Scan(&strangers); err != nil {
			t.Fatal(err)
		}
		if strangers != 0 {
			t.Errorf("%d of %s's customers were written by the other organization", strangers, tn.name)
		}
	}
}

// lookup walks a dotted path (object keys, list indexes) in decoded JSON.
func lookup(data any, path string) any {
	for _, key := range strings.Split(path, ".") {
		switch v := data.(type) {
		case map[string]any:
			data = v[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i >= len(v) {
				return nil
			}
			data = v[i]
		default:
			return nil
		}
	}
	return data
}

func wantNumber(data map[string]any, path string, want int) error {
	if got, ok := lookup(data, path).(float64); !ok || int(got) != want {
		return fmt.Errorf("%s = %v, want %d", path, lookup(data, path), want)
	}
	return nil
}

func wantString(data map[string]any, path, want string) error {
	if got, _ := lookup(data, path).(string); got != want {
		return fmt.Errorf("%s = %v, want %q", path, lookup(data, path), want)
	}
	return nil
}

func wantPrefix(data map[string]any, path, prefix string) error {
	if got, _ := lookup(data, path).(string); !strings.HasPrefix(got, prefix) {
		return fmt.Errorf("%s = %v, want it to start with %q", path, lookup(data, path), prefix)
	}
	return nil
}
