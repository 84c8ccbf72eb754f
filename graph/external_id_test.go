package graph_test

import (
	"strings"
	"testing"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// Customer.externalId (the key of a CSV import, §10) on the API: set by createCustomer and
// updateCustomer with the importer's rule (trimmed, 1–100 characters, unique in the
// organization), read through the Customer 360, and looked up by customerByExternalId.

type externalIDPayload struct {
	Customer *struct {
		ID         string
		ExternalID *string
	}
	UserErrors []userError
}

func externalIDMutation(t *testing.T, c *apitest.Client, query string, vars map[string]any) externalIDPayload {
	t.Helper()
	var out map[string]externalIDPayload
	c.Must(t, query, vars, &out)
	return out["r"]
}

const (
	createWithExternalID = `mutation($input: CreateCustomerInput!) { r: createCustomer(input: $input) { customer { id externalId } userErrors { field message code } } }`
	updateWithExternalID = `mutation($id: UUID!, $input: UpdateCustomerInput!) { r: updateCustomer(id: $id, input: $input) { customer { id externalId } userErrors { field message code } } }`
	byExternalID         = `query($e: String!) { customerByExternalId(externalId: $e) { id externalId } }`
)

func lookupExternalID(t *testing.T, c *apitest.Client, e string) *string {
	t.Helper()
	var out struct {
		CustomerByExternalID *struct {
			ID         string
			ExternalID *string
		} `json:"customerByExternalId"`
	}
	c.Must(t, byExternalID, map[string]any{"e": e}, &out)
	if out.CustomerByExternalID == nil {
		return nil
	}
	return &out.CustomerByExternalID.ID
}

func TestExternalID_CreateUpdateLookup(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)

	in := ana()
	in["externalId"] = "  ERP-0001 "
	r := externalIDMutation(t, c, createWithExternalID, map[string]any{"input": in})
	if r.Customer == nil || deref(r.Customer.ExternalID) != "ERP-0001" || len(r.UserErrors) != 0 {
		t.Fatalf("create: %+v", r)
	}
	id := r.Customer.ID
	if got := lookupExternalID(t, c, " ERP-0001"); got == nil || *got != id {
		t.Fatalf("lookup: %v, want %s", got, id)
	}
	// Compared as stored: another case is another key.
	if got := lookupExternalID(t, c, "erp-0001"); got != nil {
		t.Fatalf("lookup in another case found %s", *got)
	}

	// Taken by another customer of the organization: TAKEN on the field, on create and update.
	r = externalIDMutation(t, c, createWithExternalID, map[string]any{"input": map[string]any{"firstName": "B", "lastName": "C", "externalId": "ERP-0001"}})
	if r.Customer != nil || len(r.UserErrors) != 1 || r.UserErrors[0].Code != "TAKEN" || strings.Join(r.UserErrors[0].Field, ".") != "input.externalId" {
		t.Fatalf("taken on create: %+v", r)
	}
	other := mustCreateCustomer(t, c, map[string]any{"firstName": "B", "lastName": "C"})
	r = externalIDMutation(t, c, updateWithExternalID, map[string]any{"id": other.ID, "input": map[string]any{"externalId": "ERP-0001"}})
	if r.Customer != nil || len(r.UserErrors) != 1 || r.UserErrors[0].Code != "TAKEN" || strings.Join(r.UserErrors[0].Field, ".") != "input.externalId" {
		t.Fatalf("taken on update: %+v", r)
	}

	// Changed, then cleared with null: the old key finds nobody.
	r = externalIDMutation(t, c, updateWithExternalID, map[string]any{"id": id, "input": map[string]any{"externalId": "ERP-0002"}})
	if r.Customer == nil || deref(r.Customer.ExternalID) != "ERP-0002" {
		t.Fatalf("update: %+v", r)
	}
	if lookupExternalID(t, c, "ERP-0001") != nil || lookupExternalID(t, c, "ERP-0002") == nil {
		t.Fatal("lookup after the change")
	}
	r = externalIDMutation(t, c, updateWithExternalID, map[string]any{"id": id, "input": map[string]any{"externalId": nil}})
	if r.Customer == nil || r.Customer.ExternalID != nil {
		t.Fatalf("cleared: %+v", r)
	}
	if lookupExternalID(t, c, "ERP-0002") != nil {
		t.Fatal("a cleared key still finds the customer")
	}

	// The boundaries: 100 characters are accepted, 101, blank, NUL and a control character are INVALID.
	r = externalIDMutation(t, c, createWithExternalID, map[string]any{"input": map[string]any{"firstName": "D", "lastName": "E", "externalId": strings.Repeat("x", 100)}})
	if r.Customer == nil || len(deref(r.Customer.ExternalID)) != 100 {
		t.Fatalf("100 characters: %+v", r)
	}
	for name, bad := range map[string]string{"101 characters": strings.Repeat("y", 101), "blank": "   ", "NUL": "a\x00b", "control": "a\x1bb", "line feed": "a\nb"} {
		r := externalIDMutation(t, c, createWithExternalID, map[string]any{"input": map[string]any{"firstName": "F", "lastName": "G", "externalId": bad}})
		if r.Customer != nil || len(r.UserErrors) != 1 || r.UserErrors[0].Code != "INVALID" || strings.Join(r.UserErrors[0].Field, ".") != "input.externalId" {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if code := c.Do(t, byExternalID, map[string]any{"e": "a\x00b"}).ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Errorf("lookup with NUL: %s", code)
	}
	if lookupExternalID(t, c, "   ") != nil {
		t.Error("a blank key found someone")
	}
}

// §7: another organization does not find the customer by its external id, and may use the
// same key for a customer of its own.
func TestIsolation_ExternalID(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Agent)
	other := srv.NewOrg(t, auth.Agent)
	in := ana()
	in["externalId"] = "SHARED-1"
	mine := externalIDMutation(t, owner, createWithExternalID, map[string]any{"input": in})
	if mine.Customer == nil {
		t.Fatalf("create: %+v", mine)
	}
	if got := lookupExternalID(t, other, "SHARED-1"); got != nil {
		t.Fatalf("another organization found %s", *got)
	}
	theirs := externalIDMutation(t, other, createWithExternalID, map[string]any{"input": in})
	if theirs.Customer == nil || theirs.Customer.ID == mine.Customer.ID {
		t.Fatalf("the same key in another organization: %+v", theirs)
	}
	if got := lookupExternalID(t, owner, "SHARED-1"); got == nil || *got != mine.Customer.ID {
		t.Fatalf("owner lookup: %v", got)
	}
}
