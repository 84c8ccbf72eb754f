package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/internal/apitest"
)

// BenchmarkChargeCredit measures chargeCredit through the HTTP handler under 32 concurrent
// clients (SetParallelism(16) × GOMAXPROCS 2), then checks the books in SQL:
//
//   - one_account: every client charges the same account — the worst case, each charge
//     waiting for the account's row;
//
//   - account_per_client: each client charges its own customer's account.
//
//     go test ./graph/ -run XXX -bench ChargeCredit -benchtime 3s
func BenchmarkChargeCredit(b *testing.B) {
	b.Run("one_account", func(b *testing.B) { benchmarkCharges(b, 1) })
	b.Run("account_per_client", func(b *testing.B) { benchmarkCharges(b, 32) })
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
	// Clients keep their connections, as a service calling this one would.
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}}
	var clients, seq, failed atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		customerID := customers[int(clients.Add(1)-1)%accounts]
		for pb.Next() {
			n := seq.Add(1)
			body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{
				"input": map[string]any{"customerId": customerID, "orderId": fmt.Sprintf("bench-%d", n), "amount": "1.25"},
			}})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tm.agent.Token)
			res, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte(`"userErrors":[]`)) {
				failed.Add(1)
			}
		}
	})
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d charges failed", f, b.N)
	}
	assertCreditBooks(b, srv, tm.org)
	want := decimal.RequireFromString("1.25").Mul(decimal.NewFromInt(seq.Load())).StringFixed(2)
	if used := creditSQL(b, srv, `SELECT sum(credit_used)::text FROM credit_accounts WHERE organization_id = ?`, tm.org); used != want {
		b.Fatalf("credit_used %s after %d charges of 1.25, want %s", used, seq.Load(), want)
	}
}
