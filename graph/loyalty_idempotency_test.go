package graph_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// §13: every financial mutation of loyalty — recordPurchase, recordRefund, redeemPoints,
// awardBonusPoints and adjustPoints — answers a replay with its original result and changes
// nothing, answers the same key with other content with IDEMPOTENCY_CONFLICT on the key's
// field, and stores one movement when the same request arrives many times at once.
func TestLoyaltyIdempotency_EveryFinancialMutation(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	type tc struct {
		mutation, action, key string
		client                *apitest.Client
		input                 func(customer uuid.UUID, key string) map[string]any
		changed               map[string]any // a field of the input given another value
		setup                 func(customer uuid.UUID, key string)
	}
	cases := []tc{
		{mutation: "recordPurchase", action: "loyalty.purchase", key: "orderId", client: team.Agent,
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"customerId": c, "orderId": k, "amount": "120.00"}
			}, changed: map[string]any{"amount": "120.01"}},
		{mutation: "recordRefund", action: "loyalty.refund", key: "refundId", client: team.Agent,
			setup: func(c uuid.UUID, k string) {
				loyOK(t, team.Agent, "recordPurchase", map[string]any{"customerId": c, "orderId": "O-" + k, "amount": "120.00"})
			},
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"orderId": "O-" + k, "refundId": k, "amount": "20.00"}
			}, changed: map[string]any{"amount": "20.50"}},
		{mutation: "redeemPoints", action: "loyalty.redeem", key: "referenceId", client: team.Agent,
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"customerId": c, "points": 30, "referenceType": "order", "referenceId": k}
			}, changed: map[string]any{"points": 31}},
		{mutation: "awardBonusPoints", action: "loyalty.bonus", key: "referenceId", client: team.Agent,
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"customerId": c, "points": 30, "reason": "birthday", "referenceId": k}
			}, changed: map[string]any{"reason": "campaign"}},
		{mutation: "adjustPoints", action: "loyalty.adjust", key: "idempotencyKey", client: team.Manager,
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"customerId": c, "points": -30, "reason": "correction", "idempotencyKey": k}
			}, changed: map[string]any{"points": -31}},
		{mutation: "adjustPoints", action: "loyalty.adjust", key: "idempotencyKey", client: team.Manager,
			input: func(c uuid.UUID, k string) map[string]any {
				return map[string]any{"customerId": c, "points": 30, "reason": "goodwill", "idempotencyKey": k}
			}, changed: map[string]any{"reason": "goodwill again"}},
	}
	for _, c := range cases {
		t.Run(c.mutation+"/"+c.key, func(t *testing.T) {
			customer := loyCustomer(t, srv, team.Org)
			loyBuy(t, team.Agent, customer, "100.00") // enrolled with 100 points
			key := uuid.NewString()
			if c.setup != nil {
				c.setup(customer, key)
			}
			audits := loyAudit(t, srv, team.Org, c.action)
			in := c.input(customer, key)
			first := loyOK(t, c.client, c.mutation, in)
			again := loyOK(t, c.client, c.mutation, in)
			if first.Transaction == nil || again.Transaction == nil || again.Transaction.ID != first.Transaction.ID ||
				again.LoyaltyAccount.PointsBalance != first.LoyaltyAccount.PointsBalance ||
				again.LoyaltyAccount.LifetimePoints != first.LoyaltyAccount.LifetimePoints {
				t.Fatalf("replay answered %+v %+v, the original %+v %+v", again.Transaction, again.LoyaltyAccount, first.Transaction, first.LoyaltyAccount)
			}
			if n := loyAudit(t, srv, team.Org, c.action); n != audits+1 {
				t.Fatalf("%d audit rows after the replay, want %d", n, audits+1)
			}
			changed := map[string]any{}
			for k, v := range in {
				changed[k] = v
			}
			for k, v := range c.changed {
				changed[k] = v
			}
			loyWantError(t, c.client, c.mutation, changed, "IDEMPOTENCY_CONFLICT", "input", c.key)

			// The same new request many times at once: one movement, every answer the same.
			burst := c.input(customer, key+"-burst")
			if c.setup != nil {
				c.setup(customer, key+"-burst")
			}
			var wg sync.WaitGroup
			ids := make([]string, 6)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := loyCall(t, c.client, c.mutation, burst)
					if len(p.UserErrors) == 0 && p.Transaction != nil {
						ids[i] = p.Transaction.ID
					}
				}()
			}
			wg.Wait()
			for _, id := range ids {
				if id == "" || id != ids[0] {
					t.Fatalf("concurrent replays answered %v", ids)
				}
			}
			if n := loyInt(t, srv, "SELECT count(*) FROM loyalty_transactions WHERE organization_id = ? AND transaction_id = ?", team.Org, ids[0]); n != 1 {
				t.Fatalf("%d transactions", n)
			}
			if n := loyAudit(t, srv, team.Org, c.action); n != audits+2 {
				t.Fatalf("%d audit rows after the burst, want %d", n, audits+2)
			}
			loyCheckBooks(t, srv, team.Org)
		})
	}
}

// TestAdjustPoints_IdempotencyKey: the key is required, 1–255 characters, unique in the
// organization across customers; another customer with a used key is a conflict; another
// organization may use the same key.
func TestAdjustPoints_IdempotencyKey(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team, other := newLoyTeam(t, srv), newLoyTeam(t, srv)
	ana, ben := loyCustomer(t, srv, team.Org), loyCustomer(t, srv, team.Org)
	theirs := loyCustomer(t, srv, other.Org)
	for _, c := range []uuid.UUID{ana, ben} {
		loyBuy(t, team.Agent, c, "100.00")
	}
	loyBuy(t, other.Agent, theirs, "100.00")
	adjust := func(customer uuid.UUID, key string) map[string]any {
		return map[string]any{"customerId": customer, "points": 5, "reason": "goodwill", "idempotencyKey": key}
	}
	for _, bad := range []string{"", "   ", strings.Repeat("k", 256)} {
		loyWantError(t, team.Manager, "adjustPoints", adjust(ana, bad), "INVALID", "input", "idempotencyKey")
	}
	if p := loyOK(t, team.Manager, "adjustPoints", adjust(ana, strings.Repeat("k", 255))); *p.Transaction.ReferenceID != strings.Repeat("k", 255) ||
		*p.Transaction.ReferenceType != "manual" || p.LoyaltyAccount.PointsBalance != 105 {
		t.Fatalf("255-character key: %+v %+v", p.Transaction, p.LoyaltyAccount)
	}
	// The key is used as given: " K" and "K" are two keys.
	loyOK(t, team.Manager, "adjustPoints", adjust(ana, "K"))
	if p := loyOK(t, team.Manager, "adjustPoints", adjust(ana, " K")); p.LoyaltyAccount.PointsBalance != 115 {
		t.Fatalf("balance %d", p.LoyaltyAccount.PointsBalance)
	}
	loyWantError(t, team.Manager, "adjustPoints", adjust(ben, "K"), "IDEMPOTENCY_CONFLICT", "input", "idempotencyKey")
	if p := loyOK(t, other.Manager, "adjustPoints", adjust(theirs, "K")); p.LoyaltyAccount.PointsBalance != 105 {
		t.Fatalf("another organization's key: %+v", p.LoyaltyAccount)
	}
	// A request that failed stored nothing: its key is free for the corrected request.
	loyWantError(t, team.Manager, "adjustPoints", map[string]any{"customerId": ben, "points": -101, "reason": "x", "idempotencyKey": "F"},
		"INSUFFICIENT_POINTS", "input", "points")
	if p := loyOK(t, team.Manager, "adjustPoints", map[string]any{"customerId": ben, "points": -100, "reason": "x", "idempotencyKey": "F"}); p.LoyaltyAccount.PointsBalance != 0 {
		t.Fatalf("balance %d", p.LoyaltyAccount.PointsBalance)
	}
	loyCheckBooks(t, srv, team.Org)
	loyCheckBooks(t, srv, other.Org)
}
