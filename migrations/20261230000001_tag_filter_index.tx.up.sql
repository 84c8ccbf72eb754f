-- A filter by tag uses the tags' GIN index under row-level security (issue 17). `tags && $1`
-- (tagsAny) and `tags @> $1` (tagsAll) are not LEAKPROOF (arrayoverlap, arraycontains), so as
-- the server's role PostgreSQL never hands them to customers_tags_idx: a first page filtered
-- by a tag few customers have read every customer of the organization. The search was fixed
-- the same way (init migration, customer_search_ids): a SECURITY DEFINER function applies the
-- caller's organization itself and hands the index the condition; the caller's statement
-- keeps the condition and reads customers under RLS, so the policy is still the enforcement.
--
-- customer_tag_ids(tags, match_all): the ids of the customers of the organization set in the
-- transaction whose tags overlap `tags` (match_all false) or contain them all (true). Owned by
-- customer_service_definer (bypasses RLS, reads only customers' id, organization, search text
-- and now tags) when the search function is; otherwise, as the search, it runs as its caller
-- (no definer role; on Citus `citus distribute` makes it SECURITY INVOKER, citus.AsCaller),
-- where it reads the same rows as the plain condition and customer_tags_indexed() says not
-- to use it.
CREATE FUNCTION customer_tag_ids(tags varchar[], match_all boolean) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  SET citus.allow_nested_distributed_execution = on
  ROWS 100
AS $body$
BEGIN
  RETURN QUERY EXECUTE
    'SELECT customer_id FROM public.customers WHERE organization_id = $1 AND tags '
      || CASE WHEN match_all THEN '@>' ELSE '&&' END || ' $2'
    USING NULLIF(current_setting('app.current_organization_id', true), '')::uuid, tags;
END
$body$;
REVOKE ALL ON FUNCTION customer_tag_ids(varchar[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tag_ids(varchar[], boolean) TO customer_service_app;

-- customer_tags_indexed(tags, match_all): whether a filter by these tags should go through
-- customer_tag_ids(). Only where the index helps: for a tag most customers have, the newest-
-- first scan of the list finds a page after reading about a page of rows, while the index would
-- hand over every customer with the tag. The estimate is PostgreSQL's own statistic of the
-- column (pg_stats.most_common_elems and most_common_elem_freqs of customers.tags, kept by
-- ANALYZE, autovacuum's included) times the table's rows: tagsAny's customers are at most the
-- sum of its tags', tagsAll's at most its rarest tag's; a tag not in the statistic counts as
-- half the rarest one there, as PostgreSQL's own estimate of an array element does. At most
-- 1,000 customers estimated: the index (docs/decisions-reads.md for the measurement). An
-- empty tagsAny (matches nobody) is indexed (the index answers at once); an empty tagsAll
-- (everyone) is not.
--
-- Runs as the tables' owner: only the owner, bypassing row-level security as a superuser does,
-- may read a statistic of the table. Nothing is kept in the session: the server keeps the
-- answers a minute per organization (customers/tagindex.go), so the statistic is read at most
-- that often. The answer only chooses the plan of a filter, never its result. No statistic
-- (before the first ANALYZE), an owner that may not read it, or customer_tag_ids() running as
-- its caller: false, the plain condition as before. The search path names pg_temp last and the
-- catalogs are qualified: a temporary view of the caller's never stands in for a catalog.
CREATE FUNCTION customer_tags_indexed(tags varchar[], match_all boolean) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $body$
DECLARE
  elems text[];
  elem_freqs real[];
  total float8;
  freqs jsonb;
  unseen float8;
  estimate float8;
BEGIN
  IF NOT coalesce((SELECT p.prosecdef FROM pg_catalog.pg_proc AS p
                   WHERE p.oid = pg_catalog.to_regprocedure('public.customer_tag_ids(character varying[], boolean)')), false)
     OR NOT pg_catalog.has_table_privilege('pg_catalog.pg_statistic', 'SELECT') THEN
    RETURN false;
  END IF;
  SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs INTO elems, elem_freqs
  FROM pg_catalog.pg_stats AS s
  WHERE s.schemaname = 'public' AND s.tablename = 'customers' AND s.attname = 'tags' AND NOT s.inherited;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- No element kept (every tag rarer than ANALYZE's cut-off): every tag counts as none.
  SELECT coalesce(pg_catalog.jsonb_object_agg(u.tag, u.freq), '{}'), coalesce(min(u.freq) / 2, 0) INTO freqs, unseen
  FROM unnest(elems, elem_freqs) AS u(tag, freq)
  WHERE u.tag IS NOT NULL;
  total := (SELECT greatest(c.reltuples, 0) FROM pg_catalog.pg_class AS c WHERE c.oid = 'public.customers'::regclass);
  IF match_all THEN
    estimate := (SELECT min(coalesce((freqs ->> t)::float8, unseen)) FROM unnest(tags) AS t);
  ELSE
    estimate := (SELECT coalesce(sum(coalesce((freqs ->> t)::float8, unseen)), 0) FROM unnest(tags) AS t);
  END IF;
  RETURN coalesce(estimate * total <= 1000, false);
END
$body$;
REVOKE ALL ON FUNCTION customer_tags_indexed(varchar[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tags_indexed(varchar[], boolean) TO customer_service_app;

-- As the search: owned by the definer role when customer_search_ids() is SECURITY DEFINER
-- (a superuser ran the init migration, and the database is not distributed with Citus),
-- otherwise run as the caller.
DO $$
BEGIN
  IF (SELECT prosecdef FROM pg_catalog.pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure)
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
    GRANT SELECT (tags) ON public.customers TO customer_service_definer;
    ALTER FUNCTION public.customer_tag_ids(varchar[], boolean) OWNER TO customer_service_definer;
  ELSE
    ALTER FUNCTION public.customer_tag_ids(varchar[], boolean) SECURITY INVOKER;
    RAISE NOTICE 'customer search runs as its caller: so does the filter by tag, without the tags index';
  END IF;
END $$;
