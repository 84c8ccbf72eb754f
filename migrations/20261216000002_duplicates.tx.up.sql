-- §10 duplicateCandidates: the indexes through which a customer's candidates are looked up,
-- one per reason (customers.Duplicates). The canonical document
-- (customers_document_canonical_idx), the email and the phone (the unique keys) have theirs.

-- Two address lines are the same line lower-cased, without accents, with runs of spaces
-- made one and trimmed.
-- PL/pgSQL, so that it is not inlined: its index condition is the function, LEAKPROOF
-- (it never raises), which row-level security lets the planner use (see app_document_canonical).
CREATE FUNCTION app_address_line_key(line text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
  RETURN btrim(regexp_replace(public.app_unaccent(lower(line)), '\s+', ' ', 'g'));
END
$$;
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    ALTER FUNCTION app_address_line_key(text) LEAKPROOF;
  ELSE
    RAISE NOTICE 'not a superuser: duplicate candidates by address read every default address of the organization';
  END IF;
END $$;

-- The active default addresses (shipping, billing) by their line.
CREATE INDEX addresses_default_line_idx ON addresses (organization_id, app_address_line_key(address_line1))
  WHERE is_default AND is_active;

-- The customers born on a day.
CREATE INDEX customers_org_birth_date_idx ON customers (organization_id, birth_date);
