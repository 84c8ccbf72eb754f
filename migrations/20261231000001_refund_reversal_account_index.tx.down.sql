DROP INDEX loyalty_transactions_refund_order_idx;
CREATE INDEX loyalty_transactions_refund_order_idx ON loyalty_transactions (organization_id, (metadata->>'order_id'))
  WHERE transaction_type = 'adjust' AND reference_type = 'refund';
