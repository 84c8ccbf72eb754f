-- The search path the SECURITY DEFINER functions had before (without pg_temp, which the
-- session's temporary schema then precedes: see the up migration).
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc AS p
           WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef LOOP
    EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public', f);
  END LOOP;
END $$;
