package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/models"
)

// everyone is a filter every customer matches, so customerStats counts (the filtered path)
// where the unfiltered one reads the organization's counters.
var everyone = map[string]any{"createdAt": map[string]any{"from": "1900-01-01T00:00:00Z"}}

// statsOf is the organization's customerStats, unfiltered (its counters) and counted.
func statsOf(t *testing.T, c *apitest.Client) (counters, counted string) {
	t.Helper()
	var a, b struct {
		Stats statsOut `json:"customerStats"`
	}
	c.Must(t, statsQuery, nil, &a)
	c.Must(t, statsQuery, gqlVars("filter", everyone), &b)
	ja, _ := json.Marshal(a.Stats)
	jb, _ := json.Marshal(b.Stats)
	return string(ja), string(jb)
}

func assertCountersMatch(t *testing.T, c *apitest.Client, step string, wantTotal int) {
	t.Helper()
	counters, counted := statsOf(t, c)
	if counters != counted {
		t.Fatalf("%s: customerStats from the counters\n%s\nand counted\n%s", step, counters, counted)
	}
	var s statsOut
	json.Unmarshal([]byte(counters), &s) //nolint:errcheck // just marshalled
	if s.Total != wantTotal {
		t.Fatalf("%s: total %d, want %d", step, s.Total, wantTotal)
	}
}

// customerStats of the whole organization reads counters kept by triggers (migration
// 20261226000002); after every kind of write they equal a count: customers created through
// the API and in bulk, status and type changes, enrolment and tier changes, segments
// written, rewritten and removed, an erasure and deletions (with their cascade).
func TestCustomerStats_WholeOrganizationCountersEqualACount(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := context.Background()
	org := uuid.New()
	admin := srv.As(t, org, auth.Admin)
	assertCountersMatch(t, admin, "no customer yet", 0)

	var ids []string
	for i := range 6 {
		var out struct {
			CreateCustomer struct{ Customer struct{ ID string } }
		}
		typ := "B2C"
		if i%3 == 0 {
			typ = "B2B"
		}
		admin.Must(t, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { customer { id } userErrors { code } } }`,
			gqlVars("in", map[string]any{"firstName": "Ana", "lastName": fmt.Sprint("Counted ", i), "customerType": typ}), &out)
		ids = append(ids, out.CreateCustomer.Customer.ID)
	}
	assertCountersMatch(t, admin, "six created", 6)
	// A bulk insert: one statement, 200 customers.
	if _, err := srv.Owner.ExecContext(ctx, `INSERT INTO customers (organization_id, first_name, last_name, customer_type, status)
		SELECT ?, 'Bulk', 'Row ' || g, CASE WHEN g % 4 = 0 THEN 'b2b' ELSE 'b2c' END, CASE WHEN g % 10 = 0 THEN 'inactive' ELSE 'active' END
		FROM generate_series(1, 200) AS g`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "200 inserted in one statement", 206)

	for _, id := range ids[:4] {
		admin.Must(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, gqlVars("id", id), nil)
	}
	if _, err := srv.Owner.ExecContext(ctx, `INSERT INTO loyalty_accounts (organization_id, customer_id, tier)
		SELECT organization_id, customer_id, (ARRAY['bronze','silver','gold','platinum'])[1 + (row_number() OVER ()) % 4]
		FROM customers WHERE organization_id = ? AND first_name = 'Bulk' AND last_name LIKE 'Row 1%'`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "enrolled", 206)
	admin.Must(t, `mutation($id: UUID!) { setCustomerStatus(id: $id, status: BLOCKED, reason: "fraud") { userErrors { code } } }`, gqlVars("id", ids[0]), nil)
	admin.Must(t, `mutation($id: UUID!) { setCustomerStatus(id: $id, status: INACTIVE, reason: "moved") { userErrors { code } } }`, gqlVars("id", ids[1]), nil)
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customers SET customer_type = 'b2b' WHERE organization_id = ? AND last_name = 'Row 1'`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE loyalty_accounts SET tier = CASE tier WHEN 'gold' THEN 'platinum' ELSE 'gold' END
		WHERE organization_id = ? AND tier IN ('gold', 'bronze')`, org); err != nil {
		t.Fatal(err)
	}
	// An update that changes none of the counted columns, and one that sets them unchanged.
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customers SET status = status, customer_type = customer_type, notes = 'x' WHERE organization_id = ?`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "statuses, types and tiers changed", 206)

	// Segments: written in one statement, rewritten, some removed (as the segment job does).
	if _, err := srv.Owner.ExecContext(ctx, `INSERT INTO customer_segments (organization_id, customer_id, segment_code)
		SELECT organization_id, customer_id, (ARRAY['champions','loyal','potential_loyalist','new','at_risk','lost'])[1 + (row_number() OVER ()) % 6]
		FROM customers WHERE organization_id = ? AND first_name = 'Bulk' AND last_name LIKE 'Row 2%'`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "segments written", 206)
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customer_segments SET segment_code = CASE WHEN segment_code = 'lost' THEN 'champions' ELSE 'lost' END
		WHERE organization_id = ?`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Owner.ExecContext(ctx, `DELETE FROM customer_segments WHERE organization_id = ? AND segment_code = 'champions'`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "segments rewritten and removed", 206)

	// Erasure keeps the customer (anonymized); deletion removes it with its account and segment.
	admin.Must(t, `mutation($id: UUID!) { eraseCustomer(id: $id) { userErrors { code } } }`, gqlVars("id", ids[2]), nil)
	if _, err := srv.Owner.ExecContext(ctx, `DELETE FROM customers WHERE organization_id = ? AND first_name = 'Bulk' AND last_name LIKE 'Row 2%'`, org); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "erased and deleted", 206-12) // Row 2, Row 20–29, Row 200

	// Another organization's writes never show.
	other := srv.As(t, uuid.New(), auth.Admin)
	newListFixtures(t, srv, other.Org).customer(models.Customer{FirstName: "Otra", LastName: "Org"})
	assertCountersMatch(t, admin, "another organization wrote", 194)
	assertCountersMatch(t, other, "the other organization", 1)

	// A merged customer (§10) is in no stats, but keeps its loyalty account and tier: the
	// organization's figures are then counted, and still equal.
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customers SET status = 'merged', merged_into = ?
		WHERE organization_id = ? AND customer_id = ?`, ids[0], org, ids[3]); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "a customer merged", 193)
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customers SET status = 'active', merged_into = NULL
		WHERE organization_id = ? AND customer_id = ?`, org, ids[3]); err != nil {
		t.Fatal(err)
	}
	assertCountersMatch(t, admin, "the merge undone", 194)

	if testdb.OnCitus() {
		// `citus distribute` dropped the triggers: no counters, customerStats counts.
		var n int
		if err := srv.Owner.NewRaw("SELECT count(*) FROM customer_counts WHERE organization_id = ?", org).Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("customer_counts on Citus: %d rows (%v), want none", n, err)
		}
		return
	}
	// The unfiltered figures are the counters' (not a count that happens to agree): a counter
	// moved by hand shows, and nothing else does.
	if _, err := srv.Owner.ExecContext(ctx, `UPDATE customer_counts SET n = n + 1000
		WHERE organization_id = ? AND dimension = 'type' AND value = 'b2b' AND shard = (SELECT min(shard) FROM customer_counts
		WHERE organization_id = ? AND dimension = 'type' AND value = 'b2b')`, org, org); err != nil {
		t.Fatal(err)
	}
	counters, counted := statsOf(t, admin)
	if counters == counted {
		t.Fatalf("customerStats does not read the counters: %s", counters)
	}
}

// Concurrent writers of one organization (16 clients creating, enrolling and changing
// statuses at once) leave counters equal to a count, and none of their requests fails: the
// counters are split over shards and locked in one order.
func TestCustomerStats_CountersExactUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	admin := srv.As(t, org, auth.Admin)
	const clients, each = 16, 5
	var wg sync.WaitGroup
	errs := make(chan string, clients*each*3)
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res := admin.Do(t, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { customer { id } userErrors { code } } }`,
					gqlVars("in", map[string]any{"firstName": "Con", "lastName": fmt.Sprintf("Current %d-%d", w, i)}))
				var out struct {
					Data struct {
						CreateCustomer struct {
							Customer   *struct{ ID string }
							UserErrors []struct{ Code string }
						}
					}
				}
				if json.Unmarshal(res.Body, &out) != nil || len(res.Errors) > 0 || out.Data.CreateCustomer.Customer == nil {
					errs <- string(res.Body)
					continue
				}
				id := out.Data.CreateCustomer.Customer.ID
				if r := admin.Do(t, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, gqlVars("id", id)); len(r.Errors) > 0 {
					errs <- string(r.Body)
				}
				if i%2 == 0 {
					if r := admin.Do(t, `mutation($id: UUID!) { setCustomerStatus(id: $id, status: INACTIVE, reason: "r") { userErrors { code } } }`, gqlVars("id", id)); len(r.Errors) > 0 {
						errs <- string(r.Body)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent write failed: %s", e)
	}
	assertCountersMatch(t, admin, "after concurrent writers", clients*each)
	var s statsOut
	c, _ := statsOf(t, admin)
	json.Unmarshal([]byte(c), &s) //nolint:errcheck // just marshalled
	for _, st := range s.ByStatus {
		if want := map[string]int{"ACTIVE": clients * 2, "INACTIVE": clients * 3, "BLOCKED": 0}[st.Status]; st.Count != want {
			t.Errorf("%s: %d, want %d", st.Status, st.Count, want)
		}
	}
}
