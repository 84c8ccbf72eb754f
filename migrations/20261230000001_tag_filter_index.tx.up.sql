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
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
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
-- sum of its tags' (a tag not in the statistic counts as none: rarer than any there), tagsAll's
-- at most its rarest tag's. At most 1,000 customers estimated: the index (docs/decisions-reads.md
-- for the measurement). An empty tagsAny (matches nobody) is indexed (the index answers nothing
-- at once); an empty tagsAll (everyone) is not.
--
-- Runs as the tables' owner: only the owner, bypassing row-level security as a superuser does,
-- may read a statistic of the table. The statistic is read once per session and ANALYZE: the
-- frequencies are kept in a session setting tagged with the version of the statistic (the
-- xmin of its pg_statistic row, which each ANALYZE replaces). Whatever the setting holds, the
-- answer of a filter is the same: this only chooses its plan. No statistic (before the first
-- ANALYZE), an owner that may not read it, or customer_tag_ids() running as its caller: false,
-- the plain condition as before.
CREATE FUNCTION customer_tags_indexed(tags varchar[], match_all boolean) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $body$
DECLARE
  version text;
  cached text := current_setting('app.customer_tag_frequencies', true);
  total float8;
  freqs jsonb;
  estimate float8;
BEGIN
  IF NOT coalesce((SELECT prosecdef FROM pg_proc WHERE oid = to_regprocedure('public.customer_tag_ids(character varying[], boolean)')), false)
     OR NOT has_table_privilege('pg_catalog.pg_statistic', 'SELECT') THEN
    RETURN false;
  END IF;
  version := (SELECT s.xmin::text FROM pg_statistic AS s JOIN pg_attribute AS a ON a.attrelid = s.starelid AND a.attnum = s.staattnum
              WHERE s.starelid = 'public.customers'::regclass AND a.attname = 'tags' AND NOT s.stainherit);
  IF version IS NULL THEN
    RETURN false;
  END IF;
  IF cached LIKE version || ':%' THEN
    BEGIN
      cached := substr(cached, length(version) + 2);
      total := split_part(cached, ':', 1)::float8;
      freqs := substr(cached, position(':' IN cached) + 1)::jsonb;
    EXCEPTION WHEN others THEN
      total := NULL; -- not what this function wrote: read the statistic again
    END;
  END IF;
  IF total IS NULL OR freqs IS NULL OR jsonb_typeof(freqs) <> 'object' THEN
    total := (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'public.customers'::regclass);
    SELECT coalesce(jsonb_object_agg(u.tag, u.freq), '{}') INTO freqs
    FROM pg_stats AS s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(tag, freq)
    WHERE s.schemaname = 'public' AND s.tablename = 'customers' AND s.attname = 'tags' AND NOT s.inherited
      AND u.tag IS NOT NULL;
    PERFORM set_config('app.customer_tag_frequencies', version || ':' || total || ':' || freqs::text, false);
  END IF;
  IF match_all THEN
    estimate := (SELECT min(coalesce((freqs ->> t)::float8, 0)) FROM unnest(tags) AS t);
  ELSE
    estimate := (SELECT coalesce(sum(coalesce((freqs ->> t)::float8, 0)), 0) FROM unnest(tags) AS t);
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
  IF (SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure)
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
    GRANT SELECT (tags) ON public.customers TO customer_service_definer;
    ALTER FUNCTION public.customer_tag_ids(varchar[], boolean) OWNER TO customer_service_definer;
  ELSE
    ALTER FUNCTION public.customer_tag_ids(varchar[], boolean) SECURITY INVOKER;
    RAISE NOTICE 'customer search runs as its caller: so does the filter by tag, without the tags index';
  END IF;
END $$;
