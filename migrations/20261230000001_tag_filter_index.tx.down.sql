-- The filter by tag as before: the plain conditions under RLS, without the index.
DROP FUNCTION customer_tags_indexed(varchar[], boolean);
DROP FUNCTION customer_tag_ids(varchar[], boolean);
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
    REVOKE SELECT (tags) ON public.customers FROM customer_service_definer;
  END IF;
END $$;
