-- customerStats of a whole organization without counting its customers (issue 17): the
-- figures of the unfiltered customerStats — customers by status, by type, by loyalty tier and
-- by segment — kept as counters by triggers on the three tables, in the writing transaction,
-- so a read sums a few dozen rows instead of joining every customer (1 s at 100,000
-- customers, past the request deadline at 1,000,000). Exact: a counter changes in the
-- transaction of the row it counts, so a reader's snapshot sees both or neither
-- (docs/decisions-reads.md).
--
-- The total is the sum of the status counters; customers without a loyalty account or a
-- segment are the total less the tier or segment counters. Each counter is split over 16
-- rows (shard, chosen by the writing connection) so that concurrent writers of one
-- organization do not queue on one row lock; a read sums the shards.
CREATE TABLE customer_counts (
  organization_id uuid NOT NULL,
  dimension       varchar(10) NOT NULL CHECK (dimension IN ('status', 'type', 'tier', 'segment')),
  value           varchar(20) NOT NULL,
  shard           smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
  n               bigint NOT NULL,
  CONSTRAINT customer_counts_pkey PRIMARY KEY (organization_id, dimension, value, shard)
);
ALTER TABLE customer_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_counts
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);
-- The triggers run as the writer (the server's role, in the organization's transaction).
GRANT SELECT, INSERT, UPDATE ON customer_counts TO customer_service_app;

-- Rows added or removed by a statement are counted once per statement, from its transition
-- tables (an import or the segment job writes thousands in one); a row's change of status,
-- type or tier is counted per row (the hot write paths — a purchase updates its loyalty
-- account — fire nothing unless the counted column changes). Each adds its changes to the
-- writing connection's shard of each counter, in the order of the key (concurrent writers of
-- one shard lock its rows in one order). Plain SQL in each branch: the same upsert through a
-- shared helper taking the changes as JSON cost twice as much a statement (measured).
CREATE FUNCTION customer_counts_customers() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $body$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT NEW.organization_id, d.dimension, d.value, (pg_backend_pid() % 16)::smallint, sum(d.delta)
    FROM (VALUES ('status', OLD.status, -1), ('status', NEW.status, 1),
                 ('type', OLD.customer_type, -1), ('type', NEW.customer_type, 1)) AS d(dimension, value, delta)
    GROUP BY d.dimension, d.value HAVING sum(d.delta) <> 0 ORDER BY d.dimension, d.value
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT a.organization_id, d.dimension, d.value, (pg_backend_pid() % 16)::smallint, count(*)
    FROM added AS a, LATERAL (VALUES ('status', a.status), ('type', a.customer_type)) AS d(dimension, value)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSE
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT r.organization_id, d.dimension, d.value, (pg_backend_pid() % 16)::smallint, -count(*)
    FROM removed AS r, LATERAL (VALUES ('status', r.status), ('type', r.customer_type)) AS d(dimension, value)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$body$;

CREATE FUNCTION customer_counts_loyalty() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $body$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT NEW.organization_id, 'tier', d.value, (pg_backend_pid() % 16)::smallint, d.delta
    FROM (VALUES (OLD.tier, -1), (NEW.tier, 1)) AS d(value, delta) ORDER BY d.value
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT organization_id, 'tier', tier, (pg_backend_pid() % 16)::smallint, count(*)
    FROM added GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSE
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT organization_id, 'tier', tier, (pg_backend_pid() % 16)::smallint, -count(*)
    FROM removed GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$body$;

-- The segment job rewrites an organization's segments in a few statements: counted per
-- statement, updates included (the new rows less the old).
CREATE FUNCTION customer_counts_segments() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $body$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT organization_id, 'segment', segment_code, (pg_backend_pid() % 16)::smallint, count(*)
    FROM added GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT organization_id, 'segment', segment_code, (pg_backend_pid() % 16)::smallint, -count(*)
    FROM removed GROUP BY 1, 3 ORDER BY 1, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  ELSE
    INSERT INTO public.customer_counts AS cc (organization_id, dimension, value, shard, n)
    SELECT c.organization_id, 'segment', c.segment_code, (pg_backend_pid() % 16)::smallint, sum(c.delta)
    FROM (SELECT organization_id, segment_code, 1 AS delta FROM added
          UNION ALL
          SELECT organization_id, segment_code, -1 FROM removed) AS c
    GROUP BY 1, 3 HAVING sum(c.delta) <> 0 ORDER BY 1, 3
    ON CONFLICT (organization_id, dimension, value, shard) DO UPDATE SET n = cc.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$body$;

CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_customers();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_customers();
CREATE TRIGGER customer_counts_update AFTER UPDATE OF status, customer_type ON customers
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.customer_type IS DISTINCT FROM NEW.customer_type)
  EXECUTE FUNCTION customer_counts_customers();
CREATE TRIGGER customer_counts_insert AFTER INSERT ON loyalty_accounts
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_loyalty();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON loyalty_accounts
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_loyalty();
CREATE TRIGGER customer_counts_update AFTER UPDATE OF tier ON loyalty_accounts
  FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier)
  EXECUTE FUNCTION customer_counts_loyalty();
CREATE TRIGGER customer_counts_insert AFTER INSERT ON customer_segments
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_segments();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customer_segments
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_segments();
CREATE TRIGGER customer_counts_update AFTER UPDATE ON customer_segments
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_segments();

-- The counters of the rows already there (the triggers above hold the three tables' writers
-- off until this transaction commits), in shard 0.
INSERT INTO customer_counts (organization_id, dimension, value, shard, n)
SELECT organization_id, 'status', status, 0, count(*) FROM customers GROUP BY 1, 3
UNION ALL
SELECT organization_id, 'type', customer_type, 0, count(*) FROM customers GROUP BY 1, 3
UNION ALL
SELECT organization_id, 'tier', tier, 0, count(*) FROM loyalty_accounts GROUP BY 1, 3
UNION ALL
SELECT organization_id, 'segment', segment_code, 0, count(*) FROM customer_segments GROUP BY 1, 3;
