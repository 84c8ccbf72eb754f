-- Undoes 20261221000001_merge. Merged customers cannot keep a status the old check refuses:
-- they become inactive, their merge named in status_reason (their data already moved).
DROP TABLE customer_merges;
DROP INDEX loyalty_transactions_bonus_key;
CREATE UNIQUE INDEX loyalty_transactions_bonus_key ON loyalty_transactions
  (organization_id, loyalty_account_id, reference_id) WHERE transaction_type = 'bonus';
ALTER TABLE loyalty_transactions DROP COLUMN merged_from_account_id;
ALTER TABLE customers DROP CONSTRAINT customers_merged_into_check;
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
UPDATE customers SET status = 'inactive', status_reason = 'merged into ' || merged_into
  WHERE status = 'merged';
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
DROP INDEX customers_merged_into_idx;
ALTER TABLE customers DROP CONSTRAINT customers_merged_into_fkey, DROP COLUMN merged_into;
ALTER TABLE customers DROP CONSTRAINT customers_status_check,
  ADD CONSTRAINT customers_status_check CHECK (status IN ('active', 'inactive', 'blocked'));
