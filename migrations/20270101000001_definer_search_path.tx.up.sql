-- A SECURITY DEFINER function runs with its owner's rights, and the owner of the statistic
-- readers (customer_search_common_trigrams) is whoever ran the migrations, a superuser where
-- the definer role exists. Their search path was `pg_catalog, public`: without pg_temp named,
-- PostgreSQL searches the session's temporary schema first for tables and views, and the
-- server's role may create temporary objects (PostgreSQL grants TEMP to everyone). A temporary
-- view named pg_statistic_ext that calls a function of the caller's own would then have run
-- that function as the owner. With pg_temp named last, a name resolves to the catalog or to
-- public first, whatever the session created. Every SECURITY DEFINER function of the schema
-- gets it; a migrations test checks that each one has it, so a later CREATE OR REPLACE that
-- drops it fails the tests.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc AS p
           WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
  END LOOP;
END $$;
