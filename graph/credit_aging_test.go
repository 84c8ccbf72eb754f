package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"customerservice/credit"
	"customerservice/internal/testkit/apitest"
)

// §5 overdue and aging: computed from due dates at read time, right before the daily job
// runs; the job then makes the stored status catch up, set-based and idempotent.

const usagesQuery = `query($id: UUID!, $status: CreditUsageStatus, $first: Int, $after: String) {
	customer(id: $id) { creditAccount {
		usages(first: $first, after: $after, status: $status) {
			totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...U } } nodes { id }
		}
	} }
}
fragment U on CreditUsage { id orderId amount amountPaid outstanding status dueDate createdAt }`

type usagePage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   *string
	}
	Edges []struct {
		Cursor string
		Node   creditUsage
	}
	Nodes []struct{ ID string }
}

func (tm creditTeam) usages(t testing.TB, customerID uuid.UUID, vars map[string]any) usagePage {
	t.Helper()
	v := map[string]any{"id": customerID}
	for k, x := range vars {
		v[k] = x
	}
	var out struct {
		Customer struct{ CreditAccount struct{ Usages usagePage } }
	}
	tm.agent.Must(t, usagesQuery, v, &out)
	return out.Customer.CreditAccount.Usages
}

func orderIDs(p usagePage) []string {
	ids := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		ids[i] = e.Node.OrderID
	}
	return ids
}

func TestCreditAging_BucketsByDaysPastDueBeforeTheJobRuns(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "100000")
	fixtures := []struct {
		order        string
		amount, paid string
		days         int // from today: due today is 0, yesterday -1
	}{
		{"future", "1", "0", 5},
		{"today", "2", "0", 0},
		{"yesterday", "4", "0", -1},
		{"30-ago", "8", "0", -30},
		{"31-ago", "16", "0", -31},
		{"60-ago", "32", "0", -60},
		{"61-ago", "64", "0", -61},
		{"90-ago", "128", "0", -90},
		{"91-ago", "256", "0", -91},
		{"partly-paid-91-ago", "1000", "487.50", -91},
	}
	ids := map[string]uuid.UUID{}
	for _, f := range fixtures {
		ids[f.order] = creditFixtureUsage(t, srv, acc.ID, f.order, f.amount, f.paid, f.days)
	}
	// Paid and cancelled usages owe nothing and count nowhere.
	creditFixtureUsage(t, srv, acc.ID, "paid", "500", "500", -40)
	cancelled := creditFixtureUsage(t, srv, acc.ID, "cancelled", "700", "0", -40)
	mustExec(t, srv, `UPDATE credit_usage SET status = 'cancelled' WHERE usage_id = ?`, cancelled)
	mustExec(t, srv, `UPDATE credit_accounts SET credit_used = credit_used - 700 WHERE credit_account_id = ?`, acc.ID)

	check := func(when string) {
		t.Helper()
		a := tm.account(t, customerID)
		want := creditAccount{Outstanding: "1023.50", OverdueAmount: "1020.50"}
		want.Aging.Current, want.Aging.Days1To30, want.Aging.Days31To60, want.Aging.Days61To90, want.Aging.Over90 =
			"3.00", "12.00", "48.00", "192.00", "768.50"
		if a.Outstanding != want.Outstanding || a.CreditUsed != want.Outstanding || a.OverdueAmount != want.OverdueAmount || a.Aging != want.Aging {
			t.Fatalf("%s: outstanding %s overdue %s aging %+v, want %s %s %+v", when, a.Outstanding, a.OverdueAmount, a.Aging,
				want.Outstanding, want.OverdueAmount, want.Aging)
		}
		statuses := map[string]string{}
		for _, e := range tm.usages(t, customerID, map[string]any{"first": 100}).Edges {
			statuses[e.Node.OrderID] = e.Node.Status
			if e.Node.OrderID == "partly-paid-91-ago" && (e.Node.Outstanding != "512.50" || e.Node.AmountPaid != "487.50") {
				t.Fatalf("partly paid usage = %+v", e.Node)
			}
		}
		for order, st := range map[string]string{"future": "PENDING", "today": "PENDING", "yesterday": "OVERDUE", "91-ago": "OVERDUE",
			"paid": "PAID", "cancelled": "CANCELLED"} {
			if statuses[order] != st {
				t.Fatalf("%s: usage %s is %s, want %s", when, order, statuses[order], st)
			}
		}
		filtered := map[string]int{"PENDING": 2, "OVERDUE": 8, "PAID": 1, "CANCELLED": 1}
		for status, n := range filtered {
			p := tm.usages(t, customerID, map[string]any{"status": status, "first": 100})
			if p.TotalCount != n || len(p.Edges) != n {
				t.Fatalf("%s: usages(status: %s) = %d of %d, want %d %v", when, status, len(p.Edges), p.TotalCount, n, orderIDs(p))
			}
			for _, e := range p.Edges {
				if e.Node.Status != status {
					t.Fatalf("%s: usages(status: %s) lists a %s usage", when, status, e.Node.Status)
				}
			}
		}
	}
	check("before the job")

	ctx := context.Background()
	if _, err := credit.MarkOverdue(ctx, srv.App); err != nil {
		t.Fatal(err)
	}
	stored := func() map[string]string {
		var rows []struct {
			OrderID string `bun:"order_id"`
			Status  string `bun:"status"`
			Updated string `bun:"updated"`
		}
		if err := srv.Owner.NewRaw(`SELECT order_id, status, updated_at::text AS updated FROM credit_usage WHERE credit_account_id = ?`, acc.ID).
			Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.OrderID] = r.Status + " " + r.Updated
		}
		return out
	}
	afterFirst := stored()
	for order, want := range map[string]string{"future": "pending", "today": "pending", "yesterday": "overdue", "30-ago": "overdue",
		"91-ago": "overdue", "partly-paid-91-ago": "overdue", "paid": "paid", "cancelled": "cancelled"} {
		if st := afterFirst[order][:len(want)]; st != want {
			t.Fatalf("after the job, %s is %s, want %s", order, afterFirst[order], want)
		}
	}
	check("after the job")
	// Idempotent: a second run touches none of these rows.
	if _, err := credit.MarkOverdue(ctx, srv.App); err != nil {
		t.Fatal(err)
	}
	if again := stored(); fmt.Sprint(again) != fmt.Sprint(afterFirst) {
		t.Fatalf("second run changed rows:\n%v\n%v", afterFirst, again)
	}
	// A payment goes to the oldest overdue usages first (the two due 91 days ago).
	creditOK(t, tm.pay(t, customerID, "p-1", "768.50"))
	for _, order := range []string{"91-ago", "partly-paid-91-ago"} {
		if got := creditSQL(t, srv, `SELECT status FROM credit_usage WHERE usage_id = ?`, ids[order]); got != "paid" {
			t.Fatalf("usage %s is %s after the payment", order, got)
		}
	}
	if got := creditSQL(t, srv, `SELECT amount_paid::text FROM credit_usage WHERE usage_id = ?`, ids["90-ago"]); got != "0.00" {
		t.Fatalf("a younger usage was paid: %s", got)
	}
	assertCreditBooks(t, srv, tm.org)
}

func TestMarkOverdue_CountsWhatItMarksInEveryOrganization(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	a, b := newCreditTeam(t, srv), newCreditTeam(t, srv)
	_, accA := a.approved(t, "1000")
	_, accB := b.approved(t, "1000")
	creditFixtureUsage(t, srv, accA.ID, "a-1", "10", "0", -1)
	creditFixtureUsage(t, srv, accA.ID, "a-2", "10", "0", -100)
	creditFixtureUsage(t, srv, accB.ID, "b-1", "10", "0", -2)
	creditFixtureUsage(t, srv, accB.ID, "b-2", "10", "0", 0)
	res, err := credit.MarkOverdue(context.Background(), srv.App)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests share the database and run the job over every organization too: a run
	// that started first may mark these three (this one then skips them, re-checked under
	// the lock). Whichever marked them audited each once, by SYSTEM (§12).
	if res.Organizations < 2 {
		t.Fatalf("result = %+v", res)
	}
	if n := creditSQL(t, srv, `SELECT count(*)::text FROM audit_log WHERE organization_id IN (?, ?) AND action = 'credit.overdue'
		AND actor_id = '00000000-0000-0000-0000-000000000000'`, a.org, b.org); n != "3" {
		t.Fatalf("%s overdue audit rows, want 3", n)
	}
	got := creditSQL(t, srv, `SELECT string_agg(order_id || '=' || status, ',' ORDER BY order_id) FROM credit_usage
		WHERE credit_account_id IN (?, ?)`, accA.ID, accB.ID)
	if got != "a-1=overdue,a-2=overdue,b-1=overdue,b-2=pending" {
		t.Fatalf("statuses = %s", got)
	}
}

func TestCreditUsages_PageNewestFirstWithKeysetCursors(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "1000")
	for i := 1; i <= 5; i++ {
		creditOK(t, tm.charge(t, customerID, fmt.Sprintf("o-%d", i), "1"))
	}
	p1 := tm.usages(t, customerID, map[string]any{"first": 2})
	if fmt.Sprint(orderIDs(p1)) != "[o-5 o-4]" || !p1.PageInfo.HasNextPage || p1.TotalCount != 5 || len(p1.Nodes) != 2 ||
		p1.PageInfo.EndCursor == nil || *p1.PageInfo.EndCursor != p1.Edges[1].Cursor {
		t.Fatalf("page 1 = %+v", p1)
	}
	// A charge added meanwhile does not shift the next pages.
	creditOK(t, tm.charge(t, customerID, "o-6", "1"))
	p2 := tm.usages(t, customerID, map[string]any{"first": 2, "after": *p1.PageInfo.EndCursor})
	p3 := tm.usages(t, customerID, map[string]any{"first": 2, "after": *p2.PageInfo.EndCursor})
	if fmt.Sprint(orderIDs(p2)) != "[o-3 o-2]" || !p2.PageInfo.HasNextPage || fmt.Sprint(orderIDs(p3)) != "[o-1]" ||
		p3.PageInfo.HasNextPage || p3.TotalCount != 6 {
		t.Fatalf("pages = %v %v %+v", orderIDs(p2), orderIDs(p3), p3.PageInfo)
	}
	if p := tm.usages(t, customerID, nil); len(p.Edges) != 6 || p.PageInfo.HasNextPage { // 20 by default
		t.Fatalf("default page = %v", orderIDs(p))
	}
	for _, bad := range []map[string]any{{"first": 0}, {"first": 101}, {"after": "not-a-cursor"}} {
		res := tm.agent.Do(t, usagesQuery, map[string]any{"id": customerID, "first": bad["first"], "after": bad["after"]})
		if res.ErrorCode(t) != "BAD_USER_INPUT" {
			t.Fatalf("%v: %s", bad, res.Body)
		}
	}
}

func TestCreditPayments_ListNewestFirst(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "1000")
	creditOK(t, tm.charge(t, customerID, "o-1", "100"))
	for i := 1; i <= 3; i++ {
		creditOK(t, tm.pay(t, customerID, fmt.Sprintf("p-%d", i), "10"))
	}
	q := `query($id: UUID!, $after: String) { customer(id: $id) { creditAccount {
		payments(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { paymentReference amount } }
	} } }`
	type page struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
		Nodes []struct{ PaymentReference, Amount string }
	}
	read := func(after any) page {
		var out struct {
			Customer struct{ CreditAccount struct{ Payments page } }
		}
		tm.agent.Must(t, q, map[string]any{"id": customerID, "after": after}, &out)
		return out.Customer.CreditAccount.Payments
	}
	p1 := read(nil)
	p2 := read(p1.PageInfo.EndCursor)
	if p1.TotalCount != 3 || !p1.PageInfo.HasNextPage || fmt.Sprint(p1.Nodes) != "[{p-3 10.00} {p-2 10.00}]" ||
		p2.PageInfo.HasNextPage || fmt.Sprint(p2.Nodes) != "[{p-1 10.00}]" {
		t.Fatalf("pages = %+v %+v", p1, p2)
	}
}

// A dashboard page of customers with their credit accounts costs the same number of
// statements whatever the number of customers: each relation is one batched read.
func TestCreditDashboard_CostsAFixedNumberOfStatements(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	q := `{ customers(first: 50) { nodes { id creditAccount {
		outstanding overdueAmount aging { current days1To30 days31To60 days61To90 over90 }
		usages(first: 3) { totalCount nodes { id status outstanding } }
		overdue: usages(first: 3, status: OVERDUE) { totalCount nodes { id } }
		payments(first: 3) { totalCount nodes { id } }
	} } } }`
	cost := func(customers int) (int64, string) {
		tm := newCreditTeam(t, srv)
		for i := 0; i < customers; i++ {
			customerID, acc := tm.approved(t, "1000")
			creditOK(t, tm.charge(t, customerID, "o-1", "10"))
			creditOK(t, tm.charge(t, customerID, "o-2", "10"))
			creditFixtureUsage(t, srv, acc.ID, "late", "5", "0", -40)
			creditOK(t, tm.pay(t, customerID, "p-1", "1"))
		}
		before := srv.Statements.Count()
		res := tm.agent.Do(t, q, nil)
		n := srv.Statements.Count() - before
		if len(res.Errors) > 0 {
			t.Fatalf("dashboard: %s", res.Body)
		}
		return n, string(res.Data)
	}
	small, _ := cost(2)
	large, data := cost(12)
	if small != large {
		t.Fatalf("%d statements for 2 customers, %d for 12: something reads per account", small, large)
	}
	var out struct {
		Customers struct {
			Nodes []struct {
				CreditAccount struct {
					OverdueAmount string
					Aging         struct{ Days31To60 string }
					Usages        struct{ TotalCount int }
					Overdue       struct{ TotalCount int }
					Payments      struct{ TotalCount int }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Customers.Nodes) != 12 {
		t.Fatalf("%d customers listed", len(out.Customers.Nodes))
	}
	for _, c := range out.Customers.Nodes {
		a := c.CreditAccount
		if a.OverdueAmount != "4.00" || a.Aging.Days31To60 != "4.00" || a.Usages.TotalCount != 3 || a.Overdue.TotalCount != 1 || a.Payments.TotalCount != 1 {
			t.Fatalf("dashboard row = %+v", a)
		}
	}
	t.Logf("%d statements for a page of 12 customers with their credit", large)
}
