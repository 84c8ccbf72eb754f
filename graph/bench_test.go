package graph_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/models"
)

// BenchmarkCustomer360 is one customer's whole 360 (every scalar field, addresses, both
// defaults, loyalty and credit accounts, segment) through the HTTP handler, token checked,
// against the test PostgreSQL on loopback: the latency a client sees, less the network.
//
//	go test ./graph/ -run '^$' -bench Customer360 -benchtime 2000x
func BenchmarkCustomer360(b *testing.B) {
	srv := apitest.New(b)
	c := srv.NewOrg(b, auth.Viewer)
	id := uuid.New()
	insert := func(model any) {
		b.Helper()
		if _, err := srv.Owner.NewInsert().Model(model).Exec(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	email, phone := "ana@example.com", "+50761234567"
	insert(&models.Customer{ID: id, OrganizationID: c.Org, CustomerType: models.CustomerTypeB2B, FirstName: "Ana",
		LastName: "Pérez", Email: &email, Phone: &phone, Status: models.CustomerStatusActive, PreferredLanguage: "es",
		Tags: []string{"vip"}, Metadata: map[string]any{}})
	insert(&[]models.Address{
		{ID: uuid.New(), OrganizationID: c.Org, CustomerID: id, AddressType: models.AddressTypeShipping,
			AddressLine1: "Calle 50", City: "Panamá", Country: "PA", IsDefault: true, IsActive: true},
		{ID: uuid.New(), OrganizationID: c.Org, CustomerID: id, AddressType: models.AddressTypeBilling,
			AddressLine1: "Vía España", City: "Panamá", Country: "PA", IsDefault: true, IsActive: true},
	})
	insert(&models.LoyaltyAccount{ID: uuid.New(), OrganizationID: c.Org, CustomerID: id, PointsBalance: 120,
		Tier: models.TierSilver, TierSince: time.Now(), TotalSpent: decimal.NewFromInt(99)})
	insert(&models.CreditAccount{ID: uuid.New(), OrganizationID: c.Org, CustomerID: id, CreditLimit: decimal.NewFromInt(1000),
		PaymentTermDays: 30, Status: models.CreditStatusApproved})
	insert(&models.CustomerSegment{ID: uuid.New(), OrganizationID: c.Org, CustomerID: id, SegmentCode: models.SegmentLoyal,
		LifetimeValue: decimal.NewFromInt(99)})

	vars := map[string]any{"id": id}
	var out struct {
		Customer *struct {
			ID            string
			CreditAccount *struct{ CreditAvailable string }
		}
	}
	c.Must(b, customer360Query, vars, &out)
	if out.Customer == nil || out.Customer.ID != id.String() || out.Customer.CreditAccount == nil {
		b.Fatalf("the 360 query does not find its customer: %+v", out)
	}
	before, n := srv.Statements.Count(), 0
	for b.Loop() {
		c.Must(b, customer360Query, vars, nil)
		n++
	}
	b.ReportMetric(float64(srv.Statements.Count()-before)/float64(n), "stmts/op")
}

// BenchmarkCustomerPage360 is a dashboard page: 50 customers with addresses, loyalty and
// credit accounts (and their pages of transactions and usages) and segment, through the
// HTTP handler: bench/queries/ours-q2.graphql against the test PostgreSQL.
//
//	go test ./graph/ -run '^$' -bench CustomerPage360 -benchtime 500x
func BenchmarkCustomerPage360(b *testing.B) {
	srv := apitest.New(b)
	c := srv.NewOrg(b, auth.Viewer)
	full360(b, srv, c.Org, 50)
	const q = `{ customers(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) { nodes {
		id customerType firstName lastName email phone status createdAt lastPurchaseAt
		addresses { id addressType addressLine1 city country isDefault }
		loyaltyAccount { pointsBalance tier lifetimePoints transactions(first: 5) { nodes { type points createdAt } } }
		creditAccount { creditLimit creditAvailable status usages { nodes { amount status dueDate } } }
		segment { segmentCode rfmScore lifetimeValue isVip } } } }`
	var out struct {
		Customers struct{ Nodes []struct{ ID string } }
	}
	c.Must(b, q, nil, &out)
	if len(out.Customers.Nodes) != 50 {
		b.Fatalf("%d customers", len(out.Customers.Nodes))
	}
	before, n := srv.Statements.Count(), 0
	for b.Loop() {
		c.Must(b, q, nil, nil)
		n++
	}
	b.ReportMetric(float64(srv.Statements.Count()-before)/float64(n), "stmts/op")
}

// BenchmarkBenchQueries runs Q1, Q2 and Q3 of bench/queries (ours-q*.graphql: a customer's
// whole 360, a dashboard page of 50, a small lookup) through the HTTP handler, one client,
// against 200 customers with addresses, both accounts and a segment: the same documents as
// bench/run.sh, here also on Citus (CITUS_TEST=1), for the coordinator hop's cost
// (BENCHMARKS.md, Citus vs PostgreSQL).
//
//	go test ./graph/ -run '^$' -bench BenchQueries -benchtime 500x
func BenchmarkBenchQueries(b *testing.B) {
	srv := apitest.New(b)
	c := srv.NewOrg(b, auth.Viewer)
	full360(b, srv, c.Org, 200)
	var ids []uuid.UUID
	if err := srv.Owner.NewRaw("SELECT customer_id FROM customers WHERE organization_id = ? ORDER BY 1", c.Org).Scan(b.Context(), &ids); err != nil || len(ids) != 200 {
		b.Fatalf("%d customers, %v", len(ids), err)
	}
	for _, q := range []string{"q1", "q2", "q3"} {
		doc, err := os.ReadFile("../bench/queries/ours-" + q + ".graphql")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.ToUpper(q), func(b *testing.B) {
			vars := func(i int) map[string]any {
				if q == "q2" {
					return nil
				}
				return map[string]any{"id": ids[i%len(ids)]}
			}
			c.Must(b, string(doc), vars(0), nil)
			before, n := srv.Statements.Count(), 0
			for b.Loop() {
				c.Must(b, string(doc), vars(n), nil)
				n++
			}
			b.ReportMetric(float64(srv.Statements.Count()-before)/float64(n), "stmts/op")
		})
	}
}
