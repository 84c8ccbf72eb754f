-- §6 RFM recalculation at scale (see docs/decisions-segments.md and BENCHMARKS.md).

-- The recalculation reads every purchase of the organization once, grouped by customer: this
-- index hands them over in customer order with the columns it sums, so the aggregation streams
-- (an index-only scan, no hash table of every customer, no heap access once vacuumed).
-- On a large existing table, build it first with CREATE INDEX CONCURRENTLY under this name:
-- IF NOT EXISTS then makes this statement a no-op instead of locking out purchases.
CREATE INDEX IF NOT EXISTS purchases_rfm_idx ON purchases (organization_id, customer_id)
  INCLUDE (occurred_at, amount, refunded_amount);

-- Every recalculation rewrites every row of the organization. With half of each page free,
-- the new version of a row whose segment code and lifetime value did not change (most rows,
-- most nights) fits on its own page: a HOT update, no index writes.
ALTER TABLE customer_segments SET (fillfactor = 50);
