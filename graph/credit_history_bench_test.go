package graph_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// BenchmarkCreditHistory is issue 17's "flat in history" for the credit writes: the rate of
// chargeCredit and of recordCreditPayment on accounts with 10 and with 10,000 prior paid
// charges and payments each (every payment allocated to a charge), measured side by side in
// one run. Each sub-benchmark splits its b.N writes into rounds that alternate the two
// histories (benchClients clients over historyAccounts accounts of one history per round),
// so the machine's load falls on both alike, and reports both rates and their ratio:
//
//	go test ./graph/ -run '^$' -bench CreditHistory -benchtime 4000x
//
// Every account also has open charges of 1,000,000.00 due in the future, so a payment of a
// cent has the same few open charges to allocate over whatever the history. The books are
// checked in SQL at the end.
func BenchmarkCreditHistory(b *testing.B) {
	srv := apitest.New(b)
	tm := newCreditTeam(b, srv)
	histories := []int{10, 10_000}
	accounts := map[int][]uuid.UUID{}
	for _, n := range histories {
		for range historyAccounts {
			customerID, acc := tm.approved(b, "9999999999.99")
			creditHistory(b, srv, acc.ID, n)
			accounts[n] = append(accounts[n], customerID)
		}
	}
	if _, err := srv.Owner.ExecContext(b.Context(), "ANALYZE credit_usage, credit_payments, credit_allocations, credit_accounts"); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.Run("chargeCredit", func(b *testing.B) {
		const doc = `mutation($input: ChargeCreditInput!) { chargeCredit(input: $input) {
			usage { id } creditAccount { creditUsed } userErrors { code } } }`
		historyRounds(b, histories, func(n, client int) error {
			return benchMutation(srv.URL, tm.agent.Token, doc, map[string]any{"input": map[string]any{
				"customerId": accounts[n][client%historyAccounts], "orderId": fmt.Sprint("H-", seq.Add(1)), "amount": "0.01",
			}})
		})
	})
	b.Run("recordCreditPayment", func(b *testing.B) {
		const doc = `mutation($input: RecordCreditPaymentInput!) { recordCreditPayment(input: $input) {
			payment { id } creditAccount { creditUsed } userErrors { code } } }`
		historyRounds(b, histories, func(n, client int) error {
			return benchMutation(srv.URL, tm.agent.Token, doc, map[string]any{"input": map[string]any{
				"customerId": accounts[n][client%historyAccounts], "paymentReference": fmt.Sprint("H-", seq.Add(1)), "amount": "0.01",
			}})
		})
	})
	assertCreditBooks(b, srv, tm.org)
}

// historyAccounts is how many accounts of each history the clients write to.
const historyAccounts = 8

// historyRounds runs b.N writes in rounds of historyRound, alternating the histories
// (which one goes first alternates too), and reports each history's rate and the ratio of
// the last to the first.
func historyRounds(b *testing.B, histories []int, write func(history, client int) error) {
	const historyRound = 200
	elapsed := make([]time.Duration, len(histories))
	done := make([]int64, len(histories))
	var failed atomic.Int64
	b.ResetTimer()
	for round, left := 0, int64(b.N); left > 0; round++ {
		n := min(left, historyRound)
		left -= n
		h := round % len(histories)
		if (round/len(histories))%2 == 1 {
			h = len(histories) - 1 - h
		}
		start := time.Now()
		spread(benchClients, n, func(client int, _ int64) {
			if err := write(histories[h], client); err != nil && failed.Add(1) == 1 {
				b.Error(err)
			}
		})
		elapsed[h] += time.Since(start)
		done[h] += n
	}
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d writes failed", f, b.N)
	}
	rate := make([]float64, len(histories))
	for i, n := range histories {
		if elapsed[i] > 0 {
			rate[i] = float64(done[i]) / elapsed[i].Seconds()
		}
		b.ReportMetric(rate[i], fmt.Sprintf("ops/s@%d", n))
	}
	if rate[0] > 0 {
		b.ReportMetric(rate[len(rate)-1]/rate[0], "ratio")
	}
}

// creditHistory gives the account n paid charges of 10.00 (due and created over the past
// years) and the n payments that paid them, each allocated to its charge, and three open
// charges of 1,000,000.00 due in 30 days, with credit_used what those owe — as the API
// would have left it.
func creditHistory(b testing.TB, srv *apitest.Server, accountID string, n int) {
	b.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, amount_paid, status, due_date, created_at)
		 SELECT organization_id, credit_account_id, 'hist-' || i, 10, 10, 'paid',
		   ` + creditToday + ` - 1000 + i * 900 / ?1, now() - interval '1000 days' + i * interval '900 days' / ?1
		 FROM credit_accounts, generate_series(1, ?1) AS i WHERE credit_account_id = ?0`,
		`INSERT INTO credit_payments (organization_id, credit_account_id, amount, payment_reference, payment_date, created_at)
		 SELECT organization_id, credit_account_id, 10, 'hist-' || i,
		   ` + creditToday + ` - 1000 + i * 900 / ?1, now() - interval '1000 days' + i * interval '900 days' / ?1
		 FROM credit_accounts, generate_series(1, ?1) AS i WHERE credit_account_id = ?0`,
		`INSERT INTO credit_allocations (organization_id, credit_account_id, payment_id, usage_id, amount, created_at)
		 SELECT u.organization_id, u.credit_account_id, p.payment_id, u.usage_id, 10, p.created_at
		 FROM credit_usage u JOIN credit_payments p ON p.organization_id = u.organization_id
		   AND p.credit_account_id = u.credit_account_id AND p.payment_reference = u.order_id
		 WHERE u.credit_account_id = ?0`,
		`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, status, due_date)
		 SELECT organization_id, credit_account_id, 'open-' || i, 1000000, 'pending', ` + creditToday + ` + 30
		 FROM credit_accounts, generate_series(1, 3) AS i WHERE credit_account_id = ?0`,
		`UPDATE credit_accounts SET credit_used = 3000000 WHERE credit_account_id = ?0`,
	} {
		if _, err := srv.Owner.NewRaw(q, accountID, n).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
