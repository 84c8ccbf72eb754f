-- Reverses 20261212000001_organizations_registry: tenant_organization_ids() as
-- 20261211000001_plpgsql_functions left it (PL/pgSQL; owned by customer_service_definer and
-- SECURITY DEFINER when a superuser runs this and that role exists, as the init migration
-- makes it; else SECURITY INVOKER), then the registry goes.
CREATE FUNCTION public.tenant_organization_ids() RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $body$
BEGIN
  RETURN QUERY SELECT DISTINCT organization_id FROM public.customers;
END
$body$;
REVOKE ALL ON FUNCTION tenant_organization_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_organization_ids() TO customer_service_app;
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
    ALTER FUNCTION tenant_organization_ids() OWNER TO customer_service_definer;
  ELSE
    ALTER FUNCTION tenant_organization_ids() SECURITY INVOKER;
  END IF;
END $$;

DROP TABLE organizations;
