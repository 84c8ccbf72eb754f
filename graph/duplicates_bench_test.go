package graph_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/internal/testkit/apitest"
)

// The duplicate candidates benchmark (BENCHMARKS.md, "Duplicate candidates"): one
// organization of 1,000,000 customers, 50,000 of them (5 %) planted duplicates of another.
// ?0 is the organization, ?1 now. The originals have random-looking names, an email, a
// phone, birth dates over 60 years, half a cédula, a fifth a default address; each 19th
// original has a duplicate, by thirds: a similar name and the same birth date (score 50); the
// same and its cédula in an old spelling as a RUC (100); a similar name and the same default
// address line, no birth date (40, under the default minScore).
const seedDuplicatesSQL = `
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE bench_indexes ON COMMIT DROP AS
  SELECT i.indexname, i.indexdef FROM pg_indexes i
  WHERE i.schemaname = 'public' AND i.tablename IN ('customers', 'addresses')
    AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conname = i.indexname);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM bench_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;
CREATE TEMP TABLE bench_originals ON COMMIT DROP AS
  SELECT i, gen_random_uuid() AS id, initcap(substr(md5('f' || i), 1, 8)) AS first_name,
         initcap(substr(md5('l' || i), 1, 10)) AS last_name,
         date '1940-01-01' + ((i::bigint * 7919) % 22000)::int AS birth_date
  FROM generate_series(1, 950000) AS i;
INSERT INTO customers (customer_id, organization_id, first_name, last_name, email, phone, birth_date,
                       document_type, document_number, created_at)
SELECT o.id, ?0, o.first_name, o.last_name, 'c' || o.i || '@example.com', '+5076' || lpad(o.i::text, 7, '0'), o.birth_date,
       CASE WHEN o.i % 2 = 0 THEN 'cedula' END, CASE WHEN o.i % 2 = 0 THEN '8-' || (1 + o.i / 100000) || '-' || (o.i % 100000) END,
       ?1::timestamptz - (o.i % 1500) * interval '1 day'
FROM bench_originals o;
INSERT INTO addresses (organization_id, customer_id, address_line1, city, is_default)
SELECT ?0, o.id, 'Calle ' || (o.i % 5000) || ' Casa ' || o.i, 'Panamá', true
FROM bench_originals o WHERE o.i % 5 = 0 OR (o.i % 19 = 0 AND (o.i / 19) % 3 = 2);
CREATE TEMP TABLE bench_duplicates ON COMMIT DROP AS
  SELECT o.i, gen_random_uuid() AS id, o.first_name, o.last_name || 'a' AS last_name, (o.i / 19) % 3 AS kind, o.birth_date
  FROM bench_originals o WHERE o.i % 19 = 0;
INSERT INTO customers (customer_id, organization_id, first_name, last_name, birth_date, document_type, document_number)
SELECT d.id, ?0, d.first_name, d.last_name, CASE WHEN d.kind < 2 THEN d.birth_date END,
       CASE WHEN d.kind = 1 AND d.i % 2 = 0 THEN 'ruc' END,
       CASE WHEN d.kind = 1 AND d.i % 2 = 0 THEN '8-0' || (1 + d.i / 100000) || '-00' || (d.i % 100000) END
FROM bench_duplicates d;
INSERT INTO addresses (organization_id, customer_id, address_line1, city, is_default)
SELECT ?0, d.id, upper('Calle ' || (d.i % 5000) || '  Casa ' || d.i), 'Panamá', true
FROM bench_duplicates d WHERE d.kind = 2;
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM bench_indexes LOOP EXECUTE r.indexdef; END LOOP;
END $$`

// BenchmarkDuplicateCandidates1M times the first page of duplicateCandidates (20 pairs, both
// customers' names rendered) through the HTTP handler over 1,000,000 customers, and logs the
// pairs statement's plan (EXPLAIN ANALYZE as the server's role), failing on a sequential scan.
// Seeding takes minutes, so it runs only when asked:
//
//	DUPLICATES_BENCH=1 go test ./graph -run XXX -bench DuplicateCandidates1M -benchtime 10x -timeout 30m
func BenchmarkDuplicateCandidates1M(b *testing.B) {
	if os.Getenv("DUPLICATES_BENCH") == "" {
		b.Skip("set DUPLICATES_BENCH=1 to seed 1M customers and time the first page of duplicate candidates")
	}
	ctx := context.Background()
	srv := apitest.New(b)
	c := srv.NewOrg(b, auth.Viewer)
	start := time.Now()
	err := srv.Owner.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw(seedDuplicatesSQL, c.Org, time.Now().UTC()).Exec(ctx)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Owner.NewRaw(`VACUUM (ANALYZE) customers, addresses`).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded 1,000,000 customers in %s", time.Since(start).Round(time.Second))

	for _, min := range []int{50, 40} {
		plan := explainDuplicates(b, srv, c.Org, min)
		b.Logf("minScore %d, the pairs statement:\n%s", min, plan)
		if strings.Contains(plan, "Seq Scan") {
			b.Fatalf("minScore %d: a sequential scan", min)
		}
	}
	const query = `{ duplicateCandidates(first: 20) { edges { node { customer { id fullName } duplicate { id fullName } score reasons } } pageInfo { hasNextPage } } }`
	var out struct {
		DuplicateCandidates struct {
			Edges []struct{ Node struct{ Score int } }
		}
	}
	c.Must(b, query, nil, &out)
	if len(out.DuplicateCandidates.Edges) != 20 {
		b.Fatalf("%d pairs on the first page", len(out.DuplicateCandidates.Edges))
	}
	b.ResetTimer()
	for b.Loop() {
		c.Must(b, query, nil, &out)
	}
}

// explainDuplicates is the plan of the first page's pairs as the server's role runs it.
func explainDuplicates(b *testing.B, srv *apitest.Server, org uuid.UUID, min int) string {
	var args db.Args
	q, err := customers.Duplicates(org, customers.DuplicateParams{MinScore: &min}, &args)
	if err != nil {
		b.Fatal(err)
	}
	var plan []string
	err = db.ReadInOrg(context.Background(), db.NewHandle(srv.App, nil), org, db.Stmt{
		SQL: "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + q.SQL, Args: args.Values(),
		Row: func(values [][]byte) error { plan = append(plan, string(values[0])); return nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
