package graph_test

import (
	"testing"

	"customerservice/internal/testkit/apitest"
)

// §8: the root fields of a mutation run one after another, and each one's payload reads the
// state after its own write — not what an earlier root field of the same operation read.

func TestMutation_EachLoyaltyRootFieldReadsWhatTheOnesBeforeItWrote(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)
	loyBonus(t, team.Agent, customer, 100) // balance 100, qualifying 100: 900 to silver

	const account = `loyaltyAccount { pointsBalance pointsToNextTier transactions(first: 1) { nodes { points balanceAfter } } }
		userErrors { code }`
	type payload struct {
		LoyaltyAccount struct {
			PointsBalance    int
			PointsToNextTier int
			Transactions     struct {
				Nodes []struct{ Points, BalanceAfter int }
			}
		}
		UserErrors []loyUserError
	}
	var out struct{ A, B payload }
	team.Agent.Must(t, `mutation($c: UUID!) {
		a: redeemPoints(input: {customerId: $c, points: 10, referenceType: "order", referenceId: "r-1"}) { `+account+` }
		b: awardBonusPoints(input: {customerId: $c, points: 300, reason: "campaign", referenceId: "b-1"}) { `+account+` }
	}`, map[string]any{"c": customer}, &out)

	for name, c := range map[string]struct {
		got                            payload
		balance, toNext, points, after int
	}{
		"a": {out.A, 90, 900, -10, 90},
		"b": {out.B, 390, 600, 300, 390}, // the bonus counts toward silver; the redemption does not
	} {
		a := c.got.LoyaltyAccount
		if len(c.got.UserErrors) != 0 || a.PointsBalance != c.balance || a.PointsToNextTier != c.toNext ||
			len(a.Transactions.Nodes) != 1 || a.Transactions.Nodes[0].Points != c.points || a.Transactions.Nodes[0].BalanceAfter != c.after {
			t.Errorf("%s = %+v, want balance %d, %d to next tier, newest transaction %+d with balance after %d",
				name, c.got, c.balance, c.toNext, c.points, c.after)
		}
	}
}

func TestMutation_EachCreditRootFieldReadsWhatTheOnesBeforeItWrote(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customer, _ := tm.approved(t, "1000")

	const account = `creditAccount { creditUsed aging { current } usages { totalCount nodes { orderId } } }
		usage { amount } userErrors { code }`
	type payload struct {
		CreditAccount struct {
			CreditUsed string
			Aging      struct{ Current string }
			Usages     struct {
				TotalCount int
				Nodes      []struct{ OrderID string }
			}
		}
		Usage      struct{ Amount string }
		UserErrors []creditUserError
	}
	var out struct{ A, B payload }
	tm.agent.Must(t, `mutation($c: UUID!) {
		a: chargeCredit(input: {customerId: $c, orderId: "o-1", amount: "10.00"}) { `+account+` }
		b: chargeCredit(input: {customerId: $c, orderId: "o-2", amount: "25.00"}) { `+account+` }
	}`, map[string]any{"c": customer}, &out)

	for name, c := range map[string]struct {
		got                  payload
		amount, used, newest string
		usages               int
	}{
		"a": {out.A, "10.00", "10.00", "o-1", 1},
		"b": {out.B, "25.00", "35.00", "o-2", 2},
	} {
		a := c.got.CreditAccount
		if len(c.got.UserErrors) != 0 || c.got.Usage.Amount != c.amount || a.CreditUsed != c.used || a.Aging.Current != c.used ||
			a.Usages.TotalCount != c.usages || len(a.Usages.Nodes) != c.usages || a.Usages.Nodes[0].OrderID != c.newest {
			t.Errorf("%s = %+v, want usage %s, credit used and current aging %s, %d usages, newest %s",
				name, c.got, c.amount, c.used, c.usages, c.newest)
		}
	}
}
