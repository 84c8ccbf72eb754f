-- Reverses 20261210000001_tenant_keys: the keys of the init, credit and loyalty migrations
-- again, under their old names (foreign keys dropped first, restored last).

CREATE OR REPLACE VIEW v_customer_360 WITH (security_invoker = true) AS
SELECT c.customer_id, c.organization_id, c.customer_type, c.first_name, c.last_name, c.email, c.phone,
       c.document_type, c.document_number, c.status, c.created_at, c.last_purchase_at,
       la.points_balance, la.lifetime_points, la.tier, la.total_purchases, la.total_spent,
       ca.credit_limit, ca.credit_used, ca.credit_available, ca.status AS credit_status,
       s.segment_code, s.rfm_score, s.lifetime_value, s.is_vip, s.is_at_risk
FROM customers c
LEFT JOIN loyalty_accounts la ON la.customer_id = c.customer_id
LEFT JOIN credit_accounts ca ON ca.customer_id = c.customer_id
LEFT JOIN customer_segments s ON s.customer_id = c.customer_id;

ALTER TABLE addresses DROP CONSTRAINT addresses_customer_fkey;
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_customer_fkey;
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_account_fkey;
ALTER TABLE purchases DROP CONSTRAINT purchases_customer_fkey;
ALTER TABLE purchase_refunds DROP CONSTRAINT purchase_refunds_purchase_fkey;
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_customer_fkey;
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_account_fkey;
ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_account_fkey;
ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_customer_fkey;

DROP INDEX loyalty_transactions_open_lots_idx;
CREATE INDEX loyalty_transactions_open_lots_idx ON loyalty_transactions (loyalty_account_id, expires_at)
  WHERE points_remaining > 0;
DROP INDEX loyalty_transactions_bonus_key;
CREATE UNIQUE INDEX loyalty_transactions_bonus_key ON loyalty_transactions
  (loyalty_account_id, reference_id) WHERE transaction_type = 'bonus';
DROP INDEX addresses_one_default_billing;
CREATE UNIQUE INDEX addresses_one_default_billing ON addresses (customer_id)
  WHERE is_default AND is_active AND address_type IN ('billing', 'both');
DROP INDEX addresses_one_default_shipping;
CREATE UNIQUE INDEX addresses_one_default_shipping ON addresses (customer_id)
  WHERE is_default AND is_active AND address_type IN ('shipping', 'both');

ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_reference_key,
  ADD CONSTRAINT credit_payments_reference_key UNIQUE (credit_account_id, payment_reference);
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_order_key,
  ADD CONSTRAINT credit_usage_order_key UNIQUE (credit_account_id, order_id);

ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_customer_key,
  ADD CONSTRAINT customer_segments_customer_id_key UNIQUE (customer_id);
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_customer_key,
  ADD CONSTRAINT credit_accounts_customer_id_key UNIQUE (customer_id);
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_customer_key,
  ADD CONSTRAINT loyalty_accounts_customer_id_key UNIQUE (customer_id);

ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey,
  ADD CONSTRAINT audit_log_pkey PRIMARY KEY (audit_id);
ALTER TABLE customer_segments DROP CONSTRAINT customer_segments_pkey,
  ADD CONSTRAINT customer_segments_pkey PRIMARY KEY (segment_id);
ALTER TABLE credit_payments DROP CONSTRAINT credit_payments_pkey,
  ADD CONSTRAINT credit_payments_pkey PRIMARY KEY (payment_id);
ALTER TABLE credit_usage DROP CONSTRAINT credit_usage_pkey,
  ADD CONSTRAINT credit_usage_pkey PRIMARY KEY (usage_id);
ALTER TABLE credit_accounts DROP CONSTRAINT credit_accounts_pkey,
  ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (credit_account_id);
ALTER TABLE purchases DROP CONSTRAINT purchases_pkey,
  ADD CONSTRAINT purchases_pkey PRIMARY KEY (purchase_id);
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_pkey,
  ADD CONSTRAINT loyalty_transactions_pkey PRIMARY KEY (transaction_id);
ALTER TABLE loyalty_accounts DROP CONSTRAINT loyalty_accounts_pkey,
  ADD CONSTRAINT loyalty_accounts_pkey PRIMARY KEY (loyalty_account_id);
ALTER TABLE addresses DROP CONSTRAINT addresses_pkey,
  ADD CONSTRAINT addresses_pkey PRIMARY KEY (address_id);
ALTER TABLE customers DROP CONSTRAINT customers_pkey,
  ADD CONSTRAINT customers_pkey PRIMARY KEY (customer_id);

ALTER TABLE addresses ADD CONSTRAINT addresses_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES customers ON DELETE CASCADE;
ALTER TABLE loyalty_accounts ADD CONSTRAINT loyalty_accounts_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES customers ON DELETE CASCADE;
ALTER TABLE loyalty_transactions ADD CONSTRAINT loyalty_transactions_loyalty_account_id_fkey FOREIGN KEY (loyalty_account_id)
  REFERENCES loyalty_accounts ON DELETE CASCADE;
ALTER TABLE purchases ADD CONSTRAINT purchases_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES customers ON DELETE CASCADE;
ALTER TABLE purchase_refunds ADD CONSTRAINT purchase_refunds_purchase_id_fkey FOREIGN KEY (purchase_id)
  REFERENCES purchases ON DELETE CASCADE;
ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES customers ON DELETE CASCADE;
ALTER TABLE credit_usage ADD CONSTRAINT credit_usage_credit_account_id_fkey FOREIGN KEY (credit_account_id)
  REFERENCES credit_accounts ON DELETE CASCADE;
ALTER TABLE credit_payments ADD CONSTRAINT credit_payments_credit_account_id_fkey FOREIGN KEY (credit_account_id)
  REFERENCES credit_accounts ON DELETE CASCADE;
ALTER TABLE customer_segments ADD CONSTRAINT customer_segments_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES customers ON DELETE CASCADE;
