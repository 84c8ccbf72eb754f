package graph_test

import (
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// BenchmarkExportCustomerData is exportCustomerData through the HTTP handler, of a customer
// with 10,000 ledger rows and 2,500 audit rows (timelineHistory) and, for scale in the same
// run, of a customer with none: the time, the document's size and the statements of one
// export (the read and its audit row).
//
//	go test ./graph/ -run '^$' -bench ExportCustomerData -benchtime 20x
func BenchmarkExportCustomerData(b *testing.B) {
	srv := apitest.New(b)
	c := srv.As(b, uuid.New(), auth.Admin)
	big := timelineHistory(b, srv, c.Org)
	small := uuid.New()
	if _, err := srv.Owner.NewRaw(`INSERT INTO customers (customer_id, organization_id, first_name, last_name) VALUES (?, ?, 'Ana', 'Nueva')`,
		small, c.Org).Exec(b.Context()); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   string
	}{{"history-10000", big.String()}, {"empty", small.String()}} {
		b.Run(tc.name, func(b *testing.B) {
			var size int
			statements := int64(0)
			for b.Loop() {
				before := srv.Statements.Count()
				r := c.Do(b, exportQuery, map[string]any{"id": tc.id})
				statements += srv.Statements.Count() - before
				if len(r.Errors) > 0 {
					b.Fatalf("%s", r.Body)
				}
				size = len(r.Body)
			}
			b.ReportMetric(float64(size), "bytes/doc")
			b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
		})
	}
}
