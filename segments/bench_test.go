package segments

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/embedded"
	"customerservice/internal/testkit/testdb"
)

// benchOrg is the one organization of the 1M/10M benchmark (fixed, so a kept database is
// reused instead of seeded again).
var benchOrg = uuid.MustParse("00000000-0000-4000-8000-000000000001")

// seedCustomersSQL and seedPurchasesSQL load the benchmark organization as the owner, set-based:
// 1,000,000 customers created over the last ~4 years, and 10,000,000 purchases over the last two
// years (about half inside the 365-day window), skewed so that some customers buy often and
// others rarely or never; 5 % fully and 5 % half refunded. ?0 is the organization, ?1 now.
// Purchase ids and order ids ascend so their unique indexes fill in order.
const seedCustomersSQL = `
INSERT INTO customers (organization_id, first_name, last_name, created_at)
SELECT ?0, 'Bench', 'Customer ' || i, ?1::timestamptz - (i % 1500) * interval '1 day'
FROM generate_series(1, 1000000) AS i`

const seedPurchasesSQL = `
CREATE TEMP TABLE bench_customers ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY customer_id)::integer AS n, customer_id
  FROM customers WHERE organization_id = ?0;
CREATE UNIQUE INDEX ON bench_customers (n);
SELECT setseed(0.42);
INSERT INTO purchases (purchase_id, organization_id, customer_id, order_id, amount, refunded_amount, occurred_at)
SELECT lpad(to_hex(p.g), 32, '0')::uuid, ?0, c.customer_id, 'bench-' || lpad(p.g::text, 8, '0'), p.amount,
       CASE WHEN p.r < 0.05 THEN p.amount WHEN p.r < 0.10 THEN round(p.amount / 2, 2) ELSE 0 END,
       ?1::timestamptz - p.r2 * interval '730 days'
FROM (SELECT g, 1 + floor(power(random(), 1.5) * 1000000)::integer AS n,
             round((5 + random() * 195)::numeric, 2) AS amount, random() AS r, random() AS r2
      FROM generate_series(1, 10000000) AS g) AS p
JOIN bench_customers c ON c.n = p.n`

// A bulk load's usual tricks, in the seeding transaction only: secondary indexes of the two
// tables are dropped and rebuilt after the load (their definitions read from pg_indexes, so
// they end exactly as the migrations made them), and the foreign-key triggers are skipped
// (the rows reference existing customers by construction). Constraint indexes stay.
const seedPrepareSQL = `
SET LOCAL maintenance_work_mem = '1GB';
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE bench_indexes ON COMMIT DROP AS
  SELECT i.indexname, i.indexdef FROM pg_indexes i
  WHERE i.schemaname = 'public' AND i.tablename IN ('customers', 'purchases')
    AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conname = i.indexname);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM bench_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$`

const seedFinishSQL = `
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM bench_indexes LOOP EXECUTE r.indexdef; END LOOP;
END $$`

// BenchmarkRecalculate1M times the recalculation of one organization of 1,000,000 customers
// and 10,000,000 purchases. It is heavy (seeding takes minutes), so it runs only when asked:
//
//	RFM_BENCH=1 go test ./segments -run XXX -bench Recalculate1M -benchtime 1x -timeout 60m
//
// By default it seeds the throwaway test cluster. With RFM_BENCH_DIR=/some/dir it uses (and
// keeps running, on RFM_BENCH_PORT, default 55432) a cluster there instead, seeded on the first
// run only, so the plan can be studied between runs (BENCHMARKS.md, "RFM recalculation").
//
// first: customer_segments empty (1M inserts); again: every row already there (1M updates,
// the nightly case).
func BenchmarkRecalculate1M(b *testing.B) {
	if os.Getenv("RFM_BENCH") == "" {
		b.Skip("set RFM_BENCH=1 to seed 1M customers and 10M purchases and time the recalculation")
	}
	ctx := context.Background()
	ownerURL, appURL := testdb.Get(b).OwnerURL, testdb.Get(b).AppURL
	if dir := os.Getenv("RFM_BENCH_DIR"); dir != "" {
		port := 55432
		if p, err := strconv.Atoi(os.Getenv("RFM_BENCH_PORT")); err == nil {
			port = p
		}
		// shared_buffers as a server with this much data would have (the default 128MB is a
		// laptop's); durability off: the benchmark measures the work, not the disk.
		d, err := embedded.Provision(ctx, dir, port, "customer_service_bench", "shared_buffers=2GB", "fsync=off", "synchronous_commit=off", "full_page_writes=off")
		if err != nil {
			b.Fatal(err)
		}
		ownerURL, appURL = d.OwnerURL, d.AppURL
	}
	owner, err := db.Open(ctx, ownerURL, db.Options{MaxConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer owner.Close()
	app, err := db.Open(ctx, appURL, db.Options{MaxConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	now := time.Now().UTC()
	seedBench(b, owner, now)

	run := func(b *testing.B) {
		b.ReportAllocs()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			// As autovacuum has by the next night: the last run's old row versions gone.
			b.StopTimer()
			if _, err := owner.NewRaw(`VACUUM customer_segments`).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := recalculateIn(ctx, app, now)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Scored), "customers")
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB")
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := owner.NewRaw(`DELETE FROM customer_segments WHERE organization_id = ?`, benchOrg).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := owner.NewRaw(`VACUUM customer_segments`).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := recalculateIn(ctx, app, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", run)
}

func recalculateIn(ctx context.Context, app *db.Pool, now time.Time) (res *Result, err error) {
	err = db.InOrg(ctx, app, benchOrg, false, func(ctx context.Context, tx bun.Tx) error {
		res, err = Recalculate(ctx, tx, benchOrg, now)
		return err
	})
	return res, err
}

// seedBench loads the benchmark organization unless it is there already.
func seedBench(b *testing.B, owner *db.Pool, now time.Time) {
	ctx := context.Background()
	var n int
	if err := owner.NewRaw(`SELECT count(*) FROM purchases WHERE organization_id = ?`, benchOrg).Scan(ctx, &n); err != nil {
		b.Fatal(err)
	}
	if n == 10_000_000 {
		b.Logf("reusing the seeded organization")
		return
	}
	start := time.Now()
	err := owner.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, q := range []string{`DELETE FROM customers WHERE organization_id = ?0`, seedPrepareSQL,
			seedCustomersSQL, seedPurchasesSQL, seedFinishSQL} {
			if _, err := tx.NewRaw(q, benchOrg, now).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// As autovacuum would have by the time of a nightly run: statistics and visibility map.
	if _, err := owner.NewRaw(`VACUUM (ANALYZE) customers, purchases, customer_segments`).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 1,000,000 customers and 10,000,000 purchases in %s", time.Since(start).Round(time.Second))
}
