package seed

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/credit"
	"customerservice/db"
	"customerservice/internal/testkit/testdb"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/segments"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// pools are the server's role (what the seeder uses) and the owner (to inspect everything).
func pools(t *testing.T) (app, owner *db.Pool) {
	t.Helper()
	ctx := context.Background()
	d := testdb.Get(t)
	app, err := db.Open(ctx, d.AppURL, db.Options{MaxConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	owner, err = db.Open(ctx, d.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(); owner.Close() })
	return app, owner
}

// tables are every table the seeder writes, with how to reach a row's customer.
var tables = map[string]string{
	"customers":            "SELECT organization_id, customer_id FROM customers",
	"addresses":            "SELECT organization_id, customer_id FROM addresses",
	"purchases":            "SELECT organization_id, customer_id FROM purchases",
	"purchase_refunds":     "SELECT r.organization_id, p.customer_id FROM purchase_refunds r JOIN purchases p USING (purchase_id)",
	"loyalty_accounts":     "SELECT organization_id, customer_id FROM loyalty_accounts",
	"loyalty_transactions": "SELECT t.organization_id, a.customer_id FROM loyalty_transactions t JOIN loyalty_accounts a USING (loyalty_account_id)",
	"credit_accounts":      "SELECT organization_id, customer_id FROM credit_accounts",
	"credit_usage":         "SELECT u.organization_id, a.customer_id FROM credit_usage u JOIN credit_accounts a USING (credit_account_id)",
	"credit_payments":      "SELECT p.organization_id, a.customer_id FROM credit_payments p JOIN credit_accounts a USING (credit_account_id)",
	"customer_segments":    "SELECT organization_id, customer_id FROM customer_segments",
}

// countRows counts each table's rows of the customers of org, failing on any row whose
// organization differs from its customer's.
func countRows(t *testing.T, owner *db.Pool, org uuid.UUID) map[string]int {
	t.Helper()
	got := map[string]int{}
	for table, rowsOf := range tables {
		var n, misplaced int
		err := owner.QueryRowContext(context.Background(), `
			SELECT count(*) FILTER (WHERE r.organization_id = c.organization_id),
			       count(*) FILTER (WHERE r.organization_id <> c.organization_id)
			FROM (`+rowsOf+`) r JOIN customers c USING (customer_id)
			WHERE c.organization_id = ?`, org).Scan(&n, &misplaced)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if misplaced > 0 {
			t.Errorf("%s: %d rows in another organization than their customer's", table, misplaced)
		}
		got[table] = n
	}
	return got
}

// expected counts the rows of the outcomes, every table but the segments (which the
// recalculation derives).
func expected(outcomes []*outcome) map[string]int {
	want := map[string]int{"customers": len(outcomes)}
	for _, o := range outcomes {
		want["addresses"] += len(o.addresses)
		want["purchases"] += len(o.purchases)
		want["purchase_refunds"] += len(o.refunds)
		want["loyalty_transactions"] += len(o.transactions)
		want["credit_usage"] += len(o.usages)
		want["credit_payments"] += len(o.payments)
		if o.account != nil {
			want["loyalty_accounts"]++
		}
		if o.credit != nil {
			want["credit_accounts"]++
		}
	}
	return want
}

func defaultProgram(t *testing.T, app *db.Pool, org uuid.UUID) *models.LoyaltyProgram {
	t.Helper()
	var prog *models.LoyaltyProgram
	err := db.InOrg(context.Background(), app, org, false, func(ctx context.Context, tx bun.Tx) (err error) {
		prog, err = program(ctx, tx, org)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// invariants are the domain rules every load must leave true, each a query counting the
// rows of organization ?0 that break it.
var invariants = map[string]string{
	"balance = Σ transactions": `SELECT count(*) FROM loyalty_accounts a WHERE a.organization_id = ?0
		AND a.points_balance <> COALESCE((SELECT sum(t.points) FROM loyalty_transactions t
			WHERE t.loyalty_account_id = a.loyalty_account_id), 0)`,
	"balance = Σ points remaining in unexpired lots": `SELECT count(*) FROM loyalty_accounts a WHERE a.organization_id = ?0
		AND a.points_balance <> COALESCE((SELECT sum(t.points_remaining) FROM loyalty_transactions t
			WHERE t.loyalty_account_id = a.loyalty_account_id AND t.points_remaining > 0 AND t.expires_at > now()), 0)`,
	"no expired lot holds points": `SELECT count(*) FROM loyalty_transactions
		WHERE organization_id = ?0 AND points_remaining > 0 AND expires_at <= now()`,
	"balance_after is the running balance": `SELECT count(*) FROM (
			SELECT balance_after, sum(points) OVER (PARTITION BY loyalty_account_id ORDER BY created_at, transaction_id) AS running
			FROM loyalty_transactions WHERE organization_id = ?0) x
		WHERE balance_after <> running`,
	"lifetime = earned − reversed, redeemed = Σ redemptions": `SELECT count(*) FROM loyalty_accounts a
		CROSS JOIN LATERAL (SELECT
			COALESCE(sum(points) FILTER (WHERE transaction_type IN ('earn', 'bonus') OR reference_type = 'refund'), 0) AS lifetime,
			COALESCE(-sum(points) FILTER (WHERE transaction_type = 'redeem'), 0) AS redeemed
			FROM loyalty_transactions t WHERE t.loyalty_account_id = a.loyalty_account_id) s
		WHERE a.organization_id = ?0 AND (a.lifetime_points <> s.lifetime OR a.points_redeemed <> s.redeemed)`,
	"total_spent = Σ (amount − refunded), total_purchases = count": `SELECT count(*) FROM loyalty_accounts a
		CROSS JOIN LATERAL (SELECT count(*) AS n, COALESCE(sum(p.amount - p.refunded_amount), 0) AS spent
			FROM purchases p WHERE p.customer_id = a.customer_id) s
		WHERE a.organization_id = ?0 AND (a.total_spent <> s.spent OR a.total_purchases <> s.n)`,
	"tier at least what the qualifying points give, expiring unless bronze": `SELECT count(*) FROM loyalty_accounts a
		JOIN loyalty_programs lp USING (organization_id)
		CROSS JOIN LATERAL (SELECT ` + loyalty.QualifyingSQL("a.organization_id", "a.loyalty_account_id",
		"now() - make_interval(months => lp.qualification_months)", "now()") + ` AS q) s
		WHERE a.organization_id = ?0 AND (
			array_position(ARRAY['bronze','silver','gold','platinum']::varchar[], a.tier) <
			CASE WHEN s.q >= lp.threshold_platinum THEN 4 WHEN s.q >= lp.threshold_gold THEN 3
				WHEN s.q >= lp.threshold_silver THEN 2 ELSE 1 END
			OR (a.tier = 'bronze') <> (a.tier_expires_at IS NULL)
			OR a.tier_expires_at <= (now() AT TIME ZONE 'UTC')::date)`,
	"a purchase's points are its earn transaction's": `SELECT count(*) FROM purchases p
		LEFT JOIN loyalty_transactions t ON t.organization_id = p.organization_id AND t.transaction_type = 'earn'
			AND t.reference_type = 'order' AND t.reference_id = p.order_id
		WHERE p.organization_id = ?0 AND p.points_earned <> COALESCE(t.points, 0)`,
	"refunded and reversed = Σ of the purchase's refunds": `SELECT count(*) FROM purchases p
		CROSS JOIN LATERAL (SELECT COALESCE(sum(r.amount), 0) AS amount, COALESCE(sum(r.points_reversed), 0) AS points,
			COALESCE(-(SELECT sum(t.points) FROM loyalty_transactions t WHERE t.organization_id = p.organization_id
				AND t.reference_type = 'refund' AND t.reference_id IN (SELECT refund_id FROM purchase_refunds x
					WHERE x.purchase_id = p.purchase_id)), 0) AS adjusted
			FROM purchase_refunds r WHERE r.purchase_id = p.purchase_id) s
		WHERE p.organization_id = ?0 AND (p.refunded_amount <> s.amount OR p.points_reversed <> s.points OR s.points <> s.adjusted)`,
	"last_purchase_at = the latest purchase": `SELECT count(*) FROM customers c
		WHERE c.organization_id = ?0 AND c.last_purchase_at IS DISTINCT FROM (SELECT max(occurred_at) FROM purchases p
			WHERE p.customer_id = c.customer_id)`,
	"credit_used = Σ (amount − paid) of the usages not cancelled": `SELECT count(*) FROM credit_accounts a
		WHERE a.organization_id = ?0 AND a.credit_used <> COALESCE((SELECT sum(u.amount - u.amount_paid) FROM credit_usage u
			WHERE u.credit_account_id = a.credit_account_id AND u.status <> 'cancelled'), 0)`,
	"payments = Σ paid of the usages": `SELECT count(*) FROM credit_accounts a
		WHERE a.organization_id = ?0
		AND COALESCE((SELECT sum(amount) FROM credit_payments p WHERE p.credit_account_id = a.credit_account_id), 0)
		 <> COALESCE((SELECT sum(amount_paid) FROM credit_usage u WHERE u.credit_account_id = a.credit_account_id), 0)`,
	"a usage is paid, overdue or pending as its payments and due date say": `SELECT count(*) FROM credit_usage
		WHERE organization_id = ?0 AND status <> CASE WHEN amount_paid = amount THEN 'paid'
			WHEN due_date < (now() AT TIME ZONE 'UTC')::date THEN 'overdue' ELSE 'pending' END`,
	"only approved or suspended accounts were charged, of companies": `SELECT count(*) FROM credit_accounts a
		JOIN customers c USING (customer_id)
		WHERE a.organization_id = ?0 AND (c.customer_type <> 'b2b' OR (a.status NOT IN ('approved', 'suspended')
			AND EXISTS (SELECT FROM credit_usage u WHERE u.credit_account_id = a.credit_account_id)))`,
}

func checkInvariants(t *testing.T, owner *db.Pool, org uuid.UUID) {
	t.Helper()
	for name, q := range invariants {
		var n int
		if err := owner.NewRaw(q, org).Scan(context.Background(), &n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n > 0 {
			t.Errorf("%s: broken by %d rows", name, n)
		}
	}
}

// segmentRows are the organization's segments without calculated_at.
func segmentRows(t *testing.T, owner *db.Pool, org uuid.UUID) []string {
	t.Helper()
	var rows []string
	err := owner.NewRaw(`SELECT concat_ws(' ', customer_id, segment_code, rfm_recency, rfm_frequency, rfm_monetary,
			lifetime_value, average_order_value, total_orders, days_since_last_purchase, is_vip, is_at_risk)
		FROM customer_segments WHERE organization_id = ? ORDER BY customer_id`, org).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// jobsChangeNothing runs the daily jobs on org as `jobs run` does: nothing may expire, no
// tier change, no usage become overdue, and the segments stay the same.
func jobsChangeNothing(t *testing.T, app, owner *db.Pool, org uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	before := segmentRows(t, owner, org)
	counts, err := loyalty.RunJobsFor(ctx, app, org, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if counts.ExpiredPoints != 0 || counts.ExpiredAccounts != 0 || counts.TiersEvaluated != 0 {
		t.Errorf("loyalty jobs right after seeding: %+v; want nothing expired or re-evaluated", counts)
	}
	marked, err := credit.MarkOverdueFor(ctx, app, org)
	if err != nil {
		t.Fatal(err)
	}
	if marked != 0 {
		t.Errorf("overdue job marked %d usages; the seeder should have left them marked", marked)
	}
	res, err := segments.RecalculateOrg(ctx, app, org)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 0 {
		t.Errorf("recalculation removed %d segments", res.Removed)
	}
	if after := segmentRows(t, owner, org); !slices.Equal(before, after) {
		t.Errorf("recalculation changed the segments: %d rows before, %d after; first difference: %s", len(before), len(after), firstDiff(before, after))
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%q vs %q", a[i], b[i])
		}
	}
	return "(lengths)"
}

func TestCustomers_LoadsConsistentRowsInTheOrganization(t *testing.T) {
	app, owner := pools(t)
	ctx := context.Background()
	org, now := uuid.New(), time.Now()
	var progress int
	added, err := Customers(ctx, app, Options{
		Org: org, Customers: 2500, Seed: 7, BatchSize: 1000, Now: now,
		Progress: func(n int) { progress += n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if added != 2500 || progress != 2500 {
		t.Fatalf("added %d, progress %d; want 2500", added, progress)
	}
	// The seeded organization is one the jobs visit.
	if orgs, err := db.Organizations(ctx, app); err != nil || !slices.Contains(orgs, org.String()) {
		t.Fatalf("registry after the seed: %v (%v), want %s in it", orgs, err, org)
	}
	prog := defaultProgram(t, app, org)
	g := newGenerator(org, 7, now, DemoUser, "S7")
	outcomes := make([]*outcome, 2500)
	for i := range outcomes {
		outcomes[i] = g.replay(g.customer(i), prog)
	}
	got, want := countRows(t, owner, org), expected(outcomes)
	segs := got["customer_segments"]
	delete(got, "customer_segments")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows per table:\n got %v\nwant %v", got, want)
	}
	for table, n := range got {
		if n == 0 {
			t.Errorf("%s: no rows; the sample should cover every table", table)
		}
	}
	if segs < 2000 {
		t.Errorf("%d customers of 2500 have a segment", segs)
	}
	checkInvariants(t, owner, org)
	jobsChangeNothing(t, app, owner, org)
}

func TestCustomers_SecondRunAddsAfterTheExistingOnes(t *testing.T) {
	app, owner := pools(t)
	org := uuid.New()
	for range 2 {
		if _, err := Customers(context.Background(), app, Options{Org: org, Customers: 150, Seed: 1, BatchSize: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if got := countRows(t, owner, org)["customers"]; got != 300 {
		t.Fatalf("customers = %d, want 300", got)
	}
	checkInvariants(t, owner, org)
}

func TestCustomers_SameSeedSameCustomersOtherOrgOtherIDs(t *testing.T) {
	now := time.Now()
	a := newGenerator(DemoOrg, 3, now, DemoUser, "S3").customer(42)
	b := newGenerator(DemoOrg, 3, now, DemoUser, "S3").customer(42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same organization, seed and number must give the same customer")
	}
	c := newGenerator(uuid.New(), 3, now, DemoUser, "S3").customer(42)
	if c.customer.ID == a.customer.ID {
		t.Fatal("two organizations must not share customer ids")
	}
}

// The demo goes through the services; the bulk load replays the same plans in memory. Both
// must leave the same figures: the demo is loaded here, and every customer's rows are
// compared with the replay of its plan. It is loaded over what a load killed half-way left
// (some of its customers with their rows, and no marker): those go, and the result is the
// demo exactly, marked loaded once; a second load is a no-op.
func TestDemo_LoadsThroughTheServicesOverAnUnfinishedLoadThenIsANoOp(t *testing.T) {
	app, owner := pools(t)
	ctx := context.Background()
	now := time.Now()
	g := demoGenerator(now)
	prog := defaultProgram(t, app, DemoOrg)
	plans := demoPlans(g)

	var leftovers []*outcome
	for _, p := range plans[:10] {
		leftovers = append(leftovers, g.replay(p, prog))
	}
	if err := db.InOrg(ctx, app, DemoOrg, false, func(ctx context.Context, tx bun.Tx) error {
		_, err := insert(ctx, tx, leftovers)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if left := countRows(t, owner, DemoOrg); left["customers"] != 10 || left["purchases"] == 0 {
		t.Fatalf("the unfinished load's leftovers: %v", left)
	}

	start := time.Now()
	loaded, err := loadDemo(ctx, app.DB, now)
	if err != nil || !loaded {
		t.Fatalf("first Demo: loaded=%v err=%v", loaded, err)
	}
	t.Logf("demo loaded in %v", time.Since(start).Round(time.Millisecond))
	markers := func() int {
		var n int
		if err := owner.NewRaw("SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'seed.demo' AND entity_id = ?",
			DemoOrg, DemoOrg).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := markers(); n != 1 {
		t.Fatalf("%d seed.demo markers after the load, want 1", n)
	}

	want := make(map[uuid.UUID]string, len(plans))
	outcomes := make([]*outcome, len(plans))
	for i, p := range plans {
		outcomes[i] = g.replay(p, prog)
		want[p.customer.ID] = summary(outcomes[i])
	}
	first := countRows(t, owner, DemoOrg)
	exp := expected(outcomes)
	exp["customer_segments"] = first["customer_segments"]
	if !reflect.DeepEqual(first, exp) {
		t.Fatalf("rows per table:\n got %v\nwant %v", first, exp)
	}
	for table, n := range first {
		if n == 0 {
			t.Errorf("%s: no rows; the demo should cover every table", table)
		}
	}
	got := loadedSummaries(t, owner, DemoOrg)
	mismatches := 0
	for id, w := range want {
		if got[id] != w {
			if mismatches++; mismatches <= 3 {
				t.Errorf("customer %s: the services left\n%s\nthe replay gives\n%s", id, got[id], w)
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d customers differ between the services and the replay", mismatches, len(want))
	}
	checkInvariants(t, owner, DemoOrg)
	coverage(t, owner)

	loaded, err = Demo(ctx, app.DB)
	if err != nil || loaded {
		t.Fatalf("second Demo: loaded=%v err=%v; want a no-op", loaded, err)
	}
	if again := countRows(t, owner, DemoOrg); !reflect.DeepEqual(again, first) {
		t.Fatalf("second Demo changed the data: %v, then %v", first, again)
	}
	if n := markers(); n != 1 {
		t.Fatalf("%d seed.demo markers after the second Demo, want 1", n)
	}
	jobsChangeNothing(t, app, owner, DemoOrg)
}

// coverage checks that the demo shows what the API can show.
func coverage(t *testing.T, owner *db.Pool) {
	t.Helper()
	checks := map[string]string{
		"blocked customers":          "SELECT count(*) FROM customers WHERE organization_id = ?0 AND status = 'blocked'",
		"inactive customers":         "SELECT count(*) FROM customers WHERE organization_id = ?0 AND status = 'inactive'",
		"silver or better":           "SELECT count(*) FROM loyalty_accounts WHERE organization_id = ?0 AND tier <> 'bronze'",
		"gold or better":             "SELECT count(*) FROM loyalty_accounts WHERE organization_id = ?0 AND tier IN ('gold', 'platinum')",
		"redemptions":                "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0 AND transaction_type = 'redeem'",
		"bonuses":                    "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0 AND transaction_type = 'bonus'",
		"refund reversals":           "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0 AND reference_type = 'refund'",
		"a pending credit account":   "SELECT count(*) FROM credit_accounts WHERE organization_id = ?0 AND status = 'pending'",
		"a suspended credit account": "SELECT count(*) FROM credit_accounts WHERE organization_id = ?0 AND status = 'suspended'",
		"overdue charges":            "SELECT count(*) FROM credit_usage WHERE organization_id = ?0 AND status = 'overdue'",
		"paid charges":               "SELECT count(*) FROM credit_usage WHERE organization_id = ?0 AND status = 'paid'",
		"partly paid charges":        "SELECT count(*) FROM credit_usage WHERE organization_id = ?0 AND amount_paid > 0 AND amount_paid < amount",
		"VIPs":                       "SELECT count(*) FROM customer_segments WHERE organization_id = ?0 AND is_vip",
	}
	for name, q := range checks {
		var n int
		if err := owner.NewRaw(q, DemoOrg).Scan(context.Background(), &n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n == 0 {
			t.Errorf("the demo has no %s", name)
		}
	}
	var bySegment map[string]int
	var rows []struct {
		Code string `bun:"segment_code"`
		N    int    `bun:"n"`
	}
	if err := owner.NewRaw("SELECT segment_code, count(*) AS n FROM customer_segments WHERE organization_id = ? GROUP BY 1", DemoOrg).
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	bySegment = map[string]int{}
	for _, r := range rows {
		bySegment[r.Code] = r.N
	}
	for _, code := range segments.Codes {
		if bySegment[string(code)] == 0 {
			t.Errorf("no customer in segment %s: %v", code, bySegment)
		}
	}
	t.Logf("segments: %v", bySegment)
}

// summary is what an outcome says about a customer, in a canonical text: every figure
// a domain rule derives, and the rows that explain them.
func summary(o *outcome) string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	c := o.customer
	last := "-"
	if c.LastPurchaseAt != nil {
		last = ts(*c.LastPurchaseAt)
	}
	fmt.Fprintf(&b, "customer %s last=%s\n", c.Status, last)
	if a := o.account; a != nil {
		exp := "-"
		if a.TierExpiresAt != nil {
			exp = day(*a.TierExpiresAt)
		}
		fmt.Fprintf(&b, "account balance=%d lifetime=%d redeemed=%d tier=%s since=%s until=%s purchases=%d spent=%s\n",
			a.PointsBalance, a.LifetimePoints, a.PointsRedeemed, a.Tier, day(a.TierSince), exp, a.TotalPurchases, a.TotalSpent.StringFixed(2))
	}
	txs := slices.Clone(o.transactions)
	slices.SortStableFunc(txs, func(x, y models.LoyaltyTransaction) int { return x.CreatedAt.Compare(y.CreatedAt) })
	for _, t := range txs {
		rem := "-"
		if t.PointsRemaining != nil {
			rem = fmt.Sprint(*t.PointsRemaining)
		}
		fmt.Fprintf(&b, "  %s %d after=%d remaining=%s ref=%s/%s\n", t.Type, t.Points, t.BalanceAfter, rem, deref(t.ReferenceType), deref(t.ReferenceID))
	}
	ps := slices.Clone(o.purchases)
	slices.SortFunc(ps, func(x, y models.Purchase) int { return strings.Compare(x.OrderID, y.OrderID) })
	for _, p := range ps {
		fmt.Fprintf(&b, "purchase %s %s refunded=%s earned=%d reversed=%d at=%s %s\n", p.OrderID, p.Amount.StringFixed(2),
			p.RefundedAmount.StringFixed(2), p.PointsEarned, p.PointsReversed, ts(p.OccurredAt), deref(p.Channel))
	}
	rs := slices.Clone(o.refunds)
	slices.SortFunc(rs, func(x, y models.PurchaseRefund) int { return strings.Compare(x.RefundID, y.RefundID) })
	for _, r := range rs {
		fmt.Fprintf(&b, "refund %s %s reversed=%d\n", r.RefundID, r.Amount.StringFixed(2), r.PointsReversed)
	}
	if a := o.credit; a != nil {
		fmt.Fprintf(&b, "credit %s limit=%s used=%s term=%d\n", a.Status, a.CreditLimit.StringFixed(2), a.CreditUsed.StringFixed(2), a.PaymentTermDays)
	}
	us := slices.Clone(o.usages)
	slices.SortFunc(us, func(x, y models.CreditUsage) int { return strings.Compare(x.OrderID, y.OrderID) })
	for _, u := range us {
		fmt.Fprintf(&b, "usage %s %s paid=%s %s due=%s at=%s\n", u.OrderID, u.Amount.StringFixed(2), u.AmountPaid.StringFixed(2),
			u.Status, day(u.DueDate), ts(u.CreatedAt))
	}
	for _, p := range o.payments {
		fmt.Fprintf(&b, "payment %s %s on %s\n", p.PaymentReference, p.Amount.StringFixed(2), day(p.PaymentDate))
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// loadedSummaries reads back what the organization's customers have, as summaries.
func loadedSummaries(t *testing.T, owner *db.Pool, org uuid.UUID) map[uuid.UUID]string {
	t.Helper()
	ctx := context.Background()
	var (
		cs []models.Customer
		ps []models.Purchase
		rs []struct {
			models.PurchaseRefund `bun:",extend"`
			CustomerID            uuid.UUID `bun:"customer_id,type:uuid"`
		}
		as  []models.LoyaltyAccount
		ts  []models.LoyaltyTransaction
		cas []models.CreditAccount
		us  []models.CreditUsage
		pys []models.CreditPayment
	)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(owner.NewSelect().Model(&cs).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&ps).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&rs).ColumnExpr("pr.*, p.customer_id").
		Join("JOIN purchases p USING (purchase_id)").Where("pr.organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&as).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&ts).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&cas).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&us).Where("organization_id = ?", org).Scan(ctx))
	must(owner.NewSelect().Model(&pys).Where("organization_id = ?", org).Scan(ctx))

	byID := map[uuid.UUID]*outcome{}
	for _, c := range cs {
		byID[c.ID] = &outcome{customer: c}
	}
	accountOf, creditOf := map[uuid.UUID]*outcome{}, map[uuid.UUID]*outcome{}
	for _, p := range ps {
		byID[p.CustomerID].purchases = append(byID[p.CustomerID].purchases, p)
	}
	for _, r := range rs {
		byID[r.CustomerID].refunds = append(byID[r.CustomerID].refunds, r.PurchaseRefund)
	}
	for _, a := range as {
		byID[a.CustomerID].account = &a
		accountOf[a.ID] = byID[a.CustomerID]
	}
	for _, tx := range ts {
		o := accountOf[tx.LoyaltyAccountID]
		o.transactions = append(o.transactions, tx)
	}
	for _, a := range cas {
		byID[a.CustomerID].credit = &a
		creditOf[a.ID] = byID[a.CustomerID]
	}
	for _, u := range us {
		creditOf[u.CreditAccountID].usages = append(creditOf[u.CreditAccountID].usages, u)
	}
	for _, p := range pys {
		creditOf[p.CreditAccountID].payments = append(creditOf[p.CreditAccountID].payments, p)
	}
	out := make(map[uuid.UUID]string, len(byID))
	for id, o := range byID {
		out[id] = summary(o)
	}
	return out
}
