package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/models"
)

// renderedFixture is one organization whose customers cover every shape json360 renders:
// every scalar set and unset, addresses of each type (inactive ones too), each tier, a page
// of transactions of every type, usages in every status (and one overdue before the job
// marked it), accounts and segments present and absent.
type renderedFixture struct {
	org                 uuid.UUID
	rich, bare, company uuid.UUID
	email               string
}

func newRenderedFixture(t *testing.T, srv *apitest.Server) renderedFixture {
	t.Helper()
	org := uuid.New()
	f := newListFixtures(t, srv, org)
	rx := renderedFixture{org: org, email: "ana.nunez@example.com"}
	at := func(s string) time.Time { return mustTime(s) }
	birth := at("1990-04-17T00:00:00Z")
	doc := models.DocumentTypeCedula
	rich := f.customer(models.Customer{FirstName: "Ana", LastName: `Núñez "la jefa" \ O'Brien`, CustomerType: models.CustomerTypeB2C,
		Email: &rx.email, Phone: refTo("+50761234567"), DocumentType: &doc, DocumentNumber: refTo("8-123-4567"),
		BirthDate: &birth, Gender: refTo("f"), Status: models.CustomerStatusBlocked, StatusReason: refTo("fraud\nreview"),
		PreferredLanguage: "en", MarketingConsent: true, Tags: []string{"vip", "café", "a,b"},
		Metadata: map[string]any{"loyalty": map[string]any{"since": "2020", "score": 1.5}, "list": []any{1.0, "two", nil}, "emoji": "😀"},
		Notes:    refTo("tab\there <b>&</b>"), CreatedAt: at("2026-01-02T03:04:05.123456Z"), LastPurchaseAt: refTo(at("2026-11-01T10:00:00Z"))})
	bare := f.customer(models.Customer{FirstName: "Erased", LastName: "Customer", CreatedAt: at("2026-01-03T00:00:00Z"),
		ErasedAt: refTo(at("2026-06-01T00:00:00.25Z"))})
	company := f.customer(models.Customer{FirstName: "Comercial", LastName: "Istmo S.A.", CustomerType: models.CustomerTypeB2B,
		CreatedAt: at("2026-01-04T00:00:00.5Z")})
	rx.rich, rx.bare, rx.company = rich.ID, bare.ID, company.ID

	addr := func(c uuid.UUID, typ models.AddressType, line string, def, active bool, created string) models.Address {
		return models.Address{ID: uuid.New(), OrganizationID: org, CustomerID: c, AddressType: typ, AddressLine1: line,
			City: "Panamá", Country: "PA", IsDefault: def, IsActive: active, CreatedAt: at(created),
			RecipientName: refTo("Recepción"), AddressLine2: refTo("Piso 3"), State: refTo("Panamá"), PostalCode: refTo("0801"), Phone: refTo("+5072001000")}
	}
	f.insert(&[]models.Address{
		addr(rich.ID, models.AddressTypeShipping, "Calle 50", true, true, "2026-02-01T00:00:00Z"),
		addr(rich.ID, models.AddressTypeBilling, "Vía España", false, true, "2026-02-02T00:00:00Z"),
		addr(rich.ID, models.AddressTypeBilling, "Vieja", true, false, "2026-02-03T00:00:00Z"),
		addr(company.ID, models.AddressTypeBoth, "Costa del Este", true, true, "2026-02-04T00:00:00Z"),
	})

	richAcc, companyAcc := uuid.New(), uuid.New()
	f.insert(&[]models.LoyaltyAccount{
		{ID: richAcc, OrganizationID: org, CustomerID: rich.ID, PointsBalance: 1130, LifetimePoints: 1500, PointsRedeemed: 370,
			Tier: models.TierGold, TierSince: at("2026-03-01T00:00:00Z"), TierExpiresAt: refTo(at("2027-03-01T00:00:00Z")),
			TotalPurchases: 7, TotalSpent: decimal.RequireFromString("1234.50"), CreatedAt: at("2026-01-05T00:00:00Z")},
		{ID: companyAcc, OrganizationID: org, CustomerID: company.ID, Tier: models.TierPlatinum, TierSince: at("2026-01-01T00:00:00Z"),
			TotalSpent: decimal.Zero, CreatedAt: at("2026-01-06T00:00:00Z")},
	})
	var txs []models.LoyaltyTransaction
	types := []models.LoyaltyTransactionType{models.TxEarn, models.TxRedeem, models.TxBonus, models.TxAdjust, models.TxExpire}
	for i := range 12 {
		typ := types[i%len(types)]
		tx := models.LoyaltyTransaction{ID: uuid.New(), OrganizationID: org, LoyaltyAccountID: richAcc, Type: typ,
			Points: -30, BalanceAfter: 100 * i, CreatedAt: at("2026-04-01T00:00:00Z").Add(time.Duration(i) * 36 * time.Hour),
			Metadata: map[string]any{}}
		if typ == models.TxEarn || typ == models.TxBonus { // a lot (§4)
			tx.Points, tx.PointsRemaining, tx.ExpiresAt = 100, refTo(40), refTo(tx.CreatedAt.AddDate(1, 0, 0))
		}
		if i%3 == 0 {
			tx.ReferenceType, tx.ReferenceID, tx.Description = refTo("order"), refTo(fmt.Sprintf("o-%d", i)), refTo("compra")
		}
		txs = append(txs, tx)
	}
	txs[5].CreatedAt = txs[4].CreatedAt // a tie on created_at: the id orders them
	f.insert(&txs)

	creditID := uuid.New()
	f.insert(&models.CreditAccount{ID: creditID, OrganizationID: org, CustomerID: company.ID, CreditLimit: decimal.RequireFromString("5000.00"),
		CreditUsed: decimal.RequireFromString("750.25"), PaymentTermDays: 45, Status: models.CreditStatusApproved,
		ApprovedAt: refTo(at("2026-02-01T12:30:00Z")), ApprovedBy: refTo(uuid.New()), ApprovalNotes: refTo("ok"),
		CreatedAt: at("2026-01-07T00:00:00Z")})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	usage := func(order, amount, paid string, st models.CreditUsageStatus, due time.Time, created string) models.CreditUsage {
		return models.CreditUsage{ID: uuid.New(), OrganizationID: org, CreditAccountID: creditID, OrderID: order,
			Amount: decimal.RequireFromString(amount), AmountPaid: decimal.RequireFromString(paid), Status: st, DueDate: due, CreatedAt: at(created)}
	}
	f.insert(&[]models.CreditUsage{
		usage("po-1", "500.00", "500.00", models.UsagePaid, today.AddDate(0, 0, -60), "2026-03-01T00:00:00Z"),
		usage("po-2", "300.00", "49.75", models.UsagePending, today.AddDate(0, 0, -3), "2026-03-02T00:00:00Z"), // overdue, job not run
		usage("po-3", "200.00", "0.00", models.UsageOverdue, today.AddDate(0, 0, -40), "2026-03-03T00:00:00Z"),
		usage("po-4", "100.00", "20.00", models.UsageCancelled, today.AddDate(0, 0, 10), "2026-03-04T00:00:00Z"),
		usage("po-5", "300.00", "0.00", models.UsagePending, today, "2026-03-05T00:00:00Z"),
	})
	f.insert(&[]models.CustomerSegment{
		{ID: uuid.New(), OrganizationID: org, CustomerID: rich.ID, SegmentCode: models.SegmentPotentialLoyalist, RfmRecency: refTo(4),
			RfmFrequency: refTo(2), RfmMonetary: refTo(5), LifetimeValue: decimal.RequireFromString("1234.50"),
			AverageOrderValue: decimal.RequireFromString("176.36"), TotalOrders: 7, DaysSinceLastPurchase: refTo(31), IsVip: true,
			CalculatedAt: at("2026-11-30T03:00:00.000001Z")},
		{ID: uuid.New(), OrganizationID: org, CustomerID: company.ID, SegmentCode: models.SegmentNew, LifetimeValue: decimal.Zero,
			AverageOrderValue: decimal.Zero, CalculatedAt: at("2026-11-30T03:00:00Z")},
	})
	return rx
}

const allCustomerScalars = `id customerType firstName lastName fullName email phone documentType documentNumber birthDate
	gender status statusReason preferredLanguage marketingConsent tags metadata notes createdAt updatedAt lastPurchaseAt erasedAt __typename`

const allAddressFields = `id customerId addressType recipientName addressLine1 addressLine2 city state postalCode country
	phone isDefault isActive createdAt updatedAt __typename`

const pageInfoFields = `pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }`

// everyRenderedField is every field json360 renders, each connection with edges, nodes, page info
// and count.
const everyRenderedField = allCustomerScalars + `
	addresses { ` + allAddressFields + ` }
	all: addresses(includeInactive: true) { id isActive }
	shipping: addresses(type: SHIPPING) { id }
	billing: addresses(type: BILLING, includeInactive: true) { id }
	both: addresses(type: BOTH) { id }
	defaultShippingAddress { ` + allAddressFields + ` }
	defaultBillingAddress { id addressLine1 }
	loyaltyAccount {
		id pointsBalance lifetimePoints pointsRedeemed tier tierSince tierExpiresAt totalPurchases totalSpent createdAt nextTier __typename
		transactions { totalCount ` + pageInfoFields + ` nodes { id type points balanceAfter referenceType referenceId description expiresAt createdAt __typename } }
		two: transactions(first: 2) { edges { cursor node { id } __typename } ` + pageInfoFields + ` __typename }
		earns: transactions(type: EARN, first: 1) { totalCount nodes { id type } pageInfo { hasNextPage } }
	}
	creditAccount {
		id creditLimit creditUsed creditAvailable paymentTermDays status approvedAt approvedBy approvalNotes suspendedAt
		suspensionReason cancelledAt cancellationReason createdAt outstanding __typename
		usages { totalCount ` + pageInfoFields + ` nodes { id orderId amount amountPaid outstanding status dueDate createdAt __typename } }
		overdue: usages(status: OVERDUE) { totalCount nodes { orderId status } }
		pending: usages(status: PENDING) { totalCount nodes { orderId } }
		paid: usages(status: PAID) { nodes { orderId } }
		cancelled: usages(status: CANCELLED) { nodes { orderId outstanding } }
		page: usages(first: 2) { edges { cursor node { orderId } } ` + pageInfoFields + ` }
	}
	segment { segmentCode rfmRecency rfmFrequency rfmMonetary rfmScore lifetimeValue averageOrderValue totalOrders
		daysSinceLastPurchase isVip isAtRisk calculatedAt __typename }`

// TestRenderedInSQL_AnswersExactlyAsTheResolvers runs each query on two servers over one
// database — one answering with the JSON PostgreSQL renders (json360), one resolving field
// by field — and compares the answers: data (numbers as written, JSON objects key by key)
// and errors. Each case also states whether the rendered server rendered it.
func TestRenderedInSQL_AnswersExactlyAsTheResolvers(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	plain := apitest.NewWith(t, apitest.Options{NoRenderInSQL: true})
	fx := newRenderedFixture(t, srv)
	rendered := srv.As(t, fx.org, auth.Viewer)
	resolved := plain.As(t, fx.org, auth.Viewer)
	log := &renderLog{}
	srv.Statements.Watch(log.record)

	// Cursors of the second page, from the resolvers' own answer.
	var firstPage struct {
		Customer struct {
			LoyaltyAccount struct {
				Transactions struct{ PageInfo struct{ EndCursor string } }
			}
			CreditAccount struct {
				Usages struct{ PageInfo struct{ EndCursor string } }
			}
		}
	}
	resolved.Must(t, `query($id: UUID!) { customer(id: $id) {
		loyaltyAccount { transactions(first: 3) { pageInfo { endCursor } } }
		creditAccount { usages(first: 2) { pageInfo { endCursor } } } } }`, gqlVars("id", fx.rich), &firstPage)
	var firstList struct {
		Customers struct{ PageInfo struct{ EndCursor string } }
	}
	resolved.Must(t, `{ customers(first: 1) { pageInfo { endCursor } } }`, nil, &firstList)

	vars := gqlVars("rich", fx.rich, "bare", fx.bare, "company", fx.company, "email", fx.email, "yes", true, "no", false,
		"n", 2, "txAfter", firstPage.Customer.LoyaltyAccount.Transactions.PageInfo.EndCursor,
		"usageAfter", firstPage.Customer.CreditAccount.Usages.PageInfo.EndCursor, "listAfter", firstList.Customers.PageInfo.EndCursor)
	cases := []struct {
		name, query string
		rendered    bool
	}{
		{"every field of a rich customer", `query($rich: UUID!) { customer(id: $rich) { ` + everyRenderedField + ` } }`, true},
		{"every field of a customer without relations", `query($bare: UUID!) { customer(id: $bare) { ` + everyRenderedField + ` } }`, true},
		{"every field of a b2b customer", `query($company: UUID!) { customer(id: $company) { ` + everyRenderedField + ` } }`, true},
		{"a missing customer", `{ customer(id: "00000000-0000-4000-8000-000000000000") { id loyaltyAccount { tier } } }`, true},
		{"lookups by email, phone and document", `query($email: String!) {
			a: customerByEmail(email: $email) { id email }
			b: customerByPhone(phone: "6123-4567") { id phone fullName }
			c: customerByDocument(documentType: CEDULA, documentNumber: " 8-123-4567 ") { id documentNumber }
			d: customerByEmail(email: "nobody@example.com") { id } }`, true},
		{"the list with everything", `{ customers(orderBy: {field: CREATED_AT, direction: ASC}) {
			totalCount __typename ` + pageInfoFields + ` edges { cursor __typename node { ` + everyRenderedField + ` } }
			nodes { ` + everyRenderedField + ` } } }`, true},
		{"the list paged backward with a filter and search", `query($listAfter: String) {
			a: customers(first: 1, after: $listAfter, orderBy: {field: CREATED_AT, direction: ASC}) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage } }
			b: customers(last: 2, orderBy: {field: LAST_NAME, direction: DESC}) { nodes { lastName } ` + pageInfoFields + ` }
			c: customers(search: "nuñez", filter: {status: [BLOCKED]}) { totalCount nodes { id segment { isVip } } }
			d: customers(filter: {customerType: [B2B]}) { nodes { creditAccount { creditAvailable } } } }`, true},
		{"only the count and page info", `{ customers { totalCount pageInfo { hasNextPage } } }`, true},
		{"fragments, aliases and directives", `query($rich: UUID!, $yes: Boolean!, $no: Boolean!) { customer(id: $rich) {
			...Names ... on Customer { email @include(if: $yes) phone @skip(if: $yes) }
			points: loyaltyAccount { balance: pointsBalance ...Tier }
			again: loyaltyAccount { tier }
			segment @include(if: $no) { segmentCode } } }
			fragment Names on Customer { first: firstName last: lastName }
			fragment Tier on LoyaltyAccount { tier nextTier }`, true},
		{"pages from variables and cursors", `query($rich: UUID!, $company: UUID!, $n: Int, $txAfter: String, $usageAfter: String) {
			a: customer(id: $rich) { loyaltyAccount { transactions(first: $n, after: $txAfter) { edges { cursor node { id } } ` + pageInfoFields + ` } } }
			b: customer(id: $company) { creditAccount { usages(first: $n, after: $usageAfter) { edges { cursor node { orderId } } ` + pageInfoFields + ` } } } }`, true},
		{"the bench queries", `query($rich: UUID!) {
			q1: customer(id: $rich) { id customerType firstName lastName email phone documentType documentNumber birthDate status
				preferredLanguage marketingConsent tags notes createdAt updatedAt lastPurchaseAt
				addresses { id addressType addressLine1 addressLine2 city state postalCode country isDefault }
				loyaltyAccount { pointsBalance lifetimePoints pointsRedeemed tier tierSince tierExpiresAt totalPurchases totalSpent
					transactions(first: 10) { nodes { id type points referenceId createdAt } } }
				creditAccount { creditLimit creditUsed creditAvailable paymentTermDays status usages { nodes { id orderId amount status dueDate } } }
				segment { segmentCode rfmRecency rfmFrequency rfmMonetary rfmScore lifetimeValue isVip } }
			q3: customer(id: $rich) { firstName loyaltyAccount { pointsBalance tier } } }`, true},
		// What needs Go is resolved field by field, with the same answer.
		{"tier progress", `query($rich: UUID!) { customer(id: $rich) { loyaltyAccount { pointsToNextTier pointsExpiringSoon(days: 365) } } }`, false},
		{"aging and payments", `query($company: UUID!) { customer(id: $company) { creditAccount { overdueAmount aging { current days1To30 days31To60 days61To90 over90 } payments { totalCount } } } }`, false},
		{"purchases", `query($rich: UUID!) { customer(id: $rich) { purchases { totalCount nodes { orderId } } } }`, false},
		{"different nodes under nodes and edges", `{ customers { nodes { id } edges { node { email } } } }`, false},
		// Arguments json360 would not accept are left to the resolvers, errors and all.
		{"a page too large", `query($rich: UUID!) { customer(id: $rich) { loyaltyAccount { transactions(first: 101) { totalCount } } } }`, false},
		{"a bad cursor", `query($company: UUID!) { customer(id: $company) { creditAccount { usages(after: "bm9wZQ") { totalCount } } } }`, false},
		{"a bad list argument", `{ customers(first: 0) { totalCount } }`, false},
	}
	for _, tc := range cases {
		log.reset()
		got := rendered.Do(t, tc.query, vars)
		want := resolved.Do(t, tc.query, vars)
		if got.Status != want.Status {
			t.Errorf("%s: HTTP %d rendered, %d resolved", tc.name, got.Status, want.Status)
		}
		if g, w := canonicalJSON(t, got.Data), canonicalJSON(t, want.Data); g != w {
			t.Errorf("%s: rendered\n%s\nresolved\n%s", tc.name, g, w)
		}
		if g, w := errorsOf(got), errorsOf(want); g != w {
			t.Errorf("%s: errors rendered %s, resolved %s", tc.name, g, w)
		}
		if r := log.rendered(); r != tc.rendered {
			t.Errorf("%s: rendered in SQL = %v, want %v", tc.name, r, tc.rendered)
		}
	}
}

// A mutation is never rendered: its payload reads after its writes, through the resolvers.
func TestRenderedInSQL_NotForMutations(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	log := &renderLog{}
	srv.Statements.Watch(log.record)
	var out struct {
		CreateCustomer struct{ Customer struct{ FullName string } }
	}
	c.Must(t, `mutation { createCustomer(input: {firstName: "Ana", lastName: "Núñez"}) { customer { fullName } userErrors { code } } }`, nil, &out)
	if out.CreateCustomer.Customer.FullName != "Ana Núñez" || log.rendered() {
		t.Fatalf("createCustomer answered %+v, rendered in SQL %v; want Ana Núñez, not rendered", out, log.rendered())
	}
}

// renderLog tells whether a request read a customer rendered in SQL (json_build_object in
// the select of customers).
type renderLog struct {
	mu  sync.Mutex
	any bool
}

func (l *renderLog) record(sql string) {
	if strings.Contains(sql, `FROM "customers" AS "c"`) && strings.Contains(sql, "json_build_object(") {
		l.mu.Lock()
		l.any = true
		l.mu.Unlock()
	}
}

func (l *renderLog) reset() { l.mu.Lock(); l.any = false; l.mu.Unlock() }

func (l *renderLog) rendered() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.any }

// canonicalJSON re-encodes raw with numbers kept as written and object keys in a fixed
// order, so that only a difference of value shows; the order of a response's own fields is
// compared too (its keys are read in order).
func canonicalJSON(t *testing.T, raw []byte) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b) + "\nkeys: " + strings.Join(keyOrder(raw), " ")
}

// keyOrder lists the object keys of raw in the order they appear, except inside JSON
// scalar values (metadata), whose keys PostgreSQL's jsonb and Go order differently.
func keyOrder(raw []byte) []string {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var keys []string
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, fmt.Sprint(k))
				if k == "metadata" {
					var skip json.RawMessage
					_ = dec.Decode(&skip)
					continue
				}
				walk()
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				walk()
			}
			_, _ = dec.Token()
		}
		return true
	}
	walk()
	return keys
}

func errorsOf(r apitest.Response) string {
	var out []map[string]any
	for _, e := range r.Errors {
		out = append(out, map[string]any{"message": e.Message, "path": e.Path, "code": e.Extensions["code"]})
	}
	b, _ := json.Marshal(out)
	return string(b)
}
