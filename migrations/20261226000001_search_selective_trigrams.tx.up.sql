-- The search by a substring stays flat as an organization grows (issue 17). The trigram
-- index serves `search_text LIKE '%term%'` by intersecting the posting lists of every
-- trigram of the term; a trigram most rows have (`use` and `ser` of `user952774@`, the `507`
-- of every Panamanian phone, a common name or e-mail domain) has a posting list as long as
-- the table, and the index reads most of it for every candidate of the rarer ones: 766
-- buffers at 1,000,000 customers against 95 at 100,000 for one such term. Now the index is
-- handed only the term's selective pieces, and the whole term is checked on the rows they
-- find: the same rows as before, without reading the common trigrams' lists.
--
-- Which trigrams are common is PostgreSQL's own statistic: extended statistics on the
-- trigrams of search_text give, after each ANALYZE (autovacuum's included), the trigrams in
-- at least a fraction of the sampled rows with their frequency. Until the table is analyzed
-- there are none, and the search hands the index the whole term, as before.
CREATE STATISTICS customers_search_trigrams ON (public.show_trgm(search_text)) FROM customers;

-- The trigrams in at least 2 % of the customers (of every organization: the statistic is the
-- table's). Runs as its owner, the tables' owner: only the owner (bypassing row-level
-- security, as a superuser does) may read a statistic of the table. Only the search function may call it
-- (granted below to its owner): PostgreSQL hides a table's statistics from roles under its
-- row-level security, and so does this. Reading the statistic (detoasting it) costs about
-- half a millisecond, so the list is kept for the session in a setting, with the version of
-- the statistic it was read from (the xmin of its row, which each ANALYZE replaces): one
-- catalog lookup a search. Whatever the setting holds, the search's answer is the same: the
-- list only chooses which substrings of the term the index is handed.
CREATE FUNCTION customer_search_common_trigrams() RETURNS text[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $body$
DECLARE
  version text;
  cached text := current_setting('app.search_common_trigrams', true);
  common text[];
BEGIN
  -- An owner that may not read the statistics (not a superuser) has no list: the whole term.
  IF NOT has_table_privilege('pg_catalog.pg_statistic_ext_data', 'SELECT') THEN
    RETURN '{}';
  END IF;
  version := (SELECT d.xmin::text FROM pg_statistic_ext s JOIN pg_statistic_ext_data d ON d.stxoid = s.oid
              WHERE s.stxname = 'customers_search_trigrams' AND s.stxnamespace = 'public'::regnamespace);
  IF version IS NULL THEN
    RETURN '{}';
  END IF;
  IF cached LIKE version || ':%' THEN
    RETURN substr(cached, length(version) + 2)::text[];
  END IF;
  SELECT coalesce(array_agg(u.trigram), '{}') INTO common
  FROM pg_stats_ext_exprs AS s,
    unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(trigram, freq)
  WHERE s.schemaname = 'public' AND s.statistics_name = 'customers_search_trigrams'
    AND u.trigram IS NOT NULL AND u.freq >= 0.02;
  PERFORM set_config('app.search_common_trigrams', version || ':' || common::text, false);
  RETURN common;
END
$body$;
REVOKE ALL ON FUNCTION customer_search_common_trigrams() FROM PUBLIC;

-- The pieces of a normalized search term that the index may be handed: within each word (a
-- run of letters and digits, as pg_trgm splits text), the longest runs of consecutive
-- trigrams that are not in common. Each piece is a substring of the term, so a row containing
-- the term contains every piece: the pieces find a superset of the term's rows. A piece never
-- holds LIKE's wildcards or escape character (they are not letters or digits). Empty when
-- every trigram is common or the term has no word of three characters.
CREATE FUNCTION customer_search_index_parts(term text, common text[]) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, public
AS $body$
DECLARE
  word text;
  run_start int;
  parts text[] := '{}';
BEGIN
  FOR word IN SELECT m[1] FROM regexp_matches(term, '([[:alnum:]]{3,})', 'g') AS m LOOP
    run_start := NULL;
    FOR i IN 1 .. length(word) - 2 LOOP
      IF substr(word, i, 3) = ANY (common) THEN
        IF run_start IS NOT NULL THEN
          parts := parts || substr(word, run_start, i - run_start + 2);
          run_start := NULL;
        END IF;
      ELSIF run_start IS NULL THEN
        run_start := i;
      END IF;
    END LOOP;
    IF run_start IS NOT NULL THEN
      parts := parts || substr(word, run_start);
    END IF;
  END LOOP;
  RETURN parts;
END
$body$;
REVOKE ALL ON FUNCTION customer_search_index_parts(text, text[]) FROM PUBLIC;

-- customer_search_ids(term): the same answer as before (the term's LIKE, for the
-- organization set in the transaction), found through the term's selective pieces when it
-- has some. The whole term's LIKE is then written on `search_text || ''`, which the index
-- cannot serve, so the planner checks it on the rows the pieces found instead of handing the
-- index its common trigrams too. On Citus (run as its caller, without the index) and without
-- the definer role the caller may not read the statistic, and the function is as before.
-- CREATE OR REPLACE keeps the owner and the grants; SECURITY DEFINER or INVOKER is restored
-- as it was.
DO $$
DECLARE
  definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure);
BEGIN
  CREATE OR REPLACE FUNCTION public.customer_search_ids(term text) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    SET citus.allow_nested_distributed_execution = on
  AS $body$
  DECLARE
    norm text := public.app_unaccent(lower(term));
    parts text[];
    stmt text := 'SELECT customer_id FROM public.customers WHERE organization_id = $1';
  BEGIN
    IF has_function_privilege('public.customer_search_common_trigrams()', 'EXECUTE') THEN
      parts := public.customer_search_index_parts(norm, public.customer_search_common_trigrams());
    END IF;
    IF cardinality(parts) > 0 THEN
      SELECT stmt || string_agg(format(' AND search_text LIKE %L', '%' || p || '%'), '')
          || ' AND (search_text || '''') LIKE $2'
        INTO stmt FROM unnest(parts) AS p;
    ELSE
      stmt := stmt || ' AND search_text LIKE $2';
    END IF;
    RETURN QUERY EXECUTE stmt
      USING NULLIF(current_setting('app.current_organization_id', true), '')::uuid, '%' || norm || '%';
  END
  $body$;
  IF NOT definer THEN
    ALTER FUNCTION public.customer_search_ids(text) SECURITY INVOKER;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
    GRANT EXECUTE ON FUNCTION public.customer_search_common_trigrams() TO customer_service_definer;
    GRANT EXECUTE ON FUNCTION public.customer_search_index_parts(text, text[]) TO customer_service_definer;
  END IF;
END $$;
