-- A refund's reversals are found, for the tier check and the qualifying totals, by the order
-- they reverse (metadata->>'order_id') and their account. Under row-level security the
-- condition on ->> is never an index condition (->> is not leakproof), so the index on
-- (organization_id, order) read every refund reversal of the organization for each earn it
-- looked up. With the account in the key, the account's equality (leakproof) is an index
-- condition, and the lookup reads that account's reversals only. No stored row changes.
DROP INDEX loyalty_transactions_refund_order_idx;
CREATE INDEX loyalty_transactions_refund_order_idx ON loyalty_transactions
  (organization_id, loyalty_account_id, (metadata->>'order_id'))
  WHERE transaction_type = 'adjust' AND reference_type = 'refund';
