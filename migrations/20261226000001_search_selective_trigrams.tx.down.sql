-- customer_search_ids() as 20261211000001_plpgsql_functions left it (the whole term's LIKE
-- handed to the index), its owner, grants and SECURITY DEFINER or INVOKER kept; then the
-- helpers and the statistic go.
DO $$
DECLARE
  definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure);
BEGIN
  CREATE OR REPLACE FUNCTION public.customer_search_ids(term text) RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    SET citus.allow_nested_distributed_execution = on
  AS $body$
  BEGIN
    RETURN QUERY EXECUTE
      'SELECT customer_id FROM public.customers WHERE organization_id = $1 AND search_text LIKE $2'
      USING NULLIF(current_setting('app.current_organization_id', true), '')::uuid,
            '%' || public.app_unaccent(lower(term)) || '%';
  END
  $body$;
  IF NOT definer THEN
    ALTER FUNCTION public.customer_search_ids(text) SECURITY INVOKER;
  END IF;
END $$;
DROP FUNCTION customer_search_index_parts(text, text[]);
DROP FUNCTION customer_search_common_trigrams();
DROP STATISTICS customers_search_trigrams;
