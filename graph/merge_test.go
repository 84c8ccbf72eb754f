package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// §10 merge: previewCustomerMerge and mergeCustomers.

// mgPlan selects every field of a merge plan: the preview and the merge answer it alike.
const mgPlan = `fragment P on CustomerMergePlan { survivorId mergedIds
	survivor { firstName lastName email phone documentType documentNumber documentCheckDigit birthDate gender
		preferredLanguage notes externalId tags metadata marketingConsent lastPurchaseAt changedFields }
	conflicts { field values { customerId value } chosenCustomerId }
	addresses { moved folded } purchases { moved amount }
	loyalty { accountId fromCustomerId accountsCombined transactionsMoved lotsMoved pointsBalance pendingPoints
		lifetimePoints pointsRedeemed totalPurchases totalSpent qualifyingPoints tier tierSince tierExpiresAt }
	credit { accountId fromCustomerId moved usagesMoved paymentsMoved creditLimit creditUsed accountsLeft }
	consents { purpose granted recordedAt fromCustomerId } }`

const mgPreviewQuery = `query($s: UUID!, $m: [UUID!]!, $f: [CustomerMergeFieldChoice!]) {
	previewCustomerMerge(survivorId: $s, mergedIds: $m, fieldChoices: $f) { ...P } } ` + mgPlan

const mgMergeQuery = `mutation($s: UUID!, $m: [UUID!]!, $f: [CustomerMergeFieldChoice!], $k: String!) {
	mergeCustomers(input: {survivorId: $s, mergedIds: $m, fieldChoices: $f, idempotencyKey: $k}) {
		customer { id status mergedInto } merge { ...P } userErrors { field message code } } } ` + mgPlan

// mgPlanOut is the part of a plan the tests read field by field.
type mgPlanOut struct {
	Survivor struct {
		FirstName, LastName, PreferredLanguage string
		Email, Phone, DocumentType             *string
		DocumentNumber, BirthDate, Notes       *string
		Tags, ChangedFields                    []string
		Metadata                               map[string]any
		MarketingConsent                       bool
	}
	Conflicts []struct {
		Field            string
		Values           []struct{ CustomerID, Value string }
		ChosenCustomerID string
	}
	Addresses struct{ Moved, Folded int }
	Purchases struct {
		Moved  int
		Amount string
	}
	Loyalty *struct {
		AccountID, FromCustomerID                                    string
		AccountsCombined, TransactionsMoved, LotsMoved               int
		PointsBalance, PendingPoints, LifetimePoints, PointsRedeemed int
		TotalPurchases, QualifyingPoints                             int
		TotalSpent, Tier, TierSince                                  string
		TierExpiresAt                                                *string
	}
	Credit *struct {
		AccountID, FromCustomerID, CreditLimit, CreditUsed string
		Moved                                              bool
		UsagesMoved, PaymentsMoved, AccountsLeft           int
	}
	Consents []struct {
		Purpose, RecordedAt, FromCustomerID string
		Granted                             bool
	}
}

// mgVars are the variables of a preview or merge.
func mgVars(survivor uuid.UUID, merged []uuid.UUID, choices []map[string]any, key string) map[string]any {
	v := map[string]any{"s": survivor, "m": merged}
	if choices != nil {
		v["f"] = choices
	}
	if key != "" {
		v["k"] = key
	}
	return v
}

// mgPreview previews a merge that must be accepted and returns the plan's JSON.
func mgPreview(t *testing.T, c *apitest.Client, survivor uuid.UUID, merged []uuid.UUID, choices []map[string]any) json.RawMessage {
	t.Helper()
	var out struct{ PreviewCustomerMerge json.RawMessage }
	c.Must(t, mgPreviewQuery, mgVars(survivor, merged, choices, ""), &out)
	return out.PreviewCustomerMerge
}

// mgPayload is mergeCustomers' answer.
type mgPayload struct {
	Customer *struct {
		ID, Status string
		MergedInto *string
	}
	Merge      json.RawMessage
	UserErrors []struct {
		Field   []string
		Message string
		Code    string
	}
}

// mgMerge runs mergeCustomers and returns its payload (user errors included).
func mgMerge(t testing.TB, c *apitest.Client, survivor uuid.UUID, merged []uuid.UUID, choices []map[string]any, key string) mgPayload {
	t.Helper()
	var out struct{ MergeCustomers mgPayload }
	vars := mgVars(survivor, merged, choices, "")
	vars["k"] = key
	c.Must(t, mgMergeQuery, vars, &out)
	return out.MergeCustomers
}

// mgCodes are the payload's userErrors as "code@field".
func (p mgPayload) codes() string {
	var s []string
	for _, e := range p.UserErrors {
		s = append(s, e.Code+"@"+strings.Join(e.Field, "."))
	}
	return strings.Join(s, " ")
}

func mgDecode(t testing.TB, raw json.RawMessage) mgPlanOut {
	t.Helper()
	var p mgPlanOut
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return p
}

// mgCustomer creates a customer through the API with the input fields given as GraphQL.
func mgCustomer(t testing.TB, c *apitest.Client, input string) uuid.UUID {
	t.Helper()
	p := tlDo(t, c, `mutation { createCustomer(input: {`+input+`}) { customer { id } userErrors { code } } }`, nil)
	return uuid.MustParse(p["customer"].(map[string]any)["id"].(string))
}

// mgBooks are the organization's loyalty and credit totals, which a merge never changes.
type mgBooks struct {
	Balance, Lifetime, Redeemed, LotPoints, Transactions, Purchases int
	Spent, CreditUsed, PurchaseAmount                               string
}

func mgReadBooks(t testing.TB, srv *apitest.Server, org uuid.UUID) mgBooks {
	t.Helper()
	var b mgBooks
	err := srv.Owner.NewRaw(`SELECT
		(SELECT COALESCE(sum(points_balance), 0) FROM loyalty_accounts WHERE organization_id = ?0),
		(SELECT COALESCE(sum(lifetime_points), 0) FROM loyalty_accounts WHERE organization_id = ?0),
		(SELECT COALESCE(sum(points_redeemed), 0) FROM loyalty_accounts WHERE organization_id = ?0),
		(SELECT COALESCE(sum(points_remaining), 0) FROM loyalty_transactions WHERE organization_id = ?0 AND NOT pending),
		(SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0),
		(SELECT count(*) FROM purchases WHERE organization_id = ?0),
		(SELECT COALESCE(sum(total_spent), 0)::text FROM loyalty_accounts WHERE organization_id = ?0),
		(SELECT COALESCE(sum(credit_used), 0)::text FROM credit_accounts WHERE organization_id = ?0),
		(SELECT COALESCE(sum(amount), 0)::text FROM purchases WHERE organization_id = ?0)`, org).
		Scan(t.Context(), &b.Balance, &b.Lifetime, &b.Redeemed, &b.LotPoints, &b.Transactions, &b.Purchases,
			&b.Spent, &b.CreditUsed, &b.PurchaseAmount)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mgPair is two customers of one person with every relation a merge moves: profiles that
// conflict, addresses (one identical), loyalty accounts with purchases, bonuses with the
// same reference, a redemption, and consents.
type mgPair struct {
	survivor, merged uuid.UUID
}

func mgSetUpPair(t *testing.T, agent *apitest.Client) mgPair {
	t.Helper()
	a := mgCustomer(t, agent, `firstName: "Ana", lastName: "Pérez", email: "ana@example.com", birthDate: "1990-04-01",
		tags: ["vip"], metadata: {source: "pos", level: 1}`)
	b := mgCustomer(t, agent, `firstName: "Ana", lastName: "Perez", email: "ana.perez@example.com", phone: "+50761234567",
		documentType: CEDULA, documentNumber: "8-0123-004567", birthDate: "1990-04-01", tags: ["vip", "mobile"],
		metadata: {source: "web", app: true}, notes: "from the app"`)
	for _, c := range []uuid.UUID{a, b} {
		v := map[string]any{"c": c}
		tlDo(t, agent, `mutation($c: UUID!) { addAddress(customerId: $c, input: {addressLine1: "Calle 50, Torre A", city: "Panamá", isDefault: true}) { userErrors { code } } }`, v)
		tlDo(t, agent, `mutation($c: UUID!) { enrollLoyalty(customerId: $c) { userErrors { code } } }`, v)
		tlDo(t, agent, `mutation($c: UUID!) { awardBonusPoints(input: {customerId: $c, points: 100, reason: "sign-up", referenceId: "SIGNUP"}) { userErrors { code } } }`, v)
	}
	tlDo(t, agent, `mutation($c: UUID!) { addAddress(customerId: $c, input: {addressType: BILLING, addressLine1: "Vía España 12", city: "Panamá", isDefault: true}) { userErrors { code } } }`,
		map[string]any{"c": b})
	tlDo(t, agent, `mutation($c: UUID!) { recordPurchase(input: {customerId: $c, orderId: "mg-a-1", amount: "1200.00"}) { userErrors { code } } }`, map[string]any{"c": a})
	tlDo(t, agent, `mutation($c: UUID!) { recordPurchase(input: {customerId: $c, orderId: "mg-b-1", amount: "5000.00"}) { userErrors { code } } }`, map[string]any{"c": b})
	tlDo(t, agent, `mutation($c: UUID!) { redeemPoints(input: {customerId: $c, points: 300, referenceType: "order", referenceId: "mg-b-2"}) { userErrors { code } } }`, map[string]any{"c": b})
	tlDo(t, agent, `mutation($c: UUID!) { grantConsent(input: {customerId: $c, purpose: MARKETING_SMS, channel: POS}) { userErrors { code } } }`, map[string]any{"c": a})
	tlDo(t, agent, `mutation($c: UUID!) { revokeConsent(input: {customerId: $c, purpose: MARKETING_SMS, channel: WEB}) { userErrors { code } } }`, map[string]any{"c": b})
	tlDo(t, agent, `mutation($c: UUID!) { grantConsent(input: {customerId: $c, purpose: MARKETING_EMAIL, channel: APP, evidence: "checkbox"}) { userErrors { code } } }`, map[string]any{"c": b})
	return mgPair{survivor: a, merged: b}
}

// §10: the preview answers exactly what the merge then does — the same plan, field for field
// and figure for figure — and the survivor, its accounts and the merged customer read after
// the merge are what the plan said; the books of the organization hold the same totals.
func TestMerge_PreviewEqualsMergeFieldForFieldAndFigureForFigure(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	pair := mgSetUpPair(t, agent)
	a, b := pair.survivor, pair.merged
	choices := []map[string]any{{"field": "LAST_NAME", "customerId": b}}
	before := mgReadBooks(t, srv, agent.Org)

	preview := mgPreview(t, manager, a, []uuid.UUID{b}, choices)
	if again := mgReadBooks(t, srv, agent.Org); again != before {
		t.Fatalf("the preview wrote: %+v, was %+v", again, before)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'customer.merge'", agent.Org); n != 0 {
		t.Fatalf("the preview left %d audit rows", n)
	}
	res := mgMerge(t, manager, a, []uuid.UUID{b}, choices, "mg-1")
	if len(res.UserErrors) > 0 {
		t.Fatalf("merge refused: %s", res.codes())
	}
	if string(res.Merge) != string(preview) {
		t.Fatalf("the merge did not do what the preview said:\npreview %s\nmerge   %s", preview, res.Merge)
	}
	if after := mgReadBooks(t, srv, agent.Org); after != before {
		t.Fatalf("the merge changed the books: %+v, was %+v", after, before)
	}

	p := mgDecode(t, res.Merge)
	// The survivor's fields: its own where it has one (first name, email, birth date), the
	// merged customer's where it has none (phone, document canonical, notes), the choice
	// (last name), tags and metadata unioned, the consent of MARKETING_EMAIL granted.
	s := p.Survivor
	got := fmt.Sprintf("%s %s email=%s phone=%s doc=%s %s birth=%s notes=%s tags=%v meta=%v consent=%v changed=%v",
		s.FirstName, s.LastName, *s.Email, *s.Phone, *s.DocumentType, *s.DocumentNumber, *s.BirthDate, *s.Notes, s.Tags, s.Metadata,
		s.MarketingConsent, s.ChangedFields)
	want := "Ana Perez email=ana@example.com phone=+50761234567 doc=CEDULA 8-123-4567 birth=1990-04-01 notes=from the app " +
		"tags=[vip mobile] meta=map[app:true level:1 source:pos] consent=true " +
		"changed=[last_name phone document_type document_number document_check_digit notes tags metadata last_purchase_at marketing_consent]"
	if got != want {
		t.Errorf("survivor:\n got %s\nwant %s", got, want)
	}
	var conflicts []string
	for _, c := range p.Conflicts {
		var vals []string
		for _, v := range c.Values {
			vals = append(vals, v.Value)
		}
		chosen := "survivor"
		if c.ChosenCustomerID == b.String() {
			chosen = "merged"
		}
		conflicts = append(conflicts, c.Field+"="+strings.Join(vals, "|")+"→"+chosen)
	}
	if got, want := strings.Join(conflicts, "; "), "LAST_NAME=Pérez|Perez→merged; EMAIL=ana@example.com|ana.perez@example.com→survivor"; got != want {
		t.Errorf("conflicts:\n got %s\nwant %s", got, want)
	}
	if p.Addresses.Moved != 1 || p.Addresses.Folded != 1 || p.Purchases.Moved != 1 || p.Purchases.Amount != "5000.00" {
		t.Errorf("addresses %+v, purchases %+v", p.Addresses, p.Purchases)
	}
	// Loyalty: A had 1,200 + 100 (silver), B 5,000 + 100 − 300 (gold): balances and lifetime
	// figures summed, 6,400 qualifying points keep gold, which B held.
	l := p.Loyalty
	if l == nil {
		t.Fatal("no loyalty in the plan")
	}
	gotL := fmt.Sprintf("combined=%d moved=%d lots=%d balance=%d pending=%d lifetime=%d redeemed=%d purchases=%d spent=%s qualifying=%d tier=%s",
		l.AccountsCombined, l.TransactionsMoved, l.LotsMoved, l.PointsBalance, l.PendingPoints, l.LifetimePoints, l.PointsRedeemed,
		l.TotalPurchases, l.TotalSpent, l.QualifyingPoints, l.Tier)
	if wantL := "combined=2 moved=3 lots=2 balance=6100 pending=0 lifetime=6400 redeemed=300 purchases=2 spent=6200.00 qualifying=6400 tier=GOLD"; gotL != wantL {
		t.Errorf("loyalty:\n got %s\nwant %s", gotL, wantL)
	}
	if l.FromCustomerID != a.String() || p.Credit != nil {
		t.Errorf("loyalty from %s (want the survivor's), credit %+v", l.FromCustomerID, p.Credit)
	}
	var consents []string
	for _, c := range p.Consents {
		consents = append(consents, fmt.Sprintf("%s=%v", c.Purpose, c.Granted))
	}
	if got := strings.Join(consents, " "); got != "MARKETING_EMAIL=true MARKETING_SMS=false" {
		t.Errorf("consents: %s", got)
	}

	// What the plan said is what the survivor is now.
	var now struct {
		Customer struct {
			FirstName, LastName, Email, Phone, DocumentNumber, Status string
			Notes                                                     string
			Tags                                                      []string
			MarketingConsent                                          bool
			Addresses                                                 []struct {
				AddressLine1 string
				IsDefault    bool
			}
			Consents []struct {
				Purpose string
				Granted bool
			}
			LoyaltyAccount struct {
				PointsBalance, LifetimePoints, PointsRedeemed, TotalPurchases int
				TotalSpent, Tier, TierSince                                   string
				Transactions                                                  struct{ TotalCount int }
			}
			Purchases struct{ TotalCount int }
		}
	}
	manager.Must(t, `query($id: UUID!) { customer(id: $id) { firstName lastName email phone documentNumber status notes tags marketingConsent
		addresses { addressLine1 isDefault } consents { purpose granted }
		loyaltyAccount { pointsBalance lifetimePoints pointsRedeemed totalPurchases totalSpent tier tierSince transactions(first: 1) { totalCount } }
		purchases(first: 1) { totalCount } } }`, map[string]any{"id": a}, &now)
	c := now.Customer
	if c.FirstName != s.FirstName || c.LastName != s.LastName || c.Email != *s.Email || c.Phone != *s.Phone ||
		c.DocumentNumber != *s.DocumentNumber || c.Notes != *s.Notes || strings.Join(c.Tags, ",") != strings.Join(s.Tags, ",") ||
		c.MarketingConsent != s.MarketingConsent || c.Status != "ACTIVE" {
		t.Errorf("survivor now %+v, plan %+v", c, s)
	}
	if got := fmt.Sprint(c.Addresses); got != "[{Calle 50, Torre A true} {Vía España 12 true}]" {
		t.Errorf("addresses %s", got)
	}
	la := c.LoyaltyAccount
	if la.PointsBalance != l.PointsBalance || la.LifetimePoints != l.LifetimePoints || la.PointsRedeemed != l.PointsRedeemed ||
		la.TotalPurchases != l.TotalPurchases || la.TotalSpent != l.TotalSpent || la.Tier != l.Tier || la.TierSince != l.TierSince ||
		la.Transactions.TotalCount != 5 || c.Purchases.TotalCount != 2 {
		t.Errorf("loyalty account now %+v, plan %+v", la, l)
	}
	if got := fmt.Sprint(c.Consents); got != "[{MARKETING_EMAIL true} {MARKETING_SMS false}]" {
		t.Errorf("consents now %s", got)
	}
	// The balance is what remains in the lots (§4): the combined ledger spends oldest first.
	if lots := loyInt(t, srv, "SELECT sum(points_remaining) FROM loyalty_transactions WHERE organization_id = ? AND loyalty_account_id = ?",
		agent.Org, l.AccountID); lots != l.PointsBalance {
		t.Errorf("lots hold %d, balance %d", lots, l.PointsBalance)
	}

	// The merged customer: its row, MERGED, mergedInto the survivor, its keys freed.
	var old struct {
		Customer *struct {
			Status, MergedInto    string
			Email, DocumentNumber *string
			LoyaltyAccount        struct{ PointsBalance, LifetimePoints int }
		}
	}
	manager.Must(t, `query($id: UUID!) { customer(id: $id) { status mergedInto email documentNumber loyaltyAccount { pointsBalance lifetimePoints } } }`,
		map[string]any{"id": b}, &old)
	if old.Customer == nil || old.Customer.Status != "MERGED" || old.Customer.MergedInto != a.String() || old.Customer.Email != nil ||
		old.Customer.DocumentNumber != nil || old.Customer.LoyaltyAccount.PointsBalance != 0 || old.Customer.LoyaltyAccount.LifetimePoints != 0 {
		t.Errorf("merged customer: %+v", old.Customer)
	}
	if res.Customer == nil || res.Customer.ID != a.String() || res.Customer.Status != "ACTIVE" {
		t.Errorf("payload customer %+v", res.Customer)
	}
}

// mgB2C creates a b2c customer with a name and an email (a unique key a merge frees).
func mgB2C(t testing.TB, c *apitest.Client, name string) uuid.UUID {
	t.Helper()
	return mgCustomer(t, c, fmt.Sprintf(`firstName: %q, lastName: "Prueba", email: %q`, name, strings.ToLower(name)+"-"+uuid.NewString()[:8]+"@example.com"))
}

// §10: every refusal, with its code and field, in the preview (a GraphQL error) and in the
// merge (a userError); a refused merge changes nothing.
func TestMerge_RefusalsWithTheirCodes(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	admin := srv.As(t, agent.Org, auth.Admin)
	a, b := mgB2C(t, agent, "Ana"), mgB2C(t, agent, "Beto")
	company := mgCustomer(t, agent, `customerType: B2B, firstName: "Acme", lastName: "S.A."`)
	erased := mgB2C(t, agent, "Eva")
	tlDo(t, admin, `mutation($id: UUID!) { eraseCustomer(id: $id) { userErrors { code } } }`, map[string]any{"id": erased})
	gone, into := mgB2C(t, agent, "Gil"), mgB2C(t, agent, "Hugo")
	if r := mgMerge(t, manager, into, []uuid.UUID{gone}, nil, "mg-setup"); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	other := srv.NewOrg(t, auth.Agent)
	foreign := mgB2C(t, other, "Otra")
	eleven := make([]uuid.UUID, 11)
	for i := range eleven {
		eleven[i] = mgB2C(t, agent, fmt.Sprintf("N%d", i))
	}
	before := mgReadBooks(t, srv, agent.Org)
	audits := loyAudit(t, srv, agent.Org, "customer.merge")

	for _, tc := range []struct {
		name             string
		survivor         uuid.UUID
		merged           []uuid.UUID
		choices          []map[string]any
		want, wantPrompt string // the merge's userErrors; the preview's error code
	}{
		{"into itself", a, []uuid.UUID{a}, nil, "INVALID@input.mergedIds.0", "BAD_USER_INPUT"},
		{"an id twice", a, []uuid.UUID{b, b}, nil, "INVALID@input.mergedIds.1", "BAD_USER_INPUT"},
		{"none", a, []uuid.UUID{}, nil, "INVALID@input.mergedIds", "BAD_USER_INPUT"},
		{"more than 10", a, eleven, nil, "INVALID@input.mergedIds", "BAD_USER_INPUT"},
		{"b2c with b2b", a, []uuid.UUID{company}, nil, "INVALID_STATE@input.mergedIds.0", "INVALID_STATE"},
		{"b2b with b2c", company, []uuid.UUID{a}, nil, "INVALID_STATE@input.mergedIds.0", "INVALID_STATE"},
		{"an erased customer", a, []uuid.UUID{erased}, nil, "INVALID_STATE@input.mergedIds.0", "INVALID_STATE"},
		{"into an erased customer", erased, []uuid.UUID{a}, nil, "INVALID_STATE@input.survivorId", "INVALID_STATE"},
		{"an already merged customer", a, []uuid.UUID{gone}, nil, "INVALID_STATE@input.mergedIds.0", "INVALID_STATE"},
		{"into a merged customer", gone, []uuid.UUID{a}, nil, "INVALID_STATE@input.survivorId", "INVALID_STATE"},
		{"an unknown id", a, []uuid.UUID{uuid.New()}, nil, "NOT_FOUND@input.mergedIds.0", "NOT_FOUND"},
		{"another organization's customer", a, []uuid.UUID{foreign}, nil, "NOT_FOUND@input.mergedIds.0", "NOT_FOUND"},
		{"into another organization's customer", foreign, []uuid.UUID{a}, nil, "NOT_FOUND@input.survivorId", "NOT_FOUND"},
		{"a choice of a customer not merged", a, []uuid.UUID{b}, []map[string]any{{"field": "EMAIL", "customerId": into}},
			"INVALID@input.fieldChoices.0.customerId", "BAD_USER_INPUT"},
		{"a field chosen twice", a, []uuid.UUID{b}, []map[string]any{{"field": "EMAIL", "customerId": b}, {"field": "EMAIL", "customerId": a}},
			"INVALID@input.fieldChoices.1.field", "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mgMerge(t, manager, tc.survivor, tc.merged, tc.choices, "mg-refused-"+tc.name)
			if got := r.codes(); got != tc.want || string(r.Merge) != "null" || r.Customer != nil {
				t.Errorf("merge: %s (merge %s), want %s", got, r.Merge, tc.want)
			}
			res := manager.Do(t, mgPreviewQuery, mgVars(tc.survivor, tc.merged, tc.choices, ""))
			if code := res.ErrorCode(t); code != tc.wantPrompt {
				t.Errorf("preview: %s, want %s", res.Body, tc.wantPrompt)
			}
		})
	}
	if after := mgReadBooks(t, srv, agent.Org); after != before {
		t.Errorf("a refused merge changed the books: %+v, was %+v", after, before)
	}
	if n := loyAudit(t, srv, agent.Org, "customer.merge"); n != audits {
		t.Errorf("refused merges audited: %d rows, was %d", n, audits)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ? AND status = 'merged'", agent.Org); n != 1 {
		t.Errorf("%d merged customers, want the setup's 1", n)
	}

	// Bad input: an unknown field, an idempotency key with NUL, empty or too long, an agent.
	res := manager.Do(t, mgMergeQuery, mgVars(a, []uuid.UUID{b}, []map[string]any{{"field": "SHOE_SIZE", "customerId": b}}, "k"))
	if code := res.ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Errorf("unknown field: %s", res.Body)
	}
	for key, want := range map[string]string{"a\x00b": "INVALID@input.idempotencyKey", "": "INVALID@input.idempotencyKey",
		strings.Repeat("k", 256): "INVALID@input.idempotencyKey"} {
		if r := mgMerge(t, manager, a, []uuid.UUID{b}, nil, key); r.codes() != want {
			t.Errorf("key %q: %s, want %s", key, r.codes(), want)
		}
	}
	if r := agent.Do(t, mgMergeQuery, mgVars(a, []uuid.UUID{b}, nil, "k")); r.ErrorCode(t) != "FORBIDDEN" {
		t.Errorf("an agent merges: %s", r.Body)
	}
	if r := agent.Do(t, mgPreviewQuery, mgVars(a, []uuid.UUID{b}, nil, "")); r.ErrorCode(t) != "FORBIDDEN" {
		t.Errorf("an agent previews: %s", r.Body)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ? AND status = 'merged'", agent.Org); n != 1 {
		t.Errorf("%d merged customers after bad input, want 1", n)
	}
}

// §8, §10: a replay answers the original result and changes nothing; the same key with
// another request is IDEMPOTENCY_CONFLICT.
func TestMerge_ReplayAnswersTheOriginal(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	a, b, c := mgB2C(t, agent, "Ana"), mgB2C(t, agent, "Beto"), mgB2C(t, agent, "Ciro")
	choices := []map[string]any{{"field": "EMAIL", "customerId": b}}
	first := mgMerge(t, manager, a, []uuid.UUID{b}, choices, "mg-replay")
	if len(first.UserErrors) > 0 {
		t.Fatal(first.codes())
	}
	audits := loyAudit(t, srv, agent.Org, "customer.merge")
	again := mgMerge(t, manager, a, []uuid.UUID{b}, choices, "mg-replay")
	if len(again.UserErrors) > 0 || string(again.Merge) != string(first.Merge) || again.Customer == nil || again.Customer.ID != a.String() {
		t.Fatalf("replay: %s %s\nfirst: %s", again.codes(), again.Merge, first.Merge)
	}
	if n := loyAudit(t, srv, agent.Org, "customer.merge"); n != audits {
		t.Errorf("the replay was audited again: %d rows, was %d", n, audits)
	}
	for name, r := range map[string]mgPayload{
		"other merged":   mgMerge(t, manager, a, []uuid.UUID{c}, []map[string]any{{"field": "EMAIL", "customerId": c}}, "mg-replay"),
		"other survivor": mgMerge(t, manager, c, []uuid.UUID{b}, choices, "mg-replay"),
		"other choices":  mgMerge(t, manager, a, []uuid.UUID{b}, nil, "mg-replay"),
	} {
		if r.codes() != "IDEMPOTENCY_CONFLICT@input.idempotencyKey" {
			t.Errorf("%s: %s", name, r.codes())
		}
	}
	// A new key for the same merge: b is merged already.
	if r := mgMerge(t, manager, a, []uuid.UUID{b}, choices, "mg-replay-2"); r.codes() != "INVALID_STATE@input.mergedIds.0" {
		t.Errorf("a second merge of b: %s", r.codes())
	}
}

// mgEnrolled is a b2c customer enrolled in loyalty with a purchase and a bonus.
func mgEnrolled(t testing.TB, agent *apitest.Client, name, amount string) uuid.UUID {
	t.Helper()
	id := mgB2C(t, agent, name)
	loyEnroll(t, agent, id)
	loyBuy(t, agent, id, amount)
	loyBonus(t, agent, id, 10)
	return id
}

// mgCheckLoyaltyBooks asserts what a merge keeps true of every account: the balance is the
// sum of its movements and what remains in its open lots; and the organization's totals are
// those given.
func mgCheckLoyaltyBooks(t testing.TB, srv *apitest.Server, org uuid.UUID, want mgBooks) {
	t.Helper()
	if got := mgReadBooks(t, srv, org); got != want {
		t.Errorf("books %+v, want %+v", got, want)
	}
	bad := loyInt(t, srv, `SELECT count(*) FROM loyalty_accounts a WHERE a.organization_id = ?0 AND (
		a.points_balance <> (SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0
			AND t.loyalty_account_id = a.loyalty_account_id AND t.vests_at IS NULL)
		OR a.points_balance <> (SELECT COALESCE(sum(points_remaining), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0
			AND t.loyalty_account_id = a.loyalty_account_id AND NOT t.pending))`, org)
	if bad != 0 {
		t.Errorf("%d accounts whose balance is not the sum of their ledger and lots", bad)
	}
}

// §10: concurrent merges of overlapping sets — A←B with B←A, and A←B with C←B — lock the
// customers in one order: exactly one of each pair succeeds, the other is INVALID_STATE
// (never a deadlock or an internal error), and no point, purchase or cent is lost.
func TestMerge_ConcurrentOverlappingMergesOneWinsNothingLost(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	m1, m2 := srv.As(t, agent.Org, auth.Manager), srv.As(t, agent.Org, auth.Manager)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(srv.Logs())
		}
	})
	for round := range 6 {
		a := mgEnrolled(t, agent, fmt.Sprintf("A%d", round), "150.00")
		b := mgEnrolled(t, agent, fmt.Sprintf("B%d", round), "270.00")
		c := mgEnrolled(t, agent, fmt.Sprintf("C%d", round), "390.00")
		before := mgReadBooks(t, srv, agent.Org)
		// Even rounds: A←B against B←A; odd rounds: A←B against C←B.
		first, second := [2]uuid.UUID{a, b}, [2]uuid.UUID{b, a}
		if round%2 == 1 {
			second = [2]uuid.UUID{c, b}
		}
		results := make([]mgPayload, 2)
		done := make(chan struct{})
		for i, pair := range [][2]uuid.UUID{first, second} {
			go func() {
				defer func() { done <- struct{}{} }()
				vars := mgVars(pair[0], []uuid.UUID{pair[1]}, nil, fmt.Sprintf("mg-race-%d-%d", round, i))
				res := []*apitest.Client{m1, m2}[i].Do(t, mgMergeQuery, vars)
				var out struct{ MergeCustomers mgPayload }
				if len(res.Errors) > 0 || json.Unmarshal(res.Data, &out) != nil {
					out.MergeCustomers.UserErrors = append(out.MergeCustomers.UserErrors, struct {
						Field   []string
						Message string
						Code    string
					}{Code: "ERROR " + string(res.Body)})
				}
				results[i] = out.MergeCustomers
			}()
		}
		<-done
		<-done
		won := 0
		for _, r := range results {
			switch {
			case len(r.UserErrors) == 0:
				won++
			case !strings.HasPrefix(r.codes(), "INVALID_STATE@"):
				t.Errorf("round %d: the loser answered %s", round, r.codes())
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d merges succeeded (%s / %s)", round, won, results[0].codes(), results[1].codes())
		}
		mgCheckLoyaltyBooks(t, srv, agent.Org, before)
		if n := loyInt(t, srv, "SELECT count(*) FROM customers WHERE organization_id = ? AND customer_id IN (?, ?, ?) AND status = 'merged'",
			agent.Org, a, b, c); n != 1 {
			t.Errorf("round %d: %d of the three customers merged, want 1", round, n)
		}
	}
}

// §10: a merged customer vanishes from lists, search, stats, lookups and duplicate
// candidates (customer(id) still answers it, mergedInto set), and every write to it —
// profile, addresses, consents, purchases, points, credit — is INVALID_STATE.
func TestMerge_MergedCustomerVanishesAndRefusesWrites(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	a := mgCustomer(t, agent, `firstName: "Zoila", lastName: "Quintero", birthDate: "1985-02-03"`)
	b := mgCustomer(t, agent, `firstName: "Zoila", lastName: "Quintero", birthDate: "1985-02-03", email: "zoila@example.com",
		phone: "+50762223333", documentType: PASSPORT, documentNumber: "PA123456"`)
	loyEnroll(t, agent, b)
	var dup struct {
		DuplicateCandidates struct {
			Edges []struct{ Node struct{ Score int } }
		}
	}
	const dupQuery = `{ duplicateCandidates(first: 10) { edges { node { score } } } }`
	agent.Must(t, dupQuery, nil, &dup)
	if len(dup.DuplicateCandidates.Edges) != 1 {
		t.Fatalf("before the merge: %d candidates, want the pair", len(dup.DuplicateCandidates.Edges))
	}
	if r := mgMerge(t, manager, a, []uuid.UUID{b}, []map[string]any{{"field": "EMAIL", "customerId": a}}, "mg-vanish"); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	// The survivor kept its own (null) email by choice; took the phone and the passport.
	var reads struct {
		Customers struct {
			TotalCount int
			Nodes      []struct{ ID string }
		}
		Search        struct{ TotalCount int } `json:"search"`
		Merged        struct{ TotalCount int } `json:"merged"`
		CustomerStats struct{ Total int }
		ByEmail       *struct{ ID string } `json:"byEmail"`
		ByPhone       *struct{ ID string } `json:"byPhone"`
		ByDocument    *struct{ ID string } `json:"byDocument"`
		Customer      *struct{ ID, Status, MergedInto string }
	}
	agent.Must(t, `query($b: UUID!) { customers(first: 10) { totalCount nodes { id } }
		search: customers(search: "zoila") { totalCount } merged: customers(filter: {status: [MERGED]}) { totalCount }
		customerStats { total }
		byEmail: customerByEmail(email: "zoila@example.com") { id } byPhone: customerByPhone(phone: "+50762223333") { id }
		byDocument: customerByDocument(documentType: PASSPORT, documentNumber: "pa123456") { id }
		customer(id: $b) { id status mergedInto } }`, map[string]any{"b": b}, &reads)
	if reads.Customers.TotalCount != 1 || reads.Customers.Nodes[0].ID != a.String() || reads.Search.TotalCount != 1 ||
		reads.Merged.TotalCount != 0 || reads.CustomerStats.Total != 1 {
		t.Errorf("lists: %+v", reads)
	}
	if reads.ByEmail != nil || reads.ByPhone == nil || reads.ByPhone.ID != a.String() || reads.ByDocument == nil || reads.ByDocument.ID != a.String() {
		t.Errorf("lookups: email %+v, phone %+v, document %+v", reads.ByEmail, reads.ByPhone, reads.ByDocument)
	}
	if reads.Customer == nil || reads.Customer.Status != "MERGED" || reads.Customer.MergedInto != a.String() {
		t.Errorf("customer(merged id): %+v", reads.Customer)
	}
	agent.Must(t, dupQuery, nil, &dup)
	if len(dup.DuplicateCandidates.Edges) != 0 {
		t.Errorf("after the merge: %d candidates", len(dup.DuplicateCandidates.Edges))
	}
	// The freed email is free: a new customer may take it.
	mgCustomer(t, agent, `firstName: "Otra", lastName: "Persona", email: "zoila@example.com"`)

	vars := map[string]any{"b": b}
	for name, q := range map[string]string{
		"updateCustomer":      `mutation($b: UUID!) { r: updateCustomer(id: $b, input: {notes: "x"}) { userErrors { field code } } }`,
		"setCustomerStatus":   `mutation($b: UUID!) { r: setCustomerStatus(id: $b, status: ACTIVE) { userErrors { field code } } }`,
		"addAddress":          `mutation($b: UUID!) { r: addAddress(customerId: $b, input: {addressLine1: "x", city: "y"}) { userErrors { field code } } }`,
		"grantConsent":        `mutation($b: UUID!) { r: grantConsent(input: {customerId: $b, purpose: PROFILING, channel: WEB}) { userErrors { field code } } }`,
		"enrollLoyalty":       `mutation($b: UUID!) { r: enrollLoyalty(customerId: $b) { userErrors { field code } } }`,
		"recordPurchase":      `mutation($b: UUID!) { r: recordPurchase(input: {customerId: $b, orderId: "mg-late", amount: "10.00"}) { userErrors { field code } } }`,
		"awardBonusPoints":    `mutation($b: UUID!) { r: awardBonusPoints(input: {customerId: $b, points: 5, reason: "x", referenceId: "x"}) { userErrors { field code } } }`,
		"redeemPoints":        `mutation($b: UUID!) { r: redeemPoints(input: {customerId: $b, points: 1, referenceType: "o", referenceId: "x"}) { userErrors { field code } } }`,
		"chargeCredit":        `mutation($b: UUID!) { r: chargeCredit(input: {customerId: $b, orderId: "x", amount: "1.00"}) { userErrors { field code } } }`,
		"recordCreditPayment": `mutation($b: UUID!) { r: recordCreditPayment(input: {customerId: $b, amount: "1.00", paymentReference: "x"}) { userErrors { field code } } }`,
		"adjustPoints":        `mutation($b: UUID!) { r: adjustPoints(input: {customerId: $b, points: 5, reason: "x", idempotencyKey: "mg-adj"}) { userErrors { field code } } }`,
		"openCreditAccount":   `mutation($b: UUID!) { r: openCreditAccount(input: {customerId: $b, creditLimit: "10.00", paymentTermDays: 30}) { userErrors { field code } } }`,
	} {
		var out struct {
			R struct {
				UserErrors []struct {
					Field []string
					Code  string
				}
			}
		}
		manager.Must(t, q, vars, &out)
		if len(out.R.UserErrors) != 1 || out.R.UserErrors[0].Code != "INVALID_STATE" {
			t.Errorf("%s on a merged customer: %+v", name, out.R.UserErrors)
		}
	}
}

// §10, §12: the merge is audited on every customer involved, and each one's timeline shows
// it (MERGED, `to` the survivor), with the columns that changed, never a value.
func TestMerge_AuditedOnEveryCustomerAndInTheTimeline(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	a, b, c := mgB2C(t, agent, "Ana"), mgB2C(t, agent, "Beto"), mgB2C(t, agent, "Ciro")
	if r := mgMerge(t, manager, a, []uuid.UUID{b, c}, nil, "mg-audit"); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	var rows []struct {
		EntityID      uuid.UUID `bun:"entity_id"`
		ActorID       uuid.UUID `bun:"actor_id"`
		ChangedFields []string  `bun:"changed_fields,array"`
		Details       string    `bun:"details"`
	}
	if err := srv.Owner.NewRaw(`SELECT entity_id, actor_id, changed_fields, details::text FROM audit_log
		WHERE organization_id = ? AND action = 'customer.merge' ORDER BY entity_id = ? DESC, entity_id = ? DESC`, agent.Org, a, b).
		Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].EntityID != a || rows[1].EntityID != b || rows[2].EntityID != c {
		t.Fatalf("audit rows %+v", rows)
	}
	for _, r := range rows {
		if r.ActorID != manager.User || strings.Contains(r.Details, "@example.com") || strings.Contains(r.Details, "Beto") {
			t.Errorf("audit row %+v", r)
		}
	}
	if got := strings.Join(rows[1].ChangedFields, ","); got != "status,merged_into,email" {
		t.Errorf("merged customer's audited columns: %s", got)
	}
	for _, id := range []uuid.UUID{a, b} {
		page := tlRead(t, manager, id, map[string]any{"first": 1})
		if len(page.Nodes) != 1 || page.Nodes[0].Kind != "MERGED" || page.Nodes[0].To == nil || *page.Nodes[0].To != a.String() ||
			page.Nodes[0].Actor != manager.User.String() {
			t.Errorf("timeline of %s: %+v", id, page.Nodes)
		}
	}
}

// §7, §10: another organization's manager cannot see or merge the owner's customers: the
// preview is NOT_FOUND, the merge a NOT_FOUND userError, and nothing of the owner's changes.
func TestMerge_IsolatedAcrossOrganizations(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	a, b := mgEnrolled(t, agent, "Ana", "100.00"), mgEnrolled(t, agent, "Beto", "200.00")
	before := mgReadBooks(t, srv, agent.Org)
	intruder := srv.NewOrg(t, auth.Manager)
	mine := mgB2C(t, srv.As(t, intruder.Org, auth.Agent), "Mía")
	for _, ids := range [][2]uuid.UUID{{a, b}, {mine, a}, {a, mine}} {
		res := intruder.Do(t, mgPreviewQuery, mgVars(ids[0], []uuid.UUID{ids[1]}, nil, ""))
		if code := res.ErrorCode(t); code != "NOT_FOUND" || strings.Contains(string(res.Body), "Ana") {
			t.Errorf("preview %v: %s", ids, res.Body)
		}
		if r := mgMerge(t, intruder, ids[0], []uuid.UUID{ids[1]}, nil, "mg-intrude-"+ids[1].String()); !strings.HasPrefix(r.codes(), "NOT_FOUND@") ||
			string(r.Merge) != "null" {
			t.Errorf("merge %v: %s", ids, r.codes())
		}
	}
	if after := mgReadBooks(t, srv, agent.Org); after != before {
		t.Errorf("the owner's books changed: %+v, was %+v", after, before)
	}
	// The owner merges; the intruder still sees neither customer, merged or not.
	owner := srv.As(t, agent.Org, auth.Manager)
	if r := mgMerge(t, owner, a, []uuid.UUID{b}, nil, "mg-owner"); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	var seen struct {
		A, B      *struct{ ID string }
		Customers struct{ TotalCount int }
		Search    struct{ TotalCount int } `json:"search"`
	}
	intruder.Must(t, `query($a: UUID!, $b: UUID!) { a: customer(id: $a) { id } b: customer(id: $b) { id }
		customers(filter: {status: [MERGED, ACTIVE]}) { totalCount } search: customers(search: "Beto") { totalCount } }`,
		map[string]any{"a": a, "b": b}, &seen)
	if seen.A != nil || seen.B != nil || seen.Customers.TotalCount != 1 || seen.Search.TotalCount != 0 {
		t.Errorf("the intruder reads %+v", seen)
	}
	// The same idempotency key in two organizations is two merges.
	if r := mgMerge(t, intruder, mine, []uuid.UUID{mgB2C(t, srv.As(t, intruder.Org, auth.Agent), "Otro")}, nil, "mg-owner"); len(r.UserErrors) > 0 {
		t.Errorf("the intruder's own merge with the owner's key: %s", r.codes())
	}
}

// §10 credit: the account with money outstanding follows the person — it moves to a
// survivor without one (its usages and payments with it, and the survivor is then charged
// and paid on it); two accounts that both owe are INVALID_STATE, and so is a survivor's
// account that would have to give way to one that owes; accounts owing nothing stay with
// their merged customers. The credit books hold throughout.
func TestMerge_CreditFollowsTheMoneyOrIsRefused(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	merge := func(survivor, merged uuid.UUID, key string) mgPayload {
		t.Helper()
		return mgMerge(t, tm.manager, survivor, []uuid.UUID{merged}, nil, key)
	}

	// Only the merged customer has an account, and it owes 120.00 after a payment.
	owes, acc := tm.approved(t, "500.00")
	creditOK(t, tm.charge(t, owes, "mg-o-1", "150.00"))
	creditOK(t, tm.pay(t, owes, "mg-p-1", "30.00"))
	bare := newCreditCustomer(t, srv, tm.org, "b2b", "active")
	preview := mgPreview(t, tm.manager, bare, []uuid.UUID{owes}, nil)
	r := merge(bare, owes, "mg-credit-1")
	if len(r.UserErrors) > 0 || string(r.Merge) != string(preview) {
		t.Fatalf("merge %s: %s, preview %s", r.codes(), r.Merge, preview)
	}
	c := mgDecode(t, r.Merge).Credit
	if c == nil || c.AccountID != acc.ID || c.FromCustomerID != owes.String() || !c.Moved || c.UsagesMoved != 1 || c.PaymentsMoved != 1 ||
		c.CreditUsed != "120.00" || c.CreditLimit != "500.00" || c.AccountsLeft != 0 {
		t.Fatalf("credit plan %+v", c)
	}
	if got := tm.account(t, bare); got.ID != acc.ID || got.CreditUsed != "120.00" || got.Outstanding != "120.00" {
		t.Errorf("survivor's account %+v", got)
	}
	creditOK(t, tm.charge(t, bare, "mg-o-2", "10.00"))
	creditOK(t, tm.pay(t, bare, "mg-p-2", "130.00"))
	wantCreditError(t, tm.pay(t, owes, "mg-p-3", "1.00"), "INVALID_STATE", "input", "customerId")
	assertCreditBooks(t, srv, tm.org)

	// Both owe: refused, nothing moves.
	x, _ := tm.approved(t, "100.00")
	y, _ := tm.approved(t, "100.00")
	creditOK(t, tm.charge(t, x, "mg-x", "1.00"))
	creditOK(t, tm.charge(t, y, "mg-y", "2.00"))
	if r := merge(x, y, "mg-credit-2"); r.codes() != "INVALID_STATE@input.mergedIds" {
		t.Errorf("two owing accounts: %s", r.codes())
	}
	// The survivor's account owes nothing, the merged one's does: refused (merge the other way).
	z, _ := tm.approved(t, "100.00")
	if r := merge(z, y, "mg-credit-3"); r.codes() != "INVALID_STATE@input.mergedIds" {
		t.Errorf("survivor's account owes nothing, merged one owes: %s", r.codes())
	}
	// The other way round it merges: the survivor keeps its owing account, z's stays with z.
	r = merge(y, z, "mg-credit-4")
	if c := mgDecode(t, r.Merge).Credit; len(r.UserErrors) > 0 || c == nil || c.Moved || c.FromCustomerID != y.String() || c.AccountsLeft != 1 {
		t.Errorf("survivor owes, merged owes nothing: %s %+v", r.codes(), c)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM credit_accounts WHERE organization_id = ? AND customer_id = ?", tm.org, z); n != 1 {
		t.Errorf("z's account moved (%d left with z)", n)
	}
	assertCreditBooks(t, srv, tm.org)
}

// §10, §13: a survivor that is not enrolled takes the account of the merged customer with
// the smallest account id; every other account's ledger moves into it — a pending lot keeps
// its vesting date — and the combined qualifying points raise the tier (two silvers of
// 3,000 make a gold from today).
func TestMerge_LoyaltyAccountsCombinedWithLotsAndTier(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newLoyTeam(t, srv)
	a := mgB2C(t, tm.Agent, "Ana")
	b, c := mgB2C(t, tm.Agent, "Beto"), mgB2C(t, tm.Agent, "Ciro")
	for _, id := range []uuid.UUID{b, c} {
		loyEnroll(t, tm.Agent, id)
		loyBuy(t, tm.Agent, id, "3000.00")
	}
	tlDo(t, tm.Admin, `mutation { updateLoyaltyProgram(input: {pendingDays: 30}) { userErrors { code } } }`, nil)
	loyBuy(t, tm.Agent, c, "100.00")
	var vestsAt string
	if err := srv.Owner.NewRaw(`SELECT vests_at::text FROM loyalty_transactions WHERE organization_id = ? AND pending`, tm.Org).
		Scan(t.Context(), &vestsAt); err != nil {
		t.Fatal(err)
	}
	var first uuid.UUID
	if err := srv.Owner.NewRaw(`SELECT customer_id FROM loyalty_accounts WHERE organization_id = ? ORDER BY loyalty_account_id LIMIT 1`, tm.Org).
		Scan(t.Context(), &first); err != nil {
		t.Fatal(err)
	}
	before := mgReadBooks(t, srv, tm.Org)
	preview := mgPreview(t, tm.Manager, a, []uuid.UUID{b, c}, nil)
	r := mgMerge(t, tm.Manager, a, []uuid.UUID{b, c}, nil, "mg-loyalty")
	if len(r.UserErrors) > 0 || string(r.Merge) != string(preview) {
		t.Fatalf("merge %s: %s\npreview %s", r.codes(), r.Merge, preview)
	}
	l := mgDecode(t, r.Merge).Loyalty
	today := loyToday(t, srv, 0)
	got := fmt.Sprintf("from=%v combined=%d moved=%d lots=%d balance=%d pending=%d lifetime=%d purchases=%d spent=%s qualifying=%d tier=%s since=%v",
		l.FromCustomerID == first.String(), l.AccountsCombined, l.TransactionsMoved, l.LotsMoved, l.PointsBalance, l.PendingPoints,
		l.LifetimePoints, l.TotalPurchases, l.TotalSpent, l.QualifyingPoints, l.Tier, l.TierSince == today)
	// Each account has one earn; c's silver earned 125 pending points on its second
	// purchase: the ledger that moves is 2 rows (c's) or 1 (b's), whichever is not kept.
	moved := 1
	if first == b {
		moved = 2
	}
	want := fmt.Sprintf("from=true combined=2 moved=%d lots=%d balance=6000 pending=125 lifetime=6000 purchases=3 spent=6100.00 qualifying=6000 tier=GOLD since=true", moved, moved)
	if got != want {
		t.Errorf("loyalty:\n got %s\nwant %s", got, want)
	}
	var acc struct {
		Customer struct {
			LoyaltyAccount struct {
				PointsBalance, PendingPoints int
				Tier                         string
				PendingLots                  []struct {
					Points  int
					VestsAt string
				}
			}
		}
	}
	tm.Viewer.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount { pointsBalance pendingPoints tier pendingLots { points vestsAt } } } }`,
		map[string]any{"id": a}, &acc)
	la := acc.Customer.LoyaltyAccount
	if la.PointsBalance != 6000 || la.PendingPoints != 125 || la.Tier != "GOLD" || len(la.PendingLots) != 1 || la.PendingLots[0].Points != 125 {
		t.Errorf("survivor's account %+v", la)
	}
	var vestsNow string
	if err := srv.Owner.NewRaw(`SELECT vests_at::text FROM loyalty_transactions WHERE organization_id = ? AND pending`, tm.Org).
		Scan(t.Context(), &vestsNow); err != nil || vestsNow != vestsAt {
		t.Errorf("the pending lot vests at %s, was %s (%v)", vestsNow, vestsAt, err)
	}
	mgCheckLoyaltyBooks(t, srv, tm.Org, before)
	if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_tier_changes WHERE organization_id = ? AND loyalty_account_id = ? AND tier = 'gold'",
		tm.Org, l.AccountID); n != 1 {
		t.Errorf("%d gold tier changes recorded", n)
	}
}

// §11: erasing a customer clears the stored answers of the merges it took part in, as the
// survivor or as a merged customer (they held its fields and conflicting values); a replay
// of such a merge is INVALID_STATE, and the merges of others keep their answers.
func TestMerge_ErasureClearsTheStoredAnswers(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	admin := srv.As(t, agent.Org, auth.Admin)
	a, b, c, d, e, f := mgB2C(t, agent, "Ana"), mgB2C(t, agent, "Beto"), mgB2C(t, agent, "Ciro"),
		mgB2C(t, agent, "Dora"), mgB2C(t, agent, "Eloy"), mgB2C(t, agent, "Fina")
	for _, m := range []struct {
		survivor, merged uuid.UUID
		key              string
	}{{a, b, "mg-erase-survivor"}, {c, d, "mg-erase-merged"}, {e, f, "mg-erase-other"}} {
		if r := mgMerge(t, manager, m.survivor, []uuid.UUID{m.merged}, nil, m.key); len(r.UserErrors) > 0 {
			t.Fatal(r.codes())
		}
	}
	for _, id := range []uuid.UUID{a, d} { // a survivor, a merged customer
		tlDo(t, admin, `mutation($id: UUID!) { eraseCustomer(id: $id) { userErrors { code } } }`, map[string]any{"id": id})
	}
	answers := map[string]string{}
	rows, err := srv.Owner.QueryContext(t.Context(),
		`SELECT idempotency_key, result::text FROM customer_merges WHERE organization_id = ?`, agent.Org)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, result string
		if err := rows.Scan(&key, &result); err != nil {
			t.Fatal(err)
		}
		answers[key] = result
	}
	for key, want := range map[string]bool{"mg-erase-survivor": true, "mg-erase-merged": true, "mg-erase-other": false} {
		if erased := answers[key] == `{"erased": true}`; erased != want {
			t.Errorf("%s: stored answer %.80s…, erased %v, want %v", key, answers[key], erased, want)
		}
	}
	if r := mgMerge(t, manager, a, []uuid.UUID{b}, nil, "mg-erase-survivor"); r.codes() != "INVALID_STATE@input.idempotencyKey" {
		t.Errorf("replay of an erased merge: %s", r.codes())
	}
	if r := mgMerge(t, manager, e, []uuid.UUID{f}, nil, "mg-erase-other"); len(r.UserErrors) > 0 || r.Customer == nil || r.Customer.ID != e.String() {
		t.Errorf("replay of a merge of others: %s %+v", r.codes(), r.Customer)
	}
}

// §10: the survivor's segment is recalculated after the merge (in the background: the merge
// does not wait for it) and counts the merged customer's purchases.
func TestMerge_SurvivorsSegmentCountsTheMergedPurchases(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	agent := srv.NewOrg(t, auth.Agent)
	manager := srv.As(t, agent.Org, auth.Manager)
	a, b := mgEnrolled(t, agent, "Ana", "10.00"), mgEnrolled(t, agent, "Beto", "20.00")
	if r := mgMerge(t, manager, a, []uuid.UUID{b}, nil, "mg-segment"); len(r.UserErrors) > 0 {
		t.Fatal(r.codes())
	}
	const want = `{"customer":{"segment":{"totalOrders":2,"lifetimeValue":"30.00"}}}`
	got := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r := agent.Do(t, `query($id: UUID!) { customer(id: $id) { segment { totalOrders lifetimeValue } } }`, map[string]any{"id": a})
		if got = inOrder(t, r.Data); got == want && len(r.Errors) == 0 {
			return
		}
	}
	t.Errorf("the survivor's segment: %s, want %s", got, want)
}
