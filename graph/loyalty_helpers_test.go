package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// The loyalty tests' vocabulary: one GraphQL document per mutation (aliased `r`, so every
// payload decodes into loyPayload), fixtures written as the owner, and the SQL checks of
// the books (balance = Σ transactions = Σ open lots; balance_after chains).

const (
	loyAccountFields = `id pointsBalance lifetimePoints pointsRedeemed tier tierSince tierExpiresAt
		totalPurchases totalSpent nextTier pointsToNextTier`
	loyTxFields       = `id type points balanceAfter referenceType referenceId description expiresAt vestsAt createdAt`
	loyPurchaseFields = `id customerId orderId amount refundedAmount pointsEarned channel occurredAt createdAt`
	loyErrorFields    = `userErrors { field message code }`
)

var loyMutations = map[string]string{
	"recordPurchase": `mutation($input: RecordPurchaseInput!) { r: recordPurchase(input: $input) {
		purchase {` + loyPurchaseFields + `} loyaltyAccount {` + loyAccountFields + `} transaction {` + loyTxFields + `} ` + loyErrorFields + ` } }`,
	"recordRefund": `mutation($input: RecordRefundInput!) { r: recordRefund(input: $input) {
		purchase {` + loyPurchaseFields + `} loyaltyAccount {` + loyAccountFields + `} transaction {` + loyTxFields + `} ` + loyErrorFields + ` } }`,
	"redeemPoints": `mutation($input: RedeemPointsInput!) { r: redeemPoints(input: $input) {
		loyaltyAccount {` + loyAccountFields + `} transaction {` + loyTxFields + `} ` + loyErrorFields + ` } }`,
	"awardBonusPoints": `mutation($input: AwardBonusPointsInput!) { r: awardBonusPoints(input: $input) {
		loyaltyAccount {` + loyAccountFields + `} transaction {` + loyTxFields + `} ` + loyErrorFields + ` } }`,
	"adjustPoints": `mutation($input: AdjustPointsInput!) { r: adjustPoints(input: $input) {
		loyaltyAccount {` + loyAccountFields + `} transaction {` + loyTxFields + `} ` + loyErrorFields + ` } }`,
	"updateLoyaltyProgram": `mutation($input: UpdateLoyaltyProgramInput!) { r: updateLoyaltyProgram(input: $input) {
		loyaltyProgram {` + loyProgramFields + `} ` + loyErrorFields + ` } }`,
}

const loyEnrollMutation = `mutation($id: UUID!) { r: enrollLoyalty(customerId: $id) {
	loyaltyAccount {` + loyAccountFields + `} ` + loyErrorFields + ` } }`

const loyProgramFields = `pointsPerCurrencyUnit multiplierBronze multiplierSilver multiplierGold multiplierPlatinum
	thresholdSilver thresholdGold thresholdPlatinum qualificationMonths tierDurationMonths pointsLifetimeMonths
	autoEnroll segmentLookbackDays updatedAt`

type loyUserError struct {
	Field   []string
	Message string
	Code    string
}

type loyAccount struct {
	ID               string
	PointsBalance    int
	LifetimePoints   int
	PointsRedeemed   int
	Tier             string
	TierSince        string
	TierExpiresAt    *string
	TotalPurchases   int
	TotalSpent       string
	NextTier         *string
	PointsToNextTier *int
}

type loyTx struct {
	ID            string
	Type          string
	Points        int
	BalanceAfter  int
	ReferenceType *string
	ReferenceID   *string
	Description   *string
	ExpiresAt     *string
	VestsAt       *string
	CreatedAt     string
}

type loyPurchase struct {
	ID             string
	CustomerID     string
	OrderID        string
	Amount         string
	RefundedAmount string
	PointsEarned   int
	Channel        *string
	OccurredAt     string
	CreatedAt      string
}

type loyProgram struct {
	PointsPerCurrencyUnit string
	MultiplierBronze      string
	MultiplierSilver      string
	MultiplierGold        string
	MultiplierPlatinum    string
	ThresholdSilver       int
	ThresholdGold         int
	ThresholdPlatinum     int
	QualificationMonths   int
	TierDurationMonths    int
	PointsLifetimeMonths  int
	AutoEnroll            bool
	SegmentLookbackDays   int
	UpdatedAt             string
}

type loyPayload struct {
	Purchase       *loyPurchase
	LoyaltyAccount *loyAccount
	Transaction    *loyTx
	LoyaltyProgram *loyProgram
	UserErrors     []loyUserError
}

// loyCall runs a loyalty mutation and returns its payload (user errors included).
func loyCall(t testing.TB, c *apitest.Client, mutation string, input map[string]any) loyPayload {
	t.Helper()
	doc, ok := loyMutations[mutation]
	if !ok {
		t.Fatalf("no mutation %s", mutation)
	}
	var out struct{ R loyPayload }
	c.Must(t, doc, map[string]any{"input": input}, &out)
	return out.R
}

// loyOK runs a mutation that must succeed without user errors.
func loyOK(t testing.TB, c *apitest.Client, mutation string, input map[string]any) loyPayload {
	t.Helper()
	p := loyCall(t, c, mutation, input)
	if len(p.UserErrors) > 0 {
		t.Fatalf("%s %v: user errors %+v", mutation, input, p.UserErrors)
	}
	return p
}

// loyWantError runs a mutation that must fail with one user error of the code on the field.
func loyWantError(t testing.TB, c *apitest.Client, mutation string, input map[string]any, code string, field ...string) loyPayload {
	t.Helper()
	p := loyCall(t, c, mutation, input)
	if len(p.UserErrors) != 1 || p.UserErrors[0].Code != code || fmt.Sprint(p.UserErrors[0].Field) != fmt.Sprint(field) {
		t.Fatalf("%s %v: want %s on %v, got %+v", mutation, input, code, field, p.UserErrors)
	}
	if p.Purchase != nil || p.Transaction != nil || p.LoyaltyProgram != nil {
		t.Fatalf("%s: a failed mutation returned data: %+v", mutation, p)
	}
	return p
}

func loyEnroll(t testing.TB, c *apitest.Client, customerID uuid.UUID) loyPayload {
	t.Helper()
	var out struct{ R loyPayload }
	c.Must(t, loyEnrollMutation, map[string]any{"id": customerID}, &out)
	return out.R
}

// loyCustomer inserts a customer of org as the owner; status active unless given.
func loyCustomer(t testing.TB, srv *apitest.Server, org uuid.UUID, status ...string) uuid.UUID {
	t.Helper()
	st := "active"
	if len(status) > 0 {
		st = status[0]
	}
	id := uuid.New()
	registerOrg(t, srv, org)
	loyExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, status)
		VALUES (?, ?, 'Ana', 'Lealtad', ?)`, id, org, st)
	return id
}

func loyExec(t testing.TB, srv *apitest.Server, query string, args ...any) {
	t.Helper()
	if _, err := srv.Owner.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// loyInt reads one integer as the owner.
func loyInt(t testing.TB, srv *apitest.Server, query string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.Owner.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// loyAudit counts the organization's audit rows of an action.
func loyAudit(t testing.TB, srv *apitest.Server, org uuid.UUID, action string) int {
	t.Helper()
	return loyInt(t, srv, "SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = ?", org, action)
}

// loyAuditChanges are the changed fields of the organization's audit rows of an action,
// oldest first.
func loyAuditChanges(t testing.TB, srv *apitest.Server, org uuid.UUID, action string) [][]string {
	t.Helper()
	var rows []struct {
		Changed []string `bun:"changed_fields,array"`
	}
	if err := srv.Owner.NewRaw(`SELECT changed_fields FROM audit_log WHERE organization_id = ? AND action = ?
		ORDER BY created_at, audit_id`, org, action).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string{}, r.Changed...)
	}
	return out
}

// loyTeam is one organization seen by each role.
type loyTeam struct {
	Viewer, Agent, Manager, Admin *apitest.Client
	Org                           uuid.UUID
}

func newLoyTeam(t testing.TB, srv *apitest.Server) loyTeam {
	t.Helper()
	agent := srv.NewOrg(t, auth.Agent)
	return loyTeam{
		Org:     agent.Org,
		Agent:   agent,
		Viewer:  srv.As(t, agent.Org, auth.Viewer),
		Manager: srv.As(t, agent.Org, auth.Manager),
		Admin:   srv.As(t, agent.Org, auth.Admin),
	}
}

// loyBonus gives an enrolled customer points (a lot) through the API.
func loyBonus(t testing.TB, c *apitest.Client, customerID uuid.UUID, points int) loyPayload {
	t.Helper()
	return loyOK(t, c, "awardBonusPoints", map[string]any{
		"customerId": customerID, "points": points, "reason": "fixture", "referenceId": uuid.NewString(),
	})
}

// loyBuy records a purchase through the API.
func loyBuy(t testing.TB, c *apitest.Client, customerID uuid.UUID, amount string) loyPayload {
	t.Helper()
	return loyOK(t, c, "recordPurchase", map[string]any{"customerId": customerID, "orderId": uuid.NewString(), "amount": amount})
}

// loyAccountOf reads a customer's loyalty account through the API.
func loyAccountOf(t testing.TB, c *apitest.Client, customerID uuid.UUID) *loyAccount {
	t.Helper()
	var out struct {
		Customer struct{ LoyaltyAccount *loyAccount }
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount {`+loyAccountFields+`} } }`,
		map[string]any{"id": customerID}, &out)
	return out.Customer.LoyaltyAccount
}

// loyCheckBooks asserts the loyalty invariants of every account of the organization, in
// SQL: points_balance = Σ transactions.points = Σ points_remaining of the open lots, none of
// which is past its date; each transaction's balance_after is the previous one's plus its
// points (newest-first order is the order the balance changed), and the latest one's is the
// balance. Pending points (§13) are a bucket of their own: the transactions with a vests_at
// (pending earns, and refunds' cancellations of them) move no balance; what they sum to is
// what the pending lots hold plus what VEST transactions moved into the balance. It returns
// how many accounts it checked.
func loyCheckBooks(t testing.TB, srv *apitest.Server, org uuid.UUID) int {
	t.Helper()
	var rows []struct {
		ID          uuid.UUID `bun:"id"`
		Balance     int       `bun:"balance"`
		SumTx       int       `bun:"sum_tx"`
		OpenLots    int       `bun:"open_lots"`
		Unexpired   int       `bun:"unexpired"`
		LastBalance *int      `bun:"last_balance"`
		BrokenChain int       `bun:"broken_chain"`
		Redeemed    int       `bun:"redeemed"`
		SumRedeemed int       `bun:"sum_redeemed"`
		SumPending  int       `bun:"sum_pending"`
		PendingLots int       `bun:"pending_lots"`
		SumVested   int       `bun:"sum_vested"`
	}
	// Each subquery names the organization: on Citus a subquery correlated on the account
	// alone is a join it cannot plan.
	err := srv.Owner.NewRaw(`SELECT a.loyalty_account_id AS id, a.points_balance AS balance, a.points_redeemed AS redeemed,
			(SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				AND vests_at IS NULL) AS sum_tx,
			(SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				AND vests_at IS NOT NULL) AS sum_pending,
			(SELECT COALESCE(sum(points_remaining), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				AND pending) AS pending_lots,
			(SELECT COALESCE(sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				AND transaction_type = 'vest') AS sum_vested,
			(SELECT COALESCE(-sum(points), 0) FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				AND t.transaction_type = 'redeem') AS sum_redeemed,
			(SELECT COALESCE(sum(points_remaining), 0) FROM loyalty_transactions t
				WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id AND points_remaining > 0 AND NOT pending) AS open_lots,
			(SELECT COALESCE(sum(points_remaining), 0) FROM loyalty_transactions t
				WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id AND points_remaining > 0 AND NOT pending
					AND expires_at > now()) AS unexpired,
			(SELECT balance_after FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id
				ORDER BY created_at DESC, transaction_id DESC LIMIT 1) AS last_balance,
			(SELECT count(*) FROM (SELECT balance_after, CASE WHEN vests_at IS NULL THEN points ELSE 0 END AS points,
					lag(balance_after, 1, 0) OVER (ORDER BY created_at, transaction_id) AS prev
				FROM loyalty_transactions t WHERE t.organization_id = ?0 AND t.loyalty_account_id = a.loyalty_account_id) c
				WHERE balance_after <> prev + points) AS broken_chain
		FROM loyalty_accounts a WHERE a.organization_id = ?0`, org).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	loyCheckQualifyingDays(t, srv, org)
	loyCheckPointsReversed(t, srv, org)
	for _, r := range rows {
		last := 0
		if r.LastBalance != nil {
			last = *r.LastBalance
		}
		if r.Balance < 0 || r.Balance != r.SumTx || r.Balance != r.OpenLots || r.Balance != r.Unexpired ||
			last != r.Balance || r.BrokenChain != 0 || r.Redeemed != r.SumRedeemed || r.SumPending != r.PendingLots+r.SumVested {
			t.Errorf("account %s: balance %d, Σ transactions %d, open lots %d (unexpired %d), latest balance_after %d, broken chain links %d, redeemed %d vs Σ redeem %d, Σ pending transactions %d vs pending lots %d + vested %d",
				r.ID, r.Balance, r.SumTx, r.OpenLots, r.Unexpired, last, r.BrokenChain, r.Redeemed, r.SumRedeemed, r.SumPending, r.PendingLots, r.SumVested)
		}
	}
	return len(rows)
}

// loyCheckPointsReversed checks that each purchase's points_reversed is what the reversal
// rows of its refunds took (the tier check reads the former for the latter).
func loyCheckPointsReversed(t testing.TB, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	var wrong []string
	err := srv.Owner.NewRaw(`SELECT p.order_id || ': ' || p.points_reversed || ' vs ' || r.reversed FROM purchases p,
			LATERAL (SELECT COALESCE(-sum(r.points), 0) AS reversed FROM loyalty_transactions r
				WHERE r.organization_id = ?0 AND r.transaction_type = 'adjust' AND r.reference_type = 'refund'
					AND r.metadata->>'order_id' = p.order_id) r
		WHERE p.organization_id = ?0 AND p.points_reversed <> r.reversed`, org).Scan(context.Background(), &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("purchases whose points_reversed is not what their reversals took: %v", wrong)
	}
}

// loyToday is the database's UTC date plus months (PostgreSQL's month arithmetic), as the
// API writes dates.
func loyToday(t testing.TB, srv *apitest.Server, months int) string {
	t.Helper()
	var s string
	if err := srv.Owner.NewRaw("SELECT (((now() AT TIME ZONE 'UTC')::date) + make_interval(months => ?))::date::text", months).
		Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func loyJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// loyRebuildQualifyingDays sets the organization's kept qualifying totals to what its ledger
// sums to, for the tests that move ledger rows into the past with SQL (the totals stand for
// what the writes would have kept had they happened then).
func loyRebuildQualifyingDays(t testing.TB, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	var rows []struct {
		Account uuid.UUID `bun:"loyalty_account_id"`
		Day     string    `bun:"day"`
		Points  int       `bun:"points"`
	}
	if err := srv.Owner.NewRaw(loyLedgerDaysSQL, org).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	loyExec(t, srv, "DELETE FROM loyalty_qualifying_days WHERE organization_id = ?", org)
	for _, r := range rows { // values computed here: Citus refuses an INSERT … SELECT into a table with RLS
		loyExec(t, srv, "INSERT INTO loyalty_qualifying_days (organization_id, loyalty_account_id, day, points) VALUES (?, ?, ?::date, ?)",
			org, r.Account, r.Day, r.Points)
	}
}

// loyLedgerDaysSQL sums the organization's (?0) qualifying points per account and UTC day from
// the ledger, independently of package loyalty: each earn and bonus that is not pending on the
// day of COALESCE(vests_at, occurred_at, created_at), each refund reversal on its earn's day.
const loyLedgerDaysSQL = `SELECT loyalty_account_id, day::text AS day, sum(points)::int AS points FROM (
		SELECT e.loyalty_account_id, (COALESCE(e.vests_at, e.occurred_at, e.created_at) AT TIME ZONE 'UTC')::date AS day, e.points
		FROM loyalty_transactions e
		WHERE e.organization_id = ?0 AND e.transaction_type IN ('earn', 'bonus') AND NOT e.pending
		UNION ALL
		SELECT t.loyalty_account_id, (COALESCE(e.vests_at, e.occurred_at, e.created_at) AT TIME ZONE 'UTC')::date, t.points
		FROM loyalty_transactions t
		JOIN loyalty_transactions e ON e.organization_id = t.organization_id AND e.loyalty_account_id = t.loyalty_account_id
			AND e.transaction_type = 'earn' AND e.reference_type = 'order' AND e.reference_id = t.metadata->>'order_id'
		WHERE t.organization_id = ?0 AND t.transaction_type = 'adjust' AND t.reference_type = 'refund' AND NOT e.pending
	) l GROUP BY 1, 2`

// loyCheckQualifyingDays checks that the organization's kept qualifying totals per account and
// day (loyalty_qualifying_days, issue 17) are the ledger's, summed here independently: each
// earn and bonus that is not pending on the UTC day of COALESCE(vests_at, occurred_at,
// created_at), each refund reversal on its earn's day; days that sum to zero may be stored
// or not.
func loyCheckQualifyingDays(t testing.TB, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	var diffs []string
	err := srv.Owner.NewRaw(`WITH want AS (`+loyLedgerDaysSQL+`), kept AS (
			SELECT loyalty_account_id, day::text AS day, points FROM loyalty_qualifying_days WHERE organization_id = ?0
		)
		SELECT format('account %s day %s: kept %s, ledger %s', COALESCE(k.loyalty_account_id, w.loyalty_account_id),
			COALESCE(k.day, w.day), COALESCE(k.points, 0), COALESCE(w.points, 0))
		FROM kept k FULL JOIN want w ON w.loyalty_account_id = k.loyalty_account_id AND w.day = k.day
		WHERE COALESCE(k.points, 0) <> COALESCE(w.points, 0)`, org).Scan(context.Background(), &diffs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("qualifying days: %s", d)
	}
}
