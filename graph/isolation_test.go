package graph_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/apitest"
)

// §7: another organization's record is indistinguishable from a missing one — by id,
// lookup, list, search, stats and mutation — and mutations through the API change nothing.
func TestIsolation_AnotherOrganizationSeesAndChangesNothing(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
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
	if err := srv.Owner.QueryRowContext(ctx, `SELECT c.first_name, c.status, a.city, a.is_active, a.is_default,
			(SELECT count(*) FROM audit_log WHERE entity_id = c.customer_id OR entity_id = a.address_id),
			(SELECT count(*) FROM addresses WHERE organization_id = ?)
		FROM customers c JOIN addresses a USING (customer_id) WHERE c.customer_id = ?`, other.Org, customerID).
		Scan(&firstName, &status, &city, &active, &isDefault, &audits, &otherRows); err != nil {
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
