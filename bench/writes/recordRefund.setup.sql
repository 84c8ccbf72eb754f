-- recordRefund: 100 purchases of 10,000.00 per account (order ids refundable-1 … -6400), each
-- with its earn lot of 10,000 points, so a refund of 1.00 reverses 1 point and every refund of
-- the run has points to take.
INSERT INTO purchases (organization_id, customer_id, order_id, amount, points_earned, occurred_at, created_at)
SELECT la.organization_id, la.customer_id, 'refundable-' || ((dense_rank() OVER (ORDER BY la.customer_id) - 1) * 100 + k),
  10000, 10000, now() - interval '1 month', now() - interval '1 month'
FROM loyalty_accounts la, generate_series(1, 100) k WHERE la.organization_id = :'org';
INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
  reference_type, reference_id, metadata, points_remaining, expires_at, created_at)
SELECT p.organization_id, la.loyalty_account_id, 'earn', 10000, 0, 'order', p.order_id,
  jsonb_build_object('purchase_id', p.purchase_id), 10000, p.occurred_at + interval '12 months', p.created_at
FROM purchases p JOIN loyalty_accounts la ON la.organization_id = p.organization_id AND la.customer_id = p.customer_id
WHERE p.organization_id = :'org' AND p.order_id LIKE 'refundable-%';
UPDATE loyalty_accounts la SET points_balance = la.points_balance + 1000000, lifetime_points = la.lifetime_points + 1000000,
  total_purchases = la.total_purchases + 100, total_spent = la.total_spent + 1000000
WHERE la.organization_id = :'org';
-- The last balance_after of each account is its balance (the books the harness checks).
INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
  reference_type, reference_id, description, points_remaining, expires_at, created_at)
SELECT organization_id, loyalty_account_id, 'adjust', 0 + 1, points_balance + 1, 'manual', 'bench-refund-' || loyalty_account_id,
  'Benchmark setup', 1, now() + interval '11 months', clock_timestamp()
FROM loyalty_accounts WHERE organization_id = :'org';
UPDATE loyalty_accounts SET points_balance = points_balance + 1 WHERE organization_id = :'org';
