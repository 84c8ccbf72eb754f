package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

// moveLoad is the load of TestTenantMove: readers of the Customer 360 and writers of
// purchases and new customers, through the API, counting every request and every failure
// (a status other than 200, a GraphQL error or a userError).
type moveLoad struct {
	requests, failed, duringMove atomic.Int64
	slowest                      atomic.Int64 // nanoseconds, of the requests that overlapped the move
	moveStart, moveEnd           atomic.Int64 // unix nanoseconds; 0: not yet
	mu                           sync.Mutex
	firstFailure                 string
}

func (l *moveLoad) record(what string, began time.Time, r apitest.Response, userErrors int) {
	l.requests.Add(1)
	// A request overlapped the move if it ended after the move began and began before it
	// ended: those are the ones a blocked write would have made wait.
	ended := time.Now().UnixNano()
	if start, end := l.moveStart.Load(), l.moveEnd.Load(); start != 0 && ended > start && (end == 0 || began.UnixNano() < end) {
		l.duringMove.Add(1)
		for took := ended - began.UnixNano(); ; {
			old := l.slowest.Load()
			if took <= old || l.slowest.CompareAndSwap(old, took) {
				break
			}
		}
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 || userErrors > 0 {
		l.failed.Add(1)
		l.mu.Lock()
		if l.firstFailure == "" {
			l.firstFailure = fmt.Sprintf("%s: %d %s", what, r.Status, r.Body)
		}
		l.mu.Unlock()
	}
}

// A tenant's shards move to another node while the service keeps answering its reads and
// writes: zero failed requests. On Citus, citus_move_shard_placement moves the
// organization's shard of customers and, with it, the colocated shards of every tenant table,
// from the worker that holds them to the other one, in block_writes mode: the shards' writes
// wait for the copy (reads go on) and then go to the new node. The online mode (logical
// replication) is refused by PostgreSQL 15 for these tables: Citus's subscription role may
// not replicate into a table with row-level security. Afterwards the organization's books
// still add up. On plain PostgreSQL there is nothing to move: the same load runs as the
// baseline, also without a failure. Not parallel: the move takes the shards of the other
// tests' organizations with it.
func TestTenantMove_ZeroFailedRequestsWhileTheShardsMove(t *testing.T) {
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	const workers = 4
	customers := make([]uuid.UUID, workers)
	for i := range customers {
		customers[i] = loyCustomer(t, srv, team.Org)
		loyEnroll(t, team.Agent, customers[i])
	}

	load := &moveLoad{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(id uuid.UUID) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				began := time.Now()
				switch i % 3 {
				case 0:
					r := team.Agent.Do(t, `query($id: UUID!) { customer(id: $id) { id loyaltyAccount { pointsBalance
						transactions(first: 3) { nodes { id points } } } purchases(first: 3) { nodes { id amount } } } }`,
						map[string]any{"id": id})
					load.record("read", began, r, 0)
				case 1:
					r := team.Agent.Do(t, `mutation($in: RecordPurchaseInput!) { recordPurchase(input: $in) { purchase { id } userErrors { code } } }`,
						map[string]any{"in": map[string]any{"customerId": id, "orderId": uuid.NewString(), "amount": "10.00"}})
					load.record("recordPurchase", began, r, countUserErrors(r, "recordPurchase"))
				case 2:
					r := team.Agent.Do(t, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { customer { id } userErrors { code } } }`,
						map[string]any{"in": map[string]any{"firstName": "Mov", "lastName": uuid.NewString()[:8]}})
					load.record("createCustomer", began, r, countUserErrors(r, "createCustomer"))
				}
			}
		}(customers[w])
	}
	// Some load before, the move (or, on PostgreSQL, the same time of load), some after.
	waitFor := func(n int64) {
		deadline := time.Now().Add(time.Minute)
		for load.requests.Load() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(20)
	start := time.Now()
	load.moveStart.Store(start.UnixNano())
	moved := ""
	if testdb.OnCitus() {
		moved = moveTenantShards(t, team.Org.String())
	} else {
		time.Sleep(2 * time.Second)
	}
	took := time.Since(start)
	load.moveEnd.Store(time.Now().UnixNano())
	waitFor(load.requests.Load() + 20)
	close(stop)
	wg.Wait()

	t.Logf("%s in %s; %d requests (%d overlapping the move, the slowest of those %s), %d failed",
		map[bool]string{true: "moved " + moved, false: "PostgreSQL baseline"}[moved != ""], took.Round(time.Millisecond),
		load.requests.Load(), load.duringMove.Load(), time.Duration(load.slowest.Load()).Round(time.Millisecond), load.failed.Load())
	if load.failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed; the first: %s", load.failed.Load(), load.requests.Load(), load.firstFailure)
	}
	if load.duringMove.Load() == 0 {
		t.Fatalf("no request overlapped the move (%s)", took)
	}
	if n := loyCheckBooks(t, srv, team.Org); n != workers {
		t.Fatalf("books of %d accounts checked after the move, want %d", n, workers)
	}
}

func countUserErrors(r apitest.Response, field string) int {
	var out map[string]struct {
		UserErrors []struct{ Code string }
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return 1
	}
	return len(out[field].UserErrors)
}

// moveTenantShards moves the shard of customers that holds org (and its colocated shards)
// to the other worker, as the superuser, and returns "shard <id> from :<port> to :<port>"
// after checking the placement moved.
func moveTenantShards(t *testing.T, org string) string {
	t.Helper()
	ctx := context.Background()
	d := testdb.Get(t)
	conn, err := pgx.Connect(ctx, d.Cluster.SuperuserURL(d.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var shard int64
	var from, to int
	var host string
	if err := conn.QueryRow(ctx, `SELECT s.shardid, s.nodename, s.nodeport,
		(SELECT n.nodeport FROM pg_dist_node n WHERE n.groupid > 0 AND n.noderole = 'primary' AND n.nodeport <> s.nodeport ORDER BY 1 LIMIT 1)
		FROM citus_shards s WHERE s.shardid = get_shard_id_for_distribution_column('customers', $1::uuid)`, org).
		Scan(&shard, &host, &from, &to); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT citus_move_shard_placement($1, $2, $3, $2, $4, shard_transfer_mode => 'block_writes')",
		shard, host, from, to); err != nil {
		t.Fatalf("move shard %d from :%d to :%d: %v", shard, from, to, err)
	}
	var now int
	if err := conn.QueryRow(ctx, "SELECT nodeport FROM citus_shards WHERE shardid = $1", shard).Scan(&now); err != nil || now != to {
		t.Fatalf("shard %d is on :%d after the move (%v), want :%d", shard, now, err, to)
	}
	// The moved shards lost their column grants (every organization on them would be refused
	// e.g. the consent evidence update of an erasure): re-assert them as the README says.
	testdb.Redistribute(t)
	return fmt.Sprintf("shard %d (and its colocated shards) from :%d to :%d", shard, from, to)
}
