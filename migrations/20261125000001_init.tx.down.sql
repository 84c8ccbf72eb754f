-- Reverses 20261125000001_init: everything it created in this database. The cluster-wide
-- roles are dropped only when no other database still uses them: one role serves every
-- database of the service on a cluster, and a DROP ROLE fails while any of them grants it
-- anything.
DROP FUNCTION IF EXISTS customer_search_ids(text);
DROP FUNCTION IF EXISTS tenant_organization_ids();
DROP VIEW IF EXISTS v_customer_360;
DROP TABLE IF EXISTS audit_log, customer_segments, credit_payments, credit_usage, credit_accounts,
  purchase_refunds, purchases, loyalty_transactions, loyalty_accounts, loyalty_programs, addresses,
  customers;
DROP FUNCTION IF EXISTS app_set_updated_at();
DROP FUNCTION IF EXISTS app_unaccent(text);

--bun:split

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['customer_service_definer', 'customer_service_app'] LOOP
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', r);
      -- bun_migrations is bun's (it outlives this migration), so its grant is revoked
      -- here, or this database would keep the role alive.
      IF to_regclass('bun_migrations') IS NOT NULL THEN
        EXECUTE format('REVOKE ALL ON bun_migrations FROM %I', r);
      END IF;
      BEGIN
        EXECUTE format('DROP ROLE %I', r);
      EXCEPTION WHEN dependent_objects_still_exist THEN
        RAISE NOTICE 'role % is still used by another database; kept', r;
      END;
    END IF;
  END LOOP;
END $$;

--bun:split

DROP EXTENSION IF EXISTS unaccent;
DROP EXTENSION IF EXISTS pg_trgm;
DROP EXTENSION IF EXISTS pgcrypto;
