-- Every key of a tenant table includes organization_id (docs/decisions-tenancy-keys.md), so
-- the tables can be distributed by organization (Citus refuses a primary key, unique key or
-- foreign key between distributed tables without the distribution column) and every lookup
-- by key names its organization. Row-level security (§7) is unchanged: it stays the
-- guarantee; the keys make organization_id part of every identity.
--
-- The foreign keys go first (they depend on the keys they reference), then the primary and
-- unique keys are rebuilt with organization_id leading, then the foreign keys come back as
-- (organization_id, <id>) REFERENCES parent (organization_id, <id>), ON DELETE CASCADE kept.
-- job_runs is global (no organization); job_run_results' key already leads with it and its
-- foreign key to job_runs stays.

ALTER TABLE addresses DROP CONSTRAINT addresses_customer_id_fkey;
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_customer_id_fkey;
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_loyalty_account_id_fkey;
ALTER TABLE purchases DROP CONSTRAINT purchases_customer_id_fkey;
ALTER TABLE purchase_refunds DROP CONSTRAINT purchase_refunds_purchase_id_fkey;
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_customer_id_fkey;
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_credit_account_id_fkey;
ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_credit_account_id_fkey;
ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_customer_id_fkey;

-- Primary keys: (organization_id, <id>). purchase_refunds' and loyalty_programs' already are.
ALTER TABLE customers DROP CONSTRAINT customers_pkey,
  ADD CONSTRAINT customers_pkey PRIMARY KEY (organization_id, customer_id);
ALTER TABLE addresses DROP CONSTRAINT addresses_pkey,
  ADD CONSTRAINT addresses_pkey PRIMARY KEY (organization_id, address_id);
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_pkey,
  ADD CONSTRAINT loyalty_accounts_pkey PRIMARY KEY (organization_id, loyalty_account_id);
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_pkey,
  ADD CONSTRAINT loyalty_transactions_pkey PRIMARY KEY (organization_id, transaction_id);
ALTER TABLE purchases DROP CONSTRAINT purchases_pkey,
  ADD CONSTRAINT purchases_pkey PRIMARY KEY (organization_id, purchase_id);
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_pkey,
  ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (organization_id, credit_account_id);
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_pkey,
  ADD CONSTRAINT credit_usage_pkey PRIMARY KEY (organization_id, usage_id);
ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_pkey,
  ADD CONSTRAINT credit_payments_pkey PRIMARY KEY (organization_id, payment_id);
ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_pkey,
  ADD CONSTRAINT customer_segments_pkey PRIMARY KEY (organization_id, segment_id);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey,
  ADD CONSTRAINT audit_log_pkey PRIMARY KEY (organization_id, audit_id);

-- One account, one segment per customer: unique per (organization_id, customer_id).
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_customer_id_key,
  ADD CONSTRAINT loyalty_accounts_customer_key UNIQUE (organization_id, customer_id);
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_customer_id_key,
  ADD CONSTRAINT credit_accounts_customer_key UNIQUE (organization_id, customer_id);
ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_customer_id_key,
  ADD CONSTRAINT customer_segments_customer_key UNIQUE (organization_id, customer_id);

-- The idempotency keys of charges and payments, per account as before, organization first.
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_order_key,
  ADD CONSTRAINT credit_usage_order_key UNIQUE (organization_id, credit_account_id, order_id);
ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_reference_key,
  ADD CONSTRAINT credit_payments_reference_key UNIQUE (organization_id, credit_account_id, payment_reference);

-- The partial unique indexes: one default address per customer and type, one bonus per
-- account and reference.
DROP INDEX addresses_one_default_shipping;
CREATE UNIQUE INDEX addresses_one_default_shipping ON addresses (organization_id, customer_id)
  WHERE is_default AND is_active AND address_type IN ('shipping', 'both');
DROP INDEX addresses_one_default_billing;
CREATE UNIQUE INDEX addresses_one_default_billing ON addresses (organization_id, customer_id)
  WHERE is_default AND is_active AND address_type IN ('billing', 'both');
DROP INDEX loyalty_transactions_bonus_key;
CREATE UNIQUE INDEX loyalty_transactions_bonus_key ON loyalty_transactions
  (organization_id, loyalty_account_id, reference_id) WHERE transaction_type = 'bonus';

-- An account's open lots, looked up with the organization now named beside the account:
-- with organization_id leading, this index stays the one the planner takes for them (the
-- lazy expiry of a mutation, pointsExpiringSoon), not the organization's expiring lots.
DROP INDEX loyalty_transactions_open_lots_idx;
CREATE INDEX loyalty_transactions_open_lots_idx ON loyalty_transactions (organization_id, loyalty_account_id, expires_at)
  WHERE points_remaining > 0;

-- The foreign keys again, on (organization_id, <id>).
ALTER TABLE addresses ADD CONSTRAINT addresses_customer_fkey FOREIGN KEY (organization_id, customer_id)
  REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE;
ALTER TABLE loyalty_accounts ADD CONSTRAINT loyalty_accounts_customer_fkey FOREIGN KEY (organization_id, customer_id)
  REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE;
ALTER TABLE loyalty_transactions ADD CONSTRAINT loyalty_transactions_account_fkey FOREIGN KEY (organization_id, loyalty_account_id)
  REFERENCES loyalty_accounts (organization_id, loyalty_account_id) ON DELETE CASCADE;
ALTER TABLE purchases ADD CONSTRAINT purchases_customer_fkey FOREIGN KEY (organization_id, customer_id)
  REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE;
ALTER TABLE purchase_refunds ADD CONSTRAINT purchase_refunds_purchase_fkey FOREIGN KEY (organization_id, purchase_id)
  REFERENCES purchases (organization_id, purchase_id) ON DELETE CASCADE;
ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_customer_fkey FOREIGN KEY (organization_id, customer_id)
  REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE;
ALTER TABLE credit_usage ADD CONSTRAINT credit_usage_account_fkey FOREIGN KEY (organization_id, credit_account_id)
  REFERENCES credit_accounts (organization_id, credit_account_id) ON DELETE CASCADE;
ALTER TABLE credit_payments ADD CONSTRAINT credit_payments_account_fkey FOREIGN KEY (organization_id, credit_account_id)
  REFERENCES credit_accounts (organization_id, credit_account_id) ON DELETE CASCADE;
ALTER TABLE customer_segments ADD CONSTRAINT customer_segments_customer_fkey FOREIGN KEY (organization_id, customer_id)
  REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE;

-- The BI view joins on the same keys.
CREATE OR REPLACE VIEW v_customer_360 WITH (security_invoker = true) AS
SELECT c.customer_id, c.organization_id, c.customer_type, c.first_name, c.last_name, c.email, c.phone,
       c.document_type, c.document_number, c.status, c.created_at, c.last_purchase_at,
       la.points_balance, la.lifetime_points, la.tier, la.total_purchases, la.total_spent,
       ca.credit_limit, ca.credit_used, ca.credit_available, ca.status AS credit_status,
       s.segment_code, s.rfm_score, s.lifetime_value, s.is_vip, s.is_at_risk
FROM customers c
LEFT JOIN loyalty_accounts la ON la.organization_id = c.organization_id AND la.customer_id = c.customer_id
LEFT JOIN credit_accounts ca ON ca.organization_id = c.organization_id AND ca.customer_id = c.customer_id
LEFT JOIN customer_segments s ON s.organization_id = c.organization_id AND s.customer_id = c.customer_id;
