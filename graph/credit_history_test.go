package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// Issue 17, flat in history: a charge reads the policy and how many days the oldest unpaid
// charge is past due, a payment allocates over the open charges oldest due first — neither
// may read the account's paid history. Every statement chargeCredit and recordCreditPayment
// send, exactly as sent, is run again under EXPLAIN ANALYZE as the server's role in the
// organization's transaction (rolled back; sequential scans discouraged) on an account with
// 5,000 paid charges and 5,000 payments, each allocated (statistics analyzed; a plain
// INSERT … VALUES reads nothing and is not run again, nor is the UPDATE of one usage by its
// key, whose plan is checked instead): no scan of credit_usage,
// credit_payments or credit_allocations may read more rows than the account has open charges
// plus the row it writes — whatever the history, the same rows.
func TestCreditWrites_ReadNoPaidHistory(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	srv := apitest.NewWith(t, apitest.Options{DB: db.Options{Tracers: []pgx.QueryTracer{rec}, NoPreparedStatements: true}})
	tm := newCreditTeam(t, srv)
	customerID, acc := tm.approved(t, "9999999999.99")
	creditHistory(t, srv, acc.ID, 5000) // and 3 open charges
	if _, err := srv.Owner.ExecContext(context.Background(), "ANALYZE credit_usage, credit_payments, credit_allocations"); err != nil {
		t.Fatal(err)
	}

	rec.start()
	creditOK(t, tm.charge(t, customerID, "flat-1", "1.00"))
	chargeStmts := rec.stop()
	rec.start()
	pay := creditOK(t, tm.pay(t, customerID, "flat-1", "1000001.00")) // the oldest open charge and a cent... of the next
	payStmts := rec.stop()
	if pay.CreditAccount.CreditUsed != "2000000.00" {
		t.Fatalf("credit used %s after the payment, want 2000000.00", pay.CreditAccount.CreditUsed)
	}

	const maxRows = 4 + 1 // the open charges (3 and the new one) and one row written
	for what, stmts := range map[string][]recorded{"chargeCredit": chargeStmts, "recordCreditPayment": payStmts} {
		n := 0
		for _, s := range stmts {
			if !tenantStatement.MatchString(s.sql) || plainInsert.MatchString(s.sql) {
				continue
			}
			if usageByKey.MatchString(s.sql) {
				// A charge paid by the payment: its share is a constant, so the statement cannot
				// run again after the commit (it would pay the charge twice); its plan must
				// find the one row by the primary key.
				n++
				if plan := explainAs(t, tm.org, s); !strings.Contains(plan, "credit_usage_pkey") {
					t.Errorf("%s: not by the primary key:\n%s\n%s", what, s.sql, plan)
				}
				continue
			}
			for _, scan := range historyScans(t, tm.org, s, "credit_usage", "credit_payments", "credit_allocations") {
				n++
				if scan.rows > maxRows {
					t.Errorf("%s: %s read %d rows of %s (at most %d: the open charges):\n%s", what, scan.node, scan.rows, scan.table, maxRows, s.sql)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no scan of the credit ledgers found", what)
		}
	}
}

// usageByKey is an UPDATE of one usage given by its key (a payment's share of it).
var usageByKey = regexp.MustCompile(`(?is)^\s*UPDATE "credit_usage" AS "cu" SET .* WHERE \(cu\.organization_id = '[0-9a-f-]+'\) AND \(cu\.usage_id = '[0-9a-f-]+'\)$`)

// plainInsert is an INSERT of given values: it scans no table.
var plainInsert = regexp.MustCompile(`(?is)^\s*INSERT INTO "?[a-z_]+"? \([^)]*\) VALUES \(`)

// ledgerScan is one scan of a ledger in an executed plan: the rows it read, those it kept and
// those its filters removed, over all its loops.
type ledgerScan struct {
	node, table string
	rows        int
}

// historyScans runs s under EXPLAIN ANALYZE as the server's role in a transaction of org
// that is rolled back, and returns its scans of the tables (on Citus, of their shards, in the
// worker's plan).
func historyScans(t *testing.T, org uuid.UUID, s recorded, tables ...string) []ledgerScan {
	t.Helper()
	return planScans(t, org, s, true, tables...)
}

// planScans is historyScans with the generic plan checked or not (withGeneric false: only
// the plan made with the statement's values).
func planScans(t *testing.T, org uuid.UUID, s recorded, withGeneric bool, tables ...string) []ledgerScan {
	t.Helper()
	var scans []ledgerScan
	for _, tree := range explainedPlans(t, org, s, withGeneric) {
		scans = append(scans, scansOf(tree, tables)...)
	}
	return scans
}

// explainedPlans are the plans of s run under EXPLAIN ANALYZE as the server's role with the
// organization set: as planned with its values and, when it has bind parameters, as the
// generic plan PostgreSQL keeps for a statement prepared on the connection (db.ScanPrepared,
// db.ReadInOrg) after a few runs, which is planned without them.
func explainedPlans(t *testing.T, org uuid.UUID, s recorded, withGeneric bool) []any {
	t.Helper()
	ctx := context.Background()
	// Sequential scans discouraged, as in explainAs: the test database is small and shared by
	// the tests running beside this one, so the planner may scan a table whole because it is
	// cheap today; what is tested is whether an index lets the statement skip the history.
	explain := func(generic bool) any {
		setup, stmt := "SET LOCAL enable_seqscan = off", s.sql
		if generic {
			setup += "; SET LOCAL plan_cache_mode = force_generic_plan"
			// EXECUTE takes its values as literals (a utility statement has no parameters).
			values := make([]string, len(s.args))
			for i, v := range s.args {
				var text string
				switch v := v.(type) {
				case string, int, int32, int64, bool, uuid.UUID, decimal.Decimal:
					text = fmt.Sprint(v)
				case time.Time:
					text = v.Format(time.RFC3339Nano)
				case []string:
					quoted := make([]string, len(v))
					for i, e := range v {
						quoted[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(e) + `"`
					}
					text = "{" + strings.Join(quoted, ",") + "}"
				default:
					t.Fatalf("no literal for a %T value of %s", v, s.sql)
				}
				values[i] = "'" + strings.ReplaceAll(text, "'", "''") + "'"
			}
			stmt = "EXECUTE history_scan(" + strings.Join(values, ", ") + ")"
		}
		tx := appTx(t, org, setup)
		defer tx.Rollback(ctx) //nolint:errcheck // its writes end here, before the next statement's
		if generic {
			if _, err := tx.Exec(ctx, "PREPARE history_scan AS "+s.sql); err != nil {
				t.Fatalf("PREPARE %s: %v", s.sql, err)
			}
		}
		args := s.args
		if generic {
			args = nil
		}
		var plan string
		if err := tx.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+stmt, args...).Scan(&plan); err != nil {
			t.Fatalf("EXPLAIN %s (generic %v, %q): %v", s.sql, generic, stmt, err)
		}
		var tree any
		if err := json.Unmarshal([]byte(plan), &tree); err != nil {
			t.Fatal(err)
		}
		return tree
	}
	plans := []any{explain(false)}
	// On Citus the statements keep custom plans: Citus gives a generic plan it cannot route
	// a prohibitive cost (and refuses one that is forced).
	if withGeneric && len(s.args) > 0 && strings.Contains(s.sql, "$1") && !testdb.OnCitus() {
		plans = append(plans, explain(true))
	}
	return plans
}

// scansOf are the scans of tables in an EXPLAIN (FORMAT JSON) tree with the rows each read.
func scansOf(tree any, tables []string) []ledgerScan {
	var scans []ledgerScan
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			if rel, ok := v["Relation Name"].(string); ok && strings.Contains(fmt.Sprint(v["Node Type"]), "Scan") {
				for _, table := range tables {
					if rel == table || strings.HasPrefix(rel, table+"_1") {
						num := func(k string) int { f, _ := v[k].(float64); return int(f) }
						loops := max(num("Actual Loops"), 1)
						scans = append(scans, ledgerScan{node: fmt.Sprint(v["Node Type"], " ", v["Index Name"]), table: table,
							rows: (num("Actual Rows") + num("Rows Removed by Filter") + num("Rows Removed by Index Recheck")) * loops})
					}
				}
			}
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tree)
	return scans
}
