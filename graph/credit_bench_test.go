package graph_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/internal/testkit/apitest"
)

// BenchmarkChargeCredit measures chargeCredit through the HTTP handler under exactly
// benchClients (32) concurrent clients, whatever GOMAXPROCS is, then checks the books in
// SQL:
//
//   - one_account: every client charges the same account — the worst case, each charge
//     waiting for the account's row;
//
//   - account_per_client: each client charges its own customer's account.
//
//     go test ./graph/ -run XXX -bench ChargeCredit -benchtime 3s
func BenchmarkChargeCredit(b *testing.B) {
	b.Run("one_account", func(b *testing.B) { benchmarkCharges(b, 1) })
	b.Run("account_per_client", func(b *testing.B) { benchmarkCharges(b, benchClients) })
}

func benchmarkCharges(b *testing.B, accounts int) {
	srv := apitest.New(b)
	tm := newCreditTeam(b, srv)
	customers := make([]uuid.UUID, accounts)
	for i := range customers {
		customers[i], _ = tm.approved(b, "9999999999.99")
	}
	query := `mutation($input: ChargeCreditInput!) { chargeCredit(input: $input) {
		usage { id status dueDate } creditAccount { creditUsed creditAvailable } userErrors { code message } } }`
	var failed atomic.Int64
	elapsed := runClients(b, benchClients, func(client int, i int64) {
		err := benchMutation(srv.URL, tm.agent.Token, query, map[string]any{"input": map[string]any{
			"customerId": customers[client%accounts], "orderId": fmt.Sprintf("bench-%d", i), "amount": "1.25",
		}})
		if err != nil && failed.Add(1) == 1 {
			b.Error(err) // the first one says why
		}
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d charges failed", f, b.N)
	}
	assertCreditBooks(b, srv, tm.org)
	want := decimal.RequireFromString("1.25").Mul(decimal.NewFromInt(int64(b.N))).StringFixed(2)
	if used := creditSQL(b, srv, `SELECT sum(credit_used)::text FROM credit_accounts WHERE organization_id = ?`, tm.org); used != want {
		b.Fatalf("credit_used %s after %d charges of 1.25, want %s", used, b.N, want)
	}
}
