package graph_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §11 consents through the API: an append-only history per customer and purpose, the
// current state of each purpose, marketingConsent as MARKETING_EMAIL's state, and the consent
// filter of the customer list.

const consentFields = `purpose granted channel evidence recordedBy recordedAt`

type consentOut struct {
	Purpose    string
	Granted    bool
	Channel    *string
	Evidence   *string
	RecordedBy *string
	RecordedAt *string
}

type consentPayload struct {
	Consent  *consentOut
	Customer *struct {
		ID               string
		MarketingConsent bool
	}
	UserErrors []userError
}

func recordConsent(t *testing.T, c *apitest.Client, grant bool, input map[string]any) consentPayload {
	t.Helper()
	name, typ := "revokeConsent", "RevokeConsentInput"
	if grant {
		name, typ = "grantConsent", "GrantConsentInput"
	}
	var out map[string]consentPayload
	c.Must(t, `mutation($input: `+typ+`!) { r: `+name+`(input: $input) { consent { `+consentFields+` } customer { id marketingConsent } userErrors { field message code } } }`,
		map[string]any{"input": input}, &out)
	return out["r"]
}

type consentsView struct {
	Customer struct {
		MarketingConsent bool
		Consents         []consentOut
		ConsentHistory   struct {
			TotalCount int
			Nodes      []consentOut
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
}

func consentsOf(t *testing.T, c *apitest.Client, id string, first int, after any) consentsView {
	t.Helper()
	var out consentsView
	c.Must(t, `query($id: UUID!, $first: Int, $after: String) { customer(id: $id) { marketingConsent consents { `+consentFields+` }
		consentHistory(first: $first, after: $after) { totalCount nodes { `+consentFields+` } pageInfo { hasNextPage endCursor } } } }`,
		map[string]any{"id": id, "first": first, "after": after}, &out)
	return out
}

func summary(k consentOut) string {
	s := k.Purpose + " " + map[bool]string{true: "granted", false: "revoked"}[k.Granted] + " " + deref(k.Channel) + " " + deref(k.Evidence)
	return s
}

func TestConsents_HistoryAndCurrentStatePerPurpose(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, c, ana())

	r := recordConsent(t, c, true, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_SMS", "channel": "POS", "evidence": " form 17 "})
	if len(r.UserErrors) != 0 || r.Consent == nil || summary(*r.Consent) != "MARKETING_SMS granted POS form 17" ||
		deref(r.Consent.RecordedBy) != c.User.String() || r.Consent.RecordedAt == nil || r.Customer == nil || r.Customer.MarketingConsent {
		t.Fatalf("grant: %+v", r)
	}
	r = recordConsent(t, c, true, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_EMAIL", "channel": "WEB"})
	if len(r.UserErrors) != 0 || !r.Customer.MarketingConsent {
		t.Fatalf("grant email: %+v", r)
	}
	r = recordConsent(t, c, false, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_SMS", "channel": "CALL_CENTER", "evidence": "call 555"})
	if len(r.UserErrors) != 0 || summary(*r.Consent) != "MARKETING_SMS revoked CALL_CENTER call 555" {
		t.Fatalf("revoke: %+v", r)
	}

	v := consentsOf(t, c, cust.ID, 2, nil)
	var current []string
	for _, k := range v.Customer.Consents {
		current = append(current, summary(k))
	}
	if want := []string{"MARKETING_EMAIL granted WEB <nil>", "MARKETING_SMS revoked CALL_CENTER call 555"}; !slices.Equal(current, want) || !v.Customer.MarketingConsent {
		t.Fatalf("current: %v (marketingConsent %v), want %v", current, v.Customer.MarketingConsent, want)
	}
	h := v.Customer.ConsentHistory
	if h.TotalCount != 3 || len(h.Nodes) != 2 || !h.PageInfo.HasNextPage || summary(h.Nodes[0]) != "MARKETING_SMS revoked CALL_CENTER call 555" ||
		summary(h.Nodes[1]) != "MARKETING_EMAIL granted WEB <nil>" {
		t.Fatalf("history page 1: %+v", h)
	}
	next := consentsOf(t, c, cust.ID, 2, *h.PageInfo.EndCursor).Customer.ConsentHistory
	if len(next.Nodes) != 1 || next.PageInfo.HasNextPage || summary(next.Nodes[0]) != "MARKETING_SMS granted POS form 17" {
		t.Fatalf("history page 2: %+v", next)
	}

	// Revoking MARKETING_EMAIL turns marketingConsent off; marketingConsent through
	// updateCustomer is a MARKETING_EMAIL record without a channel.
	recordConsent(t, c, false, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_EMAIL", "channel": "APP"})
	if v := consentsOf(t, c, cust.ID, 20, nil); v.Customer.MarketingConsent {
		t.Fatal("marketingConsent still true after the revocation")
	}
	ok(t, updateCustomer(t, c, cust.ID, map[string]any{"marketingConsent": true}))
	v = consentsOf(t, c, cust.ID, 20, nil)
	if h := v.Customer.ConsentHistory; h.TotalCount != 5 || summary(h.Nodes[0]) != "MARKETING_EMAIL granted <nil> <nil>" ||
		deref(h.Nodes[0].RecordedBy) != c.User.String() || !v.Customer.MarketingConsent {
		t.Fatalf("after updateCustomer: %+v", v)
	}

	// Audited: the grants and revocations, each naming the purpose.
	var actions []string
	for _, a := range auditRows(t, srv, c.Org) {
		if strings.HasPrefix(a.Action, "consent.") {
			actions = append(actions, a.Action+":"+a.Details["purpose"].(string))
		}
	}
	if want := []string{"consent.grant:marketing_sms", "consent.grant:marketing_email", "consent.revoke:marketing_sms", "consent.revoke:marketing_email"}; !slices.Equal(actions, want) {
		t.Fatalf("audit: %v, want %v", actions, want)
	}
	// The history is append-only for the server's role.
	if _, err := srv.App.NewRaw("DELETE FROM customer_consents").Exec(context.Background()); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("delete as the server's role: %v", err)
	}
}

// A customer whose marketing_consent was set before consents had a history shows
// MARKETING_EMAIL granted, undated; the consent filter selects whom a campaign may contact.
func TestConsents_LegacyMarketingConsentAndTheFilter(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	legacy := uuid.New()
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, marketing_consent) VALUES (?, ?, 'Old', 'Row', true)`, legacy, c.Org)
	sms := mustCreateCustomer(t, c, ana())
	smsRevoked := mustCreateCustomer(t, c, ana())
	mustCreateCustomer(t, c, ana())
	recordConsent(t, c, true, map[string]any{"customerId": sms.ID, "purpose": "MARKETING_SMS", "channel": "POS"})
	recordConsent(t, c, true, map[string]any{"customerId": smsRevoked.ID, "purpose": "MARKETING_SMS", "channel": "POS"})
	recordConsent(t, c, false, map[string]any{"customerId": smsRevoked.ID, "purpose": "MARKETING_SMS", "channel": "WEB"})

	v := consentsOf(t, c, legacy.String(), 20, nil)
	if len(v.Customer.Consents) != 1 || summary(v.Customer.Consents[0]) != "MARKETING_EMAIL granted <nil> <nil>" ||
		v.Customer.Consents[0].RecordedAt != nil || v.Customer.ConsentHistory.TotalCount != 0 {
		t.Fatalf("legacy: %+v", v)
	}
	filter := func(purpose string) []string {
		var out struct {
			Customers struct{ Nodes []struct{ ID string } }
			Stats     struct{ Total int } `json:"customerStats"`
		}
		c.Must(t, `query($p: ConsentPurpose) { customers(filter: {consent: $p}) { nodes { id } } customerStats(filter: {consent: $p}) { total } }`,
			map[string]any{"p": purpose}, &out)
		var ids []string
		for _, n := range out.Customers.Nodes {
			ids = append(ids, n.ID)
		}
		if out.Stats.Total != len(ids) {
			t.Fatalf("%s: stats %d, list %v", purpose, out.Stats.Total, ids)
		}
		return ids
	}
	if got := filter("MARKETING_SMS"); !slices.Equal(got, []string{sms.ID}) {
		t.Fatalf("MARKETING_SMS: %v, want %s", got, sms.ID)
	}
	if got := filter("MARKETING_EMAIL"); !slices.Equal(got, []string{legacy.String()}) {
		t.Fatalf("MARKETING_EMAIL: %v, want %s", got, legacy)
	}
	if got := filter("PROFILING"); len(got) != 0 {
		t.Fatalf("PROFILING: %v", got)
	}
	// The legacy customer revokes: the history starts, marketingConsent follows, and the
	// stored row is otherwise as it was.
	recordConsent(t, c, false, map[string]any{"customerId": legacy.String(), "purpose": "MARKETING_EMAIL", "channel": "CALL_CENTER"})
	if v := consentsOf(t, c, legacy.String(), 20, nil); v.Customer.MarketingConsent || len(v.Customer.Consents) != 1 || v.Customer.Consents[0].Granted {
		t.Fatalf("after revoking: %+v", v)
	}
	if got := filter("MARKETING_EMAIL"); len(got) != 0 {
		t.Fatalf("MARKETING_EMAIL after revoking: %v", got)
	}
}

func TestConsents_RefusesBadInput(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Admin)
	cust := mustCreateCustomer(t, c, ana())
	erased := mustCreateCustomer(t, c, ana())
	mutate(t, c, `mutation($id: UUID!) { eraseCustomer(id: $id) { userErrors { code } } }`, map[string]any{"id": erased.ID})
	for name, tc := range map[string]struct {
		input map[string]any
		code  string
		field string
	}{
		"evidence over 500": {map[string]any{"customerId": cust.ID, "purpose": "PROFILING", "channel": "WEB", "evidence": strings.Repeat("e", 501)}, "INVALID", "input.evidence"},
		"unknown customer":  {map[string]any{"customerId": uuid.NewString(), "purpose": "PROFILING", "channel": "WEB"}, "NOT_FOUND", "input.customerId"},
		"erased customer":   {map[string]any{"customerId": erased.ID, "purpose": "PROFILING", "channel": "WEB"}, "INVALID_STATE", "input.customerId"},
	} {
		for _, grant := range []bool{true, false} {
			r := recordConsent(t, c, grant, tc.input)
			if r.Consent != nil || r.Customer != nil || len(r.UserErrors) != 1 || r.UserErrors[0].Code != tc.code || strings.Join(r.UserErrors[0].Field, ".") != tc.field {
				t.Errorf("%s (grant %v): %+v, want %s on %s", name, grant, r, tc.code, tc.field)
			}
		}
	}
	// Evidence of exactly 500 characters is accepted.
	if r := recordConsent(t, c, true, map[string]any{"customerId": cust.ID, "purpose": "PROFILING", "channel": "WEB", "evidence": strings.Repeat("e", 500)}); len(r.UserErrors) != 0 {
		t.Fatalf("500 characters: %+v", r.UserErrors)
	}
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM customer_consents WHERE organization_id = ?", c.Org).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("%d consent rows (%v), want 1", n, err)
	}
	// A viewer may not record consents.
	viewer := srv.As(t, c.Org, auth.Viewer)
	if code := viewer.Do(t, `mutation($id: UUID!) { grantConsent(input: {customerId: $id, purpose: PROFILING, channel: WEB}) { userErrors { code } } }`,
		map[string]any{"id": cust.ID}).ErrorCode(t); code != "FORBIDDEN" {
		t.Fatalf("viewer: %s", code)
	}
}

// §7: another organization can neither record a consent of the customer nor read its
// consents, and its consent filter does not list it.
func TestIsolation_Consents(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Agent)
	other := srv.NewOrg(t, auth.Agent)
	cust := mustCreateCustomer(t, owner, ana())
	recordConsent(t, owner, true, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_SMS", "channel": "POS"})
	for _, grant := range []bool{true, false} {
		r := recordConsent(t, other, grant, map[string]any{"customerId": cust.ID, "purpose": "MARKETING_SMS", "channel": "POS"})
		if len(r.UserErrors) != 1 || r.UserErrors[0].Code != "NOT_FOUND" {
			t.Fatalf("another organization (grant %v): %+v", grant, r)
		}
	}
	var out struct {
		Customer  *struct{ ID string }
		Customers struct{ TotalCount int }
	}
	other.Must(t, `query($id: UUID!) { customer(id: $id) { id consents { purpose } } customers(filter: {consent: MARKETING_SMS}) { totalCount } }`,
		map[string]any{"id": cust.ID}, &out)
	if out.Customer != nil || out.Customers.TotalCount != 0 {
		t.Fatalf("another organization sees: %+v", out)
	}
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM customer_consents WHERE customer_id = ?", cust.ID).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("%d consent rows (%v), want the owner's 1", n, err)
	}
}
