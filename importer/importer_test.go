package importer

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestImportCustomers_Sample(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	r := e.importCustomers(org, e.file("../docs/import/customers.csv"), 0)
	t.Logf("%+v\n%s", r.sum, strings.Join(r.rejected, "\n"))
	if r.err != nil {
		t.Fatal(r.err)
	}
	r = e.importPurchases(org, e.file("../docs/import/purchases.csv"), 0)
	t.Logf("%+v\n%s %v", r.sum, strings.Join(r.rejected, "\n"), r.err)
}
