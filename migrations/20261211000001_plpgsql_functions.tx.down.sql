-- Reverses 20261211000001_plpgsql_functions: the SQL-language bodies of the init migration,
-- owner, grants and security attribute kept as they are.
DO $$
DECLARE
  search_definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.customer_search_ids(text)'::regprocedure);
  orgs_definer boolean := (SELECT prosecdef FROM pg_proc WHERE oid = 'public.tenant_organization_ids()'::regprocedure);
BEGIN
  CREATE OR REPLACE FUNCTION public.customer_search_ids(term text) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  BEGIN ATOMIC
    SELECT customer_id FROM public.customers
    WHERE organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid
      AND search_text LIKE '%' || public.app_unaccent(lower(term)) || '%';
  END;
  CREATE OR REPLACE FUNCTION public.tenant_organization_ids() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  BEGIN ATOMIC
    SELECT DISTINCT organization_id FROM public.customers;
  END;
  IF NOT search_definer THEN
    ALTER FUNCTION public.customer_search_ids(text) SECURITY INVOKER;
  END IF;
  IF NOT orgs_definer THEN
    ALTER FUNCTION public.tenant_organization_ids() SECURITY INVOKER;
  END IF;
END $$;
