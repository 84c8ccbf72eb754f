-- §13: adjustPoints takes an idempotency key, stored as the adjustment's reference_id (its
-- reference_type is 'manual'). Unique per organization; adjustments recorded before the key
-- existed have no reference_id and stay as they are.
CREATE UNIQUE INDEX loyalty_transactions_adjust_key ON loyalty_transactions
  (organization_id, reference_id) WHERE transaction_type = 'adjust' AND reference_type = 'manual';
