-- The search path the SECURITY DEFINER functions of the search had before (without pg_temp,
-- which the session's temporary schema then precedes: see the up migration). Only those two:
-- the filter by tag's functions were created with pg_temp named.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc AS p
           WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
             AND p.proname IN ('customer_search_ids', 'customer_search_common_trigrams') LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public', f);
  END LOOP;
END $$;
