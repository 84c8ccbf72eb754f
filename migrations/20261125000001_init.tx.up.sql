-- §2 data model, §7 row-level security. Runs as the owner (MIGRATE_DATABASE_URL).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

--bun:split

-- unaccent() is STABLE (it reads a dictionary); this wrapper names the dictionary so it can be
-- IMMUTABLE and used in a generated column and an index.
CREATE FUNCTION app_unaccent(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  RETURN public.unaccent('public.unaccent'::regdictionary, $1);

CREATE FUNCTION app_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

--bun:split

CREATE TABLE customers (
  customer_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid NOT NULL,
  customer_type      varchar(3) NOT NULL DEFAULT 'b2c' CHECK (customer_type IN ('b2c', 'b2b')),
  first_name         varchar(100) NOT NULL CHECK (length(btrim(first_name)) > 0),
  last_name          varchar(100) NOT NULL CHECK (length(btrim(last_name)) > 0),
  email              varchar(255) CHECK (email = lower(btrim(email))),
  phone              varchar(20) CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  document_type      varchar(10) CHECK (document_type IN ('cedula', 'ruc', 'passport', 'other')),
  document_number    varchar(50),
  birth_date         date CHECK (birth_date > '1900-01-01'),
  gender             varchar(20),
  status             varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'blocked')),
  status_reason      text,
  preferred_language varchar(10) NOT NULL DEFAULT 'es',
  marketing_consent  boolean NOT NULL DEFAULT false,
  tags               varchar(255)[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
  metadata           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  notes              text,
  erased_at          timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  last_purchase_at   timestamptz,
  -- what the case- and accent-insensitive substring search of §8 matches
  search_text        text GENERATED ALWAYS AS (app_unaccent(lower(
                       first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' ||
                       coalesce(phone, '') || ' ' || coalesce(document_number, '')))) STORED,
  CHECK ((document_type IS NULL) = (document_number IS NULL)),
  -- §2: uniqueness is per organization
  CONSTRAINT customers_email_key UNIQUE (organization_id, email),
  CONSTRAINT customers_phone_key UNIQUE (organization_id, phone),
  CONSTRAINT customers_document_key UNIQUE (organization_id, document_type, document_number)
);
CREATE INDEX customers_org_created_idx ON customers (organization_id, created_at, customer_id);
CREATE INDEX customers_org_last_purchase_idx ON customers (organization_id, last_purchase_at, customer_id);
CREATE INDEX customers_org_last_name_idx ON customers (organization_id, last_name, customer_id);
CREATE INDEX customers_org_status_idx ON customers (organization_id, status);
CREATE INDEX customers_tags_idx ON customers USING gin (tags);
CREATE INDEX customers_search_idx ON customers USING gin (search_text gin_trgm_ops);
CREATE TRIGGER customers_updated_at BEFORE UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

CREATE TABLE addresses (
  address_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL,
  customer_id     uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
  address_type    varchar(8) NOT NULL DEFAULT 'shipping' CHECK (address_type IN ('shipping', 'billing', 'both')),
  recipient_name  varchar(255),
  address_line1   varchar(255) NOT NULL CHECK (length(btrim(address_line1)) > 0),
  address_line2   varchar(255),
  city            varchar(100) NOT NULL CHECK (length(btrim(city)) > 0),
  state           varchar(100),
  postal_code     varchar(20),
  country         varchar(3) NOT NULL DEFAULT 'PA' CHECK (country ~ '^[A-Z]{2,3}$'),
  phone           varchar(20) CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  is_default      boolean NOT NULL DEFAULT false,
  is_active       boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_customer_idx ON addresses (customer_id);
-- §3: at most one active default per customer per type; 'both' counts as both.
CREATE UNIQUE INDEX addresses_one_default_shipping ON addresses (customer_id)
  WHERE is_default AND is_active AND address_type IN ('shipping', 'both');
CREATE UNIQUE INDEX addresses_one_default_billing ON addresses (customer_id)
  WHERE is_default AND is_active AND address_type IN ('billing', 'both');
CREATE TRIGGER addresses_updated_at BEFORE UPDATE ON addresses
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

-- §4: one row of program settings per organization.
CREATE TABLE loyalty_programs (
  organization_id          uuid PRIMARY KEY,
  points_per_currency_unit numeric(10,4) NOT NULL DEFAULT 1 CHECK (points_per_currency_unit >= 0),
  multiplier_bronze        numeric(5,2) NOT NULL DEFAULT 1.00 CHECK (multiplier_bronze >= 0),
  multiplier_silver        numeric(5,2) NOT NULL DEFAULT 1.25 CHECK (multiplier_silver >= 0),
  multiplier_gold          numeric(5,2) NOT NULL DEFAULT 1.50 CHECK (multiplier_gold >= 0),
  multiplier_platinum      numeric(5,2) NOT NULL DEFAULT 2.00 CHECK (multiplier_platinum >= 0),
  threshold_silver         integer NOT NULL DEFAULT 1000,
  threshold_gold           integer NOT NULL DEFAULT 5000,
  threshold_platinum       integer NOT NULL DEFAULT 15000,
  qualification_months     integer NOT NULL DEFAULT 12 CHECK (qualification_months BETWEEN 1 AND 120),
  tier_duration_months     integer NOT NULL DEFAULT 12 CHECK (tier_duration_months BETWEEN 1 AND 120),
  points_lifetime_months   integer NOT NULL DEFAULT 12 CHECK (points_lifetime_months BETWEEN 1 AND 120),
  auto_enroll              boolean NOT NULL DEFAULT true,
  segment_lookback_days    integer NOT NULL DEFAULT 365 CHECK (segment_lookback_days BETWEEN 1 AND 3650),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CHECK (0 < threshold_silver AND threshold_silver < threshold_gold AND threshold_gold < threshold_platinum)
);
CREATE TRIGGER loyalty_programs_updated_at BEFORE UPDATE ON loyalty_programs
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

CREATE TABLE loyalty_accounts (
  loyalty_account_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid NOT NULL,
  customer_id        uuid NOT NULL UNIQUE REFERENCES customers ON DELETE CASCADE,
  points_balance     integer NOT NULL DEFAULT 0 CHECK (points_balance >= 0),
  lifetime_points    integer NOT NULL DEFAULT 0 CHECK (lifetime_points >= 0),
  points_redeemed    integer NOT NULL DEFAULT 0 CHECK (points_redeemed >= 0),
  tier               varchar(10) NOT NULL DEFAULT 'bronze' CHECK (tier IN ('bronze', 'silver', 'gold', 'platinum')),
  tier_since         date NOT NULL DEFAULT current_date,
  tier_expires_at    date,
  total_purchases    integer NOT NULL DEFAULT 0 CHECK (total_purchases >= 0),
  total_spent        numeric(12,2) NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loyalty_accounts_org_tier_idx ON loyalty_accounts (organization_id, tier);
CREATE INDEX loyalty_accounts_org_balance_idx ON loyalty_accounts (organization_id, points_balance, customer_id);
CREATE TRIGGER loyalty_accounts_updated_at BEFORE UPDATE ON loyalty_accounts
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

-- Earn and bonus rows are also the point lots of §4 (points_remaining, expires_at).
CREATE TABLE loyalty_transactions (
  transaction_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid NOT NULL,
  loyalty_account_id uuid NOT NULL REFERENCES loyalty_accounts ON DELETE CASCADE,
  transaction_type   varchar(10) NOT NULL CHECK (transaction_type IN ('earn', 'redeem', 'expire', 'adjust', 'bonus')),
  points             integer NOT NULL,
  balance_after      integer NOT NULL CHECK (balance_after >= 0),
  reference_type     varchar(50),
  reference_id       varchar(255),
  description        text,
  metadata           jsonb NOT NULL DEFAULT '{}',
  points_remaining   integer CHECK (points_remaining >= 0 AND points_remaining <= points),
  expires_at         timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((points_remaining IS NULL) = (transaction_type NOT IN ('earn', 'bonus') AND NOT (transaction_type = 'adjust' AND points > 0)))
);
CREATE INDEX loyalty_transactions_account_idx ON loyalty_transactions (loyalty_account_id, created_at DESC, transaction_id DESC);
CREATE INDEX loyalty_transactions_open_lots_idx ON loyalty_transactions (loyalty_account_id, expires_at)
  WHERE points_remaining > 0;

CREATE TABLE purchases (
  purchase_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL,
  customer_id     uuid NOT NULL REFERENCES customers ON DELETE CASCADE,
  order_id        varchar(100) NOT NULL,
  amount          numeric(12,2) NOT NULL CHECK (amount > 0),
  refunded_amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  points_earned   integer NOT NULL DEFAULT 0 CHECK (points_earned >= 0),
  points_reversed integer NOT NULL DEFAULT 0 CHECK (points_reversed >= 0),
  channel         varchar(30),
  occurred_at     timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT purchases_order_key UNIQUE (organization_id, order_id)
);
CREATE INDEX purchases_customer_idx ON purchases (customer_id, occurred_at DESC, purchase_id DESC);
CREATE INDEX purchases_org_occurred_idx ON purchases (organization_id, occurred_at);

CREATE TABLE purchase_refunds (
  refund_id       varchar(100) NOT NULL,
  organization_id uuid NOT NULL,
  purchase_id     uuid NOT NULL REFERENCES purchases ON DELETE CASCADE,
  amount          numeric(12,2) NOT NULL CHECK (amount > 0),
  points_reversed integer NOT NULL DEFAULT 0 CHECK (points_reversed >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, refund_id)
);
CREATE INDEX purchase_refunds_purchase_idx ON purchase_refunds (purchase_id);

CREATE TABLE credit_accounts (
  credit_account_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id   uuid NOT NULL,
  customer_id       uuid NOT NULL UNIQUE REFERENCES customers ON DELETE CASCADE,
  credit_limit      numeric(12,2) NOT NULL CHECK (credit_limit >= 0),
  credit_used       numeric(12,2) NOT NULL DEFAULT 0 CHECK (credit_used >= 0),
  credit_available  numeric(12,2) GENERATED ALWAYS AS (credit_limit - credit_used) STORED,
  payment_term_days integer NOT NULL DEFAULT 30 CHECK (payment_term_days BETWEEN 1 AND 365),
  status            varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'suspended', 'cancelled')),
  approved_at       timestamptz,
  approved_by       uuid,
  approval_notes    text,
  suspended_at      timestamptz,
  suspension_reason text,
  cancelled_at      timestamptz,
  cancellation_reason text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (credit_used <= credit_limit)
);
CREATE INDEX credit_accounts_org_idx ON credit_accounts (organization_id, status);
CREATE TRIGGER credit_accounts_updated_at BEFORE UPDATE ON credit_accounts
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

CREATE TABLE credit_usage (
  usage_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id   uuid NOT NULL,
  credit_account_id uuid NOT NULL REFERENCES credit_accounts ON DELETE CASCADE,
  order_id          varchar(100) NOT NULL,
  amount            numeric(12,2) NOT NULL CHECK (amount > 0),
  amount_paid       numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0 AND amount_paid <= amount),
  status            varchar(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'overdue', 'cancelled')),
  due_date          date NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_usage_order_key UNIQUE (credit_account_id, order_id)
);
CREATE INDEX credit_usage_account_idx ON credit_usage (credit_account_id, created_at DESC, usage_id DESC);
CREATE INDEX credit_usage_open_idx ON credit_usage (credit_account_id, due_date)
  WHERE status IN ('pending', 'overdue');
CREATE TRIGGER credit_usage_updated_at BEFORE UPDATE ON credit_usage
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

CREATE TABLE credit_payments (
  payment_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id   uuid NOT NULL,
  credit_account_id uuid NOT NULL REFERENCES credit_accounts ON DELETE CASCADE,
  amount            numeric(12,2) NOT NULL CHECK (amount > 0),
  payment_reference varchar(100) NOT NULL,
  payment_date      date NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT credit_payments_reference_key UNIQUE (credit_account_id, payment_reference)
);
CREATE INDEX credit_payments_account_idx ON credit_payments (credit_account_id, created_at DESC, payment_id DESC);

CREATE TABLE customer_segments (
  segment_id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id          uuid NOT NULL,
  customer_id              uuid NOT NULL UNIQUE REFERENCES customers ON DELETE CASCADE,
  segment_code             varchar(20) NOT NULL CHECK (segment_code IN ('champions', 'loyal', 'potential_loyalist', 'new', 'at_risk', 'lost')),
  rfm_recency              smallint CHECK (rfm_recency BETWEEN 1 AND 5),
  rfm_frequency            smallint CHECK (rfm_frequency BETWEEN 1 AND 5),
  rfm_monetary             smallint CHECK (rfm_monetary BETWEEN 1 AND 5),
  rfm_score                smallint GENERATED ALWAYS AS (rfm_recency + rfm_frequency + rfm_monetary) STORED,
  lifetime_value           numeric(12,2) NOT NULL DEFAULT 0,
  average_order_value      numeric(12,2) NOT NULL DEFAULT 0,
  total_orders             integer NOT NULL DEFAULT 0,
  days_since_last_purchase integer,
  is_vip                   boolean NOT NULL DEFAULT false,
  is_at_risk               boolean NOT NULL DEFAULT false,
  calculated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_segments_org_code_idx ON customer_segments (organization_id, segment_code);
CREATE INDEX customer_segments_org_ltv_idx ON customer_segments (organization_id, lifetime_value, customer_id);

-- §8: every mutation writes one row; field names only, never personal values.
CREATE TABLE audit_log (
  audit_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organization_id uuid NOT NULL,
  actor_id        uuid NOT NULL,
  action          varchar(50) NOT NULL,
  entity_type     varchar(30) NOT NULL,
  entity_id       uuid,
  changed_fields  text[] NOT NULL DEFAULT '{}',
  details         jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity_idx ON audit_log (organization_id, entity_type, entity_id, created_at);

-- For BI tools; security_invoker so the caller's row-level security applies.
CREATE VIEW v_customer_360 WITH (security_invoker = true) AS
SELECT c.customer_id, c.organization_id, c.customer_type, c.first_name, c.last_name, c.email, c.phone,
       c.document_type, c.document_number, c.status, c.created_at, c.last_purchase_at,
       la.points_balance, la.lifetime_points, la.tier, la.total_purchases, la.total_spent,
       ca.credit_limit, ca.credit_used, ca.credit_available, ca.status AS credit_status,
       s.segment_code, s.rfm_score, s.lifetime_value, s.is_vip, s.is_at_risk
FROM customers c
LEFT JOIN loyalty_accounts la ON la.customer_id = c.customer_id
LEFT JOIN credit_accounts ca ON ca.customer_id = c.customer_id
LEFT JOIN customer_segments s ON s.customer_id = c.customer_id;

--bun:split

-- §7: every table isolated by organization, also for the owner (FORCE).
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['customers', 'addresses', 'loyalty_programs', 'loyalty_accounts',
      'loyalty_transactions', 'purchases', 'purchase_refunds', 'credit_accounts', 'credit_usage',
      'credit_payments', 'customer_segments', 'audit_log'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
      USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
      WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)$p$, t);
  END LOOP;
END $$;

--bun:split

-- The NOLOGIN role the server's login role is a member of, with exactly the grants it needs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_app') THEN
    CREATE ROLE customer_service_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO customer_service_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, addresses, loyalty_accounts, loyalty_transactions,
  purchases, purchase_refunds, credit_accounts, credit_usage, credit_payments, customer_segments
  TO customer_service_app;
GRANT SELECT, INSERT, UPDATE ON loyalty_programs TO customer_service_app;
GRANT SELECT, INSERT ON audit_log TO customer_service_app;
GRANT SELECT ON v_customer_360 TO customer_service_app;
-- /readyz compares the applied migrations with the binary's.
GRANT SELECT ON bun_migrations TO customer_service_app;

--bun:split

-- Substring search (§8) must use the trigram index, but under row-level security PostgreSQL
-- only uses index conditions whose operators are LEAKPROOF, and LIKE is not: the search would
-- scan every row of the organization. customer_search_ids() runs the indexed LIKE as a role
-- that bypasses RLS and returns ids only, filtered by the same organization setting; the
-- caller's query still reads customers under RLS, so it remains the enforcement.
-- Both functions below are owned by customer_service_definer, a NOLOGIN role that bypasses RLS
-- and can read only customers' id, organization and search text. Creating a BYPASSRLS role
-- takes a superuser; without one they run as the caller (correct under RLS: search is not
-- indexed, and the jobs see one organization) and the migration says so.
-- term: the search text with LIKE's wildcards escaped by the caller.
CREATE FUNCTION customer_search_ids(term text) RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
BEGIN ATOMIC
  SELECT customer_id FROM public.customers
  WHERE organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid
    AND search_text LIKE '%' || public.app_unaccent(lower(term)) || '%';
END;
REVOKE ALL ON FUNCTION customer_search_ids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_search_ids(text) TO customer_service_app;

-- The organizations that have customers, for the scheduled jobs (§9) to visit one at a time,
-- each then under row-level security with its organization set.
CREATE FUNCTION tenant_organization_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
BEGIN ATOMIC
  SELECT DISTINCT organization_id FROM public.customers;
END;
REVOKE ALL ON FUNCTION tenant_organization_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_organization_ids() TO customer_service_app;
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'customer_service_definer') THEN
      CREATE ROLE customer_service_definer NOLOGIN NOSUPERUSER BYPASSRLS;
    END IF;
    GRANT SELECT (customer_id, organization_id, search_text) ON customers TO customer_service_definer;
    ALTER FUNCTION customer_search_ids(text) OWNER TO customer_service_definer;
    ALTER FUNCTION tenant_organization_ids() OWNER TO customer_service_definer;
  ELSE
    ALTER FUNCTION customer_search_ids(text) SECURITY INVOKER;
    ALTER FUNCTION tenant_organization_ids() SECURITY INVOKER;
    RAISE NOTICE 'not a superuser: customer search runs without its trigram index, and jobs must be given --org';
  END IF;
END $$;
