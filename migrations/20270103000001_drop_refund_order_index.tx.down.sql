-- The index as 20261231000001_refund_reversal_account_index left it.
CREATE INDEX loyalty_transactions_refund_order_idx ON loyalty_transactions
  (organization_id, loyalty_account_id, (metadata->>'order_id'))
  WHERE transaction_type = 'adjust' AND reference_type = 'refund';
