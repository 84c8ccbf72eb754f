DROP INDEX loyalty_transactions_qualifying_idx;
CREATE INDEX loyalty_transactions_qualifying_idx ON loyalty_transactions
  (organization_id, loyalty_account_id, (COALESCE(vests_at, occurred_at, created_at)))
  WHERE transaction_type IN ('earn', 'bonus');
