package graph_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"customerservice/db"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/statements"
	"customerservice/internal/testkit/testdb"
)

// recorder keeps the statements a pool sends, with their arguments, while on.
type recorder struct {
	mu    sync.Mutex
	on    bool
	stmts []recorded
}

type recorded struct {
	sql  string
	args []any
}

func (r *recorder) start() { r.mu.Lock(); r.on, r.stmts = true, nil; r.mu.Unlock() }

func (r *recorder) stop() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.stmts
}

func (r *recorder) add(sql string, args []any) {
	// Leading options of pgx (the result formats database/sql asks for, the execution mode
	// db.ScanPrepared passes) are not values of the statement.
	for len(args) > 0 {
		switch args[0].(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
			args = args[1:]
			continue
		}
		break
	}
	r.mu.Lock()
	if r.on {
		if len(args) > 0 {
			r.stmts = append(r.stmts, recorded{sql, args})
		} else {
			// A query of several statements (db.Later's writes, sent before the commit): each
			// is explained on its own.
			for _, s := range db.SplitStatements(sql) {
				r.stmts = append(r.stmts, recorded{s, nil})
			}
		}
	}
	r.mu.Unlock()
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL, d.Args)
	return ctx
}
func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL, d.Args)
}
func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// tenantStatement: a data statement on a tenant table (not transaction control or settings).
var tenantStatement = regexp.MustCompile(`(?is)^\s*(select|insert|update|delete|with)\b.*\b(` +
	strings.Join(statements.TenantTables, "|") + `)\b`)

var taskCount = regexp.MustCompile(`Task Count: (\d+)`)

// The proof the scale-out asks for: the statements of the Customer 360 read (the compiled
// statement of a customer with every nested list, the credit account's policy warnings and
// its position as of an instant), of recordPurchase, chargeCredit and creditCheck, exactly as the
// service sends them with their arguments, each run through EXPLAIN as the server's role in
// the organization's transaction. On Citus every one is planned on one shard: a Citus plan
// with `Task Count: 1` and no other task count. On plain PostgreSQL, with sequential scans
// discouraged, every one reads its tenant tables through an index (the keys that lead with
// organization_id), never a sequential scan.
func TestShardPlans_The360ReadAndRecordPurchaseTouchOneShard(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	// Unnamed statements, so that a pipelined read's statements are traced as SQL, not as
	// the name of a prepared statement.
	srv := apitest.NewWith(t, apitest.Options{DB: db.Options{Tracers: []pgx.QueryTracer{rec}, NoPreparedStatements: true}})
	team := newCreditTeam(t, srv)
	customerID, _ := team.approved(t, "1000.00")
	loyEnroll(t, team.agent, customerID)
	loyBuy(t, team.agent, customerID, "50.00")

	rec.start()
	read := team.agent.Do(t, `query($id: UUID!, $at: DateTime!) { customer(id: $id) {
		id firstName email segment { segmentCode }
		addresses { id city isDefault }
		purchases(first: 5) { nodes { id amount orderId } }
		loyaltyAccount { pointsBalance tier transactions(first: 5) { nodes { id points } } }
		creditAccount { id creditLimit usages(first: 5) { nodes { id amount } } payments(first: 5) { nodes { id amount } }
			policyWarnings { code } asOf(at: $at) { creditLimit creditUsed overdueAmount aging { current over90 } } } } }`,
		map[string]any{"id": customerID, "at": time.Now().UTC().Format(time.RFC3339Nano)})
	readStmts := rec.stop()
	if len(read.Errors) > 0 {
		t.Fatal(string(read.Body))
	}
	rec.start()
	loyBuy(t, team.agent, customerID, "25.00")
	purchaseStmts := rec.stop()
	rec.start()
	team.charge(t, customerID, "order-plan", "30.00")
	chargeStmts := rec.stop()
	rec.start()
	if c := team.check(t, customerID, "10.00"); !c.Approved {
		t.Fatalf("creditCheck: %+v", c)
	}
	checkStmts := rec.stop()

	check := func(what string, stmts []recorded, wantAtLeast int) {
		t.Helper()
		n := 0
		for _, s := range stmts {
			if !tenantStatement.MatchString(s.sql) {
				continue
			}
			n++
			plan := explainAs(t, team.org, s)
			if testdb.OnCitus() {
				counts := taskCount.FindAllStringSubmatch(plan, -1)
				if !strings.Contains(plan, "Citus") || len(counts) == 0 {
					t.Errorf("%s: not a Citus plan:\n%s\n%s", what, s.sql, plan)
				}
				for _, c := range counts {
					if c[1] != "1" {
						t.Errorf("%s: Task Count %s, want 1:\n%s\n%s", what, c[1], s.sql, plan)
					}
				}
				continue
			}
			if strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: a sequential scan:\n%s\n%s", what, s.sql, plan)
			}
		}
		if n < wantAtLeast {
			t.Errorf("%s: %d statements on tenant tables, want at least %d", what, n, wantAtLeast)
		}
		t.Logf("%s: %d statements on tenant tables, each on one shard (Citus %v)", what, n, testdb.OnCitus())
	}
	// The read is one statement; the purchase locks the customer, reads the program and the
	// account, writes the purchase, the transaction, its lot, the account, the customer and
	// the audit row.
	check("customer 360 read", readStmts, 1)
	check("recordPurchase", purchaseStmts, 5)
	// The charge locks the customer and the account, reads the policy and the oldest unpaid
	// charge, writes the usage, the account and the audit row; the check reads the account
	// with its customer and the policy.
	check("chargeCredit", chargeStmts, 4)
	check("creditCheck", checkStmts, 2)
}

// explainAs returns the plan of s as the server's role, in a transaction of org as db.InOrg
// opens it (on Citus the organization reaches the shards; the plan is not executed).
func explainAs(t *testing.T, org uuid.UUID, s recorded) string {
	t.Helper()
	tx := appTx(t, org, "SET LOCAL enable_seqscan = off")
	rows, err := tx.Query(context.Background(), "EXPLAIN (COSTS OFF) "+s.sql, s.args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", s.sql, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", s.sql, err)
	}
	return strings.Join(lines, "\n")
}

// appTx opens a transaction as the server's role with org set as db.InOrg sets it (on Citus
// so that it reaches the shards), after the settings in setup; it is rolled back when the
// test ends.
func appTx(t *testing.T, org uuid.UUID, setup string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.Get(t).AppURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) }) //nolint:errcheck // never committed
	set := "SET LOCAL app.current_organization_id = '" + org.String() + "'"
	if setup != "" {
		set = setup + "; " + set
	}
	if testdb.OnCitus() {
		set = "SET LOCAL citus.propagate_set_commands = 'local'; " + set
	}
	if _, err := tx.Exec(ctx, set); err != nil {
		t.Fatal(err)
	}
	return tx
}
