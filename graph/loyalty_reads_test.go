package graph_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

func TestLoyaltyAccount_TransactionsNewestFirstFilteredAndPaged(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "100.00") // EARN +100
	loyBonus(t, team.Agent, customer, 50)     // BONUS +50
	for i := range 3 {                        // REDEEM -10 ×3
		loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 10, "referenceType": "o", "referenceId": fmt.Sprint(i)})
	}
	type conn struct {
		TotalCount int
		Nodes      []loyTx
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	const q = `query($id: UUID!, $first: Int, $after: String, $type: LoyaltyTransactionType) { customer(id: $id) {
		loyaltyAccount { transactions(first: $first, after: $after, type: $type) {
			totalCount nodes { ` + loyTxFields + ` } pageInfo { hasNextPage endCursor } } } } }`
	read := func(vars map[string]any) conn {
		t.Helper()
		vars["id"] = customer
		var out struct {
			Customer struct{ LoyaltyAccount struct{ Transactions conn } }
		}
		team.Viewer.Must(t, q, vars, &out)
		return out.Customer.LoyaltyAccount.Transactions
	}
	all := read(map[string]any{})
	var seq []string
	for _, n := range all.Nodes {
		seq = append(seq, fmt.Sprintf("%s%+d=%d", n.Type, n.Points, n.BalanceAfter))
	}
	if all.TotalCount != 5 || loyJSON(seq) != `["REDEEM-10=120","REDEEM-10=130","REDEEM-10=140","BONUS+50=150","EARN+100=100"]` || all.PageInfo.HasNextPage {
		t.Fatalf("transactions = %v (total %d)", seq, all.TotalCount)
	}
	// Pages of two walk the same list.
	var walked []string
	var after any
	for pages := 0; ; pages++ {
		page := read(map[string]any{"first": 2, "after": after})
		for _, n := range page.Nodes {
			walked = append(walked, n.ID)
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		after = *page.PageInfo.EndCursor
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(walked) != 5 || walked[0] != all.Nodes[0].ID || walked[4] != all.Nodes[4].ID {
		t.Fatalf("walked %v", walked)
	}
	redeems := read(map[string]any{"type": "REDEEM", "first": 2})
	if redeems.TotalCount != 3 || len(redeems.Nodes) != 2 || !redeems.PageInfo.HasNextPage || redeems.Nodes[0].Type != "REDEEM" {
		t.Fatalf("redeems = %+v", redeems)
	}
	for _, vars := range []map[string]any{{"first": 0}, {"first": 101}, {"after": "bm9wZQ"}} {
		vars["id"] = customer
		if res := team.Viewer.Do(t, q, vars); len(res.Errors) == 0 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("%v: %s", vars, res.Body)
		}
	}
}

func TestLoyaltyAccount_PointsExpiringSoon(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	soon := loyBonus(t, team.Agent, customer, 10).Transaction
	later := loyBonus(t, team.Agent, customer, 20).Transaction
	loyBonus(t, team.Agent, customer, 40) // expires in 12 months
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '10 days' WHERE transaction_id = ?", soon.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '40 days' WHERE transaction_id = ?", later.ID)
	// Spending takes from the soonest lot: 4 of its 10 points are gone.
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 4, "referenceType": "o", "referenceId": "1"})
	var out struct {
		Customer struct {
			LoyaltyAccount struct{ Default, D9, D10, D45, D365 int }
		}
	}
	team.Viewer.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount {
		default: pointsExpiringSoon d9: pointsExpiringSoon(days: 9) d10: pointsExpiringSoon(days: 10)
		d45: pointsExpiringSoon(days: 45) d365: pointsExpiringSoon(days: 365) } } }`, map[string]any{"id": customer}, &out)
	if got := out.Customer.LoyaltyAccount; got.Default != 6 || got.D9 != 0 || got.D10 != 6 || got.D45 != 26 || got.D365 != 66 {
		t.Fatalf("expiring = %+v", got)
	}
	for _, days := range []int{0, 366} {
		res := team.Viewer.Do(t, `query($id: UUID!, $d: Int) { customer(id: $id) { loyaltyAccount { pointsExpiringSoon(days: $d) } } }`,
			map[string]any{"id": customer, "d": days})
		if len(res.Errors) == 0 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("days %d: %s", days, res.Body)
		}
	}
}

func TestLoyaltyAccount_NextTierIsNullAtPlatinum(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	a := loyBuy(t, team.Agent, customer, "4999.00").LoyaltyAccount
	if a.Tier != "SILVER" || *a.NextTier != "GOLD" || *a.PointsToNextTier != 1 {
		t.Fatalf("at 4999: %+v", a)
	}
	a = loyBuy(t, team.Agent, customer, "1.00").LoyaltyAccount // silver 1.25: +1 → 5000
	if a.Tier != "GOLD" || *a.NextTier != "PLATINUM" || *a.PointsToNextTier != 10000 {
		t.Fatalf("at 5000: %+v", a)
	}
	a = loyBonus(t, team.Agent, customer, 10000).LoyaltyAccount
	if a.Tier != "PLATINUM" || a.NextTier != nil || a.PointsToNextTier != nil {
		t.Fatalf("at 15000: %+v", a)
	}
}

// The Customer 360 page reads loyalty in its one statement: 50 customers with their accounts'
// last transactions, expiring points, tier progress and purchases cost the same
// statements as 5.
func TestLoyalty_Customer360PageCostsAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	for range 50 {
		id := loyCustomer(t, srv, team.Org)
		loyBuy(t, team.Agent, id, "12.00")
		loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": id, "points": 2, "referenceType": "o", "referenceId": uuid.NewString()})
	}
	const q = `query($first: Int) { customers(first: $first) { nodes { id
		purchases(first: 3) { totalCount nodes { orderId amount } }
		loyaltyAccount { pointsBalance nextTier pointsToNextTier pointsExpiringSoon
			transactions(first: 5) { nodes { type points balanceAfter } } } } } }`
	type page struct {
		Customers struct {
			Nodes []struct {
				Purchases struct {
					TotalCount int
					Nodes      []loyPurchase
				}
				LoyaltyAccount struct {
					PointsBalance      int
					PointsExpiringSoon int
					PointsToNextTier   int
					Transactions       struct{ Nodes []loyTx }
				}
			}
		}
	}
	run := func(first int) int64 {
		before := srv.Statements.Count()
		var out page
		team.Viewer.Must(t, q, map[string]any{"first": first}, &out)
		n := srv.Statements.Count() - before
		if len(out.Customers.Nodes) != first {
			t.Fatalf("first %d: %d customers", first, len(out.Customers.Nodes))
		}
		for _, c := range out.Customers.Nodes {
			a := c.LoyaltyAccount
			if c.Purchases.TotalCount != 1 || len(c.Purchases.Nodes) != 1 || a.PointsBalance != 10 || a.PointsToNextTier != 988 ||
				len(a.Transactions.Nodes) != 2 || a.Transactions.Nodes[0].BalanceAfter != 10 || a.PointsExpiringSoon != 0 {
				t.Fatalf("first %d: incomplete 360 %s", first, loyJSON(c))
			}
		}
		return n
	}
	n50, n5 := run(50), run(5)
	if n50 != n5 {
		t.Fatalf("50 customers cost %d statements, 5 cost %d", n50, n5)
	}
	t.Logf("a page of the loyalty 360 costs %d statements", n50)
}

// pointsExpiringSoon(days: 1) is what expires within 24 hours of now: a lot expiring later
// today and one tomorrow before this hour, what remains of a partly spent lot, and a lot
// already past its date that no job has expired yet; not one 25 hours away.
func TestLoyaltyAccount_PointsExpiringSoonOneDayIncludesLaterToday(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	laterToday := loyBonus(t, team.Agent, customer, 10).Transaction
	in23h := loyBonus(t, team.Agent, customer, 20).Transaction
	past := loyBonus(t, team.Agent, customer, 5).Transaction
	in25h := loyBonus(t, team.Agent, customer, 40).Transaction
	loyBonus(t, team.Agent, customer, 100) // 12 months
	// Spending takes from the oldest lot first: 4 of laterToday's 10 points are gone.
	loyOK(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 4, "referenceType": "o", "referenceId": "1"})
	// Later today: halfway between now and midnight UTC, whatever the hour.
	loyExec(t, srv, `UPDATE loyalty_transactions SET expires_at = now() +
		((date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') - (now() AT TIME ZONE 'UTC')) / 2
		WHERE transaction_id = ?`, laterToday.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '23 hours' WHERE transaction_id = ?", in23h.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() - interval '1 hour' WHERE transaction_id = ?", past.ID)
	loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() + interval '25 hours' WHERE transaction_id = ?", in25h.ID)

	var out struct {
		Customer struct {
			LoyaltyAccount struct{ PointsBalance, D1, D2 int }
		}
	}
	team.Viewer.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount {
		pointsBalance d1: pointsExpiringSoon(days: 1) d2: pointsExpiringSoon(days: 2) } } }`, map[string]any{"id": customer}, &out)
	if got := out.Customer.LoyaltyAccount; got.PointsBalance != 171 || got.D1 != 6+20+5 || got.D2 != 6+20+5+40 {
		t.Fatalf("balance and expiring = %+v, want 171, 31 in a day, 71 in two", got)
	}
}
