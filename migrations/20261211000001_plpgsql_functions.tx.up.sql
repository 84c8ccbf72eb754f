-- customer_search_ids() and tenant_organization_ids() (init migration) become PL/pgSQL: Citus
-- cannot plan a SQL-language function with parameters distributed, and does not propagate a
-- BEGIN ATOMIC body that depends on a table that was not yet distributed. Same bodies, same
-- owner, grants and SECURITY DEFINER or INVOKER (CREATE OR REPLACE keeps the owner and the
-- grants; the security attribute is restored as it was). On plain PostgreSQL nothing changes
-- for the planner: neither function was inlined (SECURITY DEFINER and SET forbid it), and the
-- search's LIKE still uses the trigram index (the statement is planned with the term known).
-- On Citus the search runs inside the customers statement's query on the organization's
-- shard, and reads customers from there: citus.allow_nested_distributed_execution lets it (a
-- single-shard read by organization). On plain PostgreSQL the setting is an inert
-- placeholder.
DO $$
DECLARE
  search_definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure);
  orgs_definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.tenant_organization_ids()'::regprocedure);
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
  CREATE OR REPLACE FUNCTION public.tenant_organization_ids() RETURNS SETOF uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $body$
  BEGIN
    RETURN QUERY SELECT DISTINCT organization_id FROM public.customers;
  END
  $body$;
  IF NOT search_definer THEN
    ALTER FUNCTION public.customer_search_ids(text) SECURITY INVOKER;
  END IF;
  IF NOT orgs_definer THEN
    ALTER FUNCTION public.tenant_organization_ids() SECURITY INVOKER;
  END IF;
END $$;
