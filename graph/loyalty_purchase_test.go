package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

func TestRecordPurchase_AutoEnrollsEarnsALotAndSetsTheTotals(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	p := loyOK(t, team.Agent, "recordPurchase", map[string]any{
		"customerId": customer, "orderId": "ORD-1", "amount": "123.45", "occurredAt": at.Format(time.RFC3339), "channel": " web ",
	})
	if p.Purchase.OrderID != "ORD-1" || p.Purchase.Amount != "123.45" || p.Purchase.PointsEarned != 123 ||
		p.Purchase.RefundedAmount != "0.00" || *p.Purchase.Channel != "web" || p.Purchase.CustomerID != customer.String() {
		t.Fatalf("purchase = %+v", p.Purchase)
	}
	if got, _ := time.Parse(time.RFC3339Nano, p.Purchase.OccurredAt); !got.Equal(at) {
		t.Fatalf("occurredAt = %s, want %s", p.Purchase.OccurredAt, at)
	}
	a := p.LoyaltyAccount
	if a.PointsBalance != 123 || a.LifetimePoints != 123 || a.Tier != "BRONZE" || a.TotalPurchases != 1 ||
		a.TotalSpent != "123.45" || *a.NextTier != "SILVER" || *a.PointsToNextTier != 877 || a.TierExpiresAt != nil {
		t.Fatalf("account = %+v", a)
	}
	tx := p.Transaction
	if tx.Type != "EARN" || tx.Points != 123 || tx.BalanceAfter != 123 || *tx.ReferenceType != "order" || *tx.ReferenceID != "ORD-1" {
		t.Fatalf("transaction = %+v", tx)
	}
	// §4: the lot expires points_lifetime_months (12) after it was earned.
	expires, _ := time.Parse(time.RFC3339Nano, *tx.ExpiresAt)
	if want := time.Now().AddDate(1, 0, 0); expires.Sub(want).Abs() > 2*24*time.Hour {
		t.Fatalf("expiresAt = %s", *tx.ExpiresAt)
	}
	var last time.Time
	if err := srv.Owner.NewRaw("SELECT last_purchase_at FROM customers WHERE customer_id = ?", customer).Scan(t.Context(), &last); err != nil || !last.Equal(at) {
		t.Fatalf("last_purchase_at = %s (%v), want %s", last, err, at)
	}
	if n := loyAudit(t, srv, team.Org, "loyalty.purchase"); n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.purchase'
		AND entity_id = ? AND details->>'enrolled' = 'true'`, team.Org, p.Purchase.ID); n != 1 {
		t.Fatal("the audit row does not name the purchase and the enrollment")
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRecordPurchase_UpgradesExactlyAtTheThreshold(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	// floor(999.99) = 999: one point short of silver.
	a := loyBuy(t, team.Agent, customer, "999.99").LoyaltyAccount
	if a.Tier != "BRONZE" || *a.PointsToNextTier != 1 || a.TierExpiresAt != nil {
		t.Fatalf("at 999 points: %+v", a)
	}
	a = loyBuy(t, team.Agent, customer, "1.00").LoyaltyAccount
	if a.Tier != "SILVER" || a.TierSince != loyToday(t, srv, 0) || a.TierExpiresAt == nil ||
		*a.TierExpiresAt != loyToday(t, srv, 12) || *a.NextTier != "GOLD" || *a.PointsToNextTier != 4000 {
		t.Fatalf("at 1000 points: %+v", a)
	}
	if n := loyInt(t, srv, `SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'loyalty.purchase'
		AND details->>'tier' = 'silver'`, team.Org); n != 1 {
		t.Fatal("the upgrade is not in the audit log")
	}
}

func TestRecordPurchase_EarnsWithTheMultiplierOfTheTierInForce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	// The purchase that reaches silver earns at bronze's 1.00.
	if p := loyBuy(t, team.Agent, customer, "1000.00"); p.Transaction.Points != 1000 || p.LoyaltyAccount.Tier != "SILVER" {
		t.Fatalf("first purchase: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	// Silver: floor(10.99 × 1.25) = floor(13.7375) = 13.
	if p := loyBuy(t, team.Agent, customer, "10.99"); p.Transaction.Points != 13 || p.Purchase.PointsEarned != 13 {
		t.Fatalf("silver purchase: %+v", p.Transaction)
	}
	// A purchase too small to earn a point writes no transaction.
	loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{"pointsPerCurrencyUnit": "0.5"})
	p := loyBuy(t, team.Agent, customer, "1.50")
	if p.Transaction != nil || p.Purchase.PointsEarned != 0 || p.LoyaltyAccount.TotalPurchases != 3 || p.LoyaltyAccount.PointsBalance != 1013 {
		t.Fatalf("tiny purchase: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	loyCheckBooks(t, srv, team.Org)
}

func TestRecordPurchase_WithoutAutoEnrollStoresThePurchaseWithoutPoints(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	loyOK(t, team.Admin, "updateLoyaltyProgram", map[string]any{"autoEnroll": false})
	customer := loyCustomer(t, srv, team.Org)
	p := loyBuy(t, team.Agent, customer, "50.00")
	if p.LoyaltyAccount != nil || p.Transaction != nil || p.Purchase.PointsEarned != 0 {
		t.Fatalf("payload = %+v", p)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM customers WHERE customer_id = ? AND last_purchase_at IS NOT NULL", customer); n != 1 {
		t.Fatal("last_purchase_at not set")
	}
	// Enrolling later starts the totals from the purchases, with zero points.
	a := loyEnroll(t, team.Agent, customer).LoyaltyAccount
	if a.TotalPurchases != 1 || a.TotalSpent != "50.00" || a.PointsBalance != 0 || a.Tier != "BRONZE" {
		t.Fatalf("account = %+v", a)
	}
	if p := loyBuy(t, team.Agent, customer, "10.00"); p.Transaction.Points != 10 || p.LoyaltyAccount.TotalSpent != "60.00" {
		t.Fatalf("after enrolling: %+v", p.LoyaltyAccount)
	}
}

func TestRecordPurchase_RejectsInvalidInput(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	input := func(k string, v any) map[string]any {
		in := map[string]any{"customerId": customer, "orderId": uuid.NewString(), "amount": "10.00"}
		in[k] = v
		return in
	}
	cases := []struct {
		name  string
		input map[string]any
		field string
	}{
		{"zero amount", input("amount", "0"), "amount"},
		{"negative amount", input("amount", "-1.00"), "amount"},
		{"three decimals", input("amount", "10.005"), "amount"},
		{"10^10", input("amount", "10000000000.00"), "amount"},
		{"empty order id", input("orderId", ""), "orderId"},
		{"blank order id", input("orderId", "   "), "orderId"},
		{"order id of 101 characters", input("orderId", strings.Repeat("x", 101)), "orderId"},
		{"channel of 31 characters", input("channel", strings.Repeat("c", 31)), "channel"},
		{"in the future", input("occurredAt", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), "occurredAt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loyWantError(t, team.Agent, "recordPurchase", tc.input, "INVALID", "input", tc.field)
		})
	}
	// The largest amount would earn more points than an account holds.
	loyWantError(t, team.Agent, "recordPurchase", input("amount", "9999999999.99"), "INVALID", "input", "amount")
	// Trailing zeros and a large amount are fine; so is a clock a little ahead.
	loyOK(t, team.Agent, "recordPurchase", input("amount", "10.500"))
	loyOK(t, team.Agent, "recordPurchase", input("amount", "99999999.99"))
	loyOK(t, team.Agent, "recordPurchase", input("occurredAt", time.Now().Add(time.Minute).UTC().Format(time.RFC3339)))
	// A JSON number is refused by the scalar (it may have passed through a float).
	res := team.Agent.Do(t, loyMutations["recordPurchase"], map[string]any{"input": input("amount", 10.5)})
	if res.ErrorCode(t) != "BAD_USER_INPUT" {
		t.Fatalf("number amount: %s", res.Body)
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM purchases WHERE organization_id = ?", team.Org); n != 3 {
		t.Fatalf("%d purchases stored", n)
	}
}

func TestRecordPurchase_BlockedCustomerStoresNothing(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org, "blocked")
	loyWantError(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "B-1", "amount": "10.00"},
		"CUSTOMER_BLOCKED", "input", "customerId")
	if n := loyInt(t, srv, `SELECT (SELECT count(*) FROM purchases WHERE organization_id = ?) +
		(SELECT count(*) FROM loyalty_accounts WHERE organization_id = ?) +
		(SELECT count(*) FROM audit_log WHERE organization_id = ?) +
		(SELECT count(*) FROM customers WHERE customer_id = ? AND last_purchase_at IS NOT NULL)`, team.Org, team.Org, team.Org, customer); n != 0 {
		t.Fatalf("%d rows written for a blocked customer", n)
	}
}

func TestRecordPurchase_AnotherOrganizationsCustomerIsNotFound(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	other := newLoyTeam(t, srv)
	theirs := loyCustomer(t, srv, other.Org)
	for _, id := range []uuid.UUID{theirs, uuid.New()} {
		loyWantError(t, team.Agent, "recordPurchase", map[string]any{"customerId": id, "orderId": uuid.NewString(), "amount": "10.00"},
			"NOT_FOUND", "input", "customerId")
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM purchases WHERE customer_id = ?", theirs); n != 0 {
		t.Fatal("a purchase was stored for another organization's customer")
	}
}

func TestRecordPurchase_ReplayReturnsTheOriginalAndChangesNothing(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	at := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	in := map[string]any{"customerId": customer, "orderId": "ORD-R", "amount": "25.00", "occurredAt": at, "channel": "pos"}
	first := loyOK(t, team.Agent, "recordPurchase", in)
	again := loyOK(t, team.Agent, "recordPurchase", in)
	if again.Purchase.ID != first.Purchase.ID || again.Transaction.ID != first.Transaction.ID ||
		again.LoyaltyAccount.PointsBalance != 25 || again.LoyaltyAccount.TotalPurchases != 1 {
		t.Fatalf("replay = %+v, first %+v", again, first)
	}
	// A retry that leaves occurredAt out is the same request.
	delete(in, "occurredAt")
	if p := loyOK(t, team.Agent, "recordPurchase", in); p.Purchase.ID != first.Purchase.ID {
		t.Fatal("a retry without occurredAt is not the same purchase")
	}
	if n := loyInt(t, srv, `SELECT (SELECT count(*) FROM purchases WHERE organization_id = ?) * 100 +
		(SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?) * 10 +
		(SELECT count(*) FROM audit_log WHERE organization_id = ?)`, team.Org, team.Org, team.Org); n != 111 {
		t.Fatalf("purchases/transactions/audit rows = %d, want 1/1/1", n)
	}
}

func TestRecordPurchase_SameOrderIDWithOtherContentConflicts(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer, other := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	at := time.Now().Add(-time.Hour).UTC()
	loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": "ORD-C", "amount": "25.00",
		"occurredAt": at.Format(time.RFC3339)})
	for name, in := range map[string]map[string]any{
		"amount":     {"customerId": customer, "orderId": "ORD-C", "amount": "25.01"},
		"customer":   {"customerId": other, "orderId": "ORD-C", "amount": "25.00"},
		"channel":    {"customerId": customer, "orderId": "ORD-C", "amount": "25.00", "channel": "web"},
		"occurredAt": {"customerId": customer, "orderId": "ORD-C", "amount": "25.00", "occurredAt": at.Add(time.Second).Format(time.RFC3339)},
	} {
		t.Run(name, func(t *testing.T) {
			loyWantError(t, team.Agent, "recordPurchase", in, "IDEMPOTENCY_CONFLICT", "input", "orderId")
		})
	}
	if n := loyInt(t, srv, "SELECT count(*) FROM purchases WHERE organization_id = ?", team.Org); n != 1 {
		t.Fatalf("%d purchases", n)
	}
}

func TestRecordPurchase_KeepsTheLatestLastPurchaseAt(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	recent := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for _, at := range []time.Time{recent, recent.AddDate(0, -1, 0)} {
		loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": uuid.NewString(),
			"amount": "5.00", "occurredAt": at.Format(time.RFC3339)})
	}
	var last time.Time
	if err := srv.Owner.NewRaw("SELECT last_purchase_at FROM customers WHERE customer_id = ?", customer).Scan(t.Context(), &last); err != nil || !last.Equal(recent) {
		t.Fatalf("last_purchase_at = %s, want %s", last, recent)
	}
}

func TestCustomerPurchases_ListsNewestFirstWithCursors(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	base := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
	for i, order := range []string{"OLD", "MID", "NEW"} {
		loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": customer, "orderId": order, "amount": "5.00",
			"occurredAt": base.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)})
	}
	type page struct {
		Customer struct {
			Purchases struct {
				TotalCount int
				Nodes      []loyPurchase
				Edges      []struct{ Cursor string }
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
	}
	const q = `query($id: UUID!, $first: Int, $after: String) { customer(id: $id) {
		purchases(first: $first, after: $after) { totalCount nodes { orderId } edges { cursor } pageInfo { hasNextPage endCursor } } } }`
	var p1 page
	team.Viewer.Must(t, q, map[string]any{"id": customer, "first": 2}, &p1)
	got := p1.Customer.Purchases
	if got.TotalCount != 3 || len(got.Nodes) != 2 || got.Nodes[0].OrderID != "NEW" || got.Nodes[1].OrderID != "MID" || !got.PageInfo.HasNextPage {
		t.Fatalf("page 1 = %+v", got)
	}
	var p2 page
	team.Viewer.Must(t, q, map[string]any{"id": customer, "first": 2, "after": *got.PageInfo.EndCursor}, &p2)
	got = p2.Customer.Purchases
	if len(got.Nodes) != 1 || got.Nodes[0].OrderID != "OLD" || got.PageInfo.HasNextPage {
		t.Fatalf("page 2 = %+v", got)
	}
	for _, vars := range []map[string]any{{"id": customer, "first": 0}, {"id": customer, "first": 101}, {"id": customer, "after": "nope"}} {
		if res := team.Viewer.Do(t, q, vars); len(res.Errors) == 0 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("%v: %s", vars, res.Body)
		}
	}
}
