-- The ceiling of recordPurchase (bench/writes.sh): the rows our server writes — the purchase
-- (unique order id), the customer's last_purchase_at, the loyalty account's balance, lifetime
-- points and totals, the earn lot with its balance_after, the audit row — written by one
-- hand-written statement, in one pipeline with the transaction control and the organization
-- setting, as cs_bench under the same row-level security and constraints. The points are the
-- program's rule (floor(amount × rate × the tier's multiplier)) computed in the statement.
\set n random(1, 64)
\startpipeline
BEGIN;
SELECT set_config('app.current_organization_id', :org, true);
WITH c AS (
  UPDATE customers c SET last_purchase_at = GREATEST(c.last_purchase_at, now())
  WHERE c.organization_id = :org AND c.customer_id = (SELECT id FROM bench_customers WHERE n = :n)
    AND c.status = 'active' AND c.erased_at IS NULL
  RETURNING c.organization_id, c.customer_id
), e AS (
  SELECT la.loyalty_account_id, floor(12.34 * g.points_per_currency_unit * CASE la.tier WHEN 'silver' THEN g.multiplier_silver
      WHEN 'gold' THEN g.multiplier_gold WHEN 'platinum' THEN g.multiplier_platinum ELSE g.multiplier_bronze END)::int AS points,
    g.points_lifetime_months
  FROM c JOIN loyalty_accounts la ON la.organization_id = c.organization_id AND la.customer_id = c.customer_id
    JOIN loyalty_programs g ON g.organization_id = c.organization_id
), p AS (
  INSERT INTO purchases (organization_id, customer_id, order_id, amount, points_earned, occurred_at, actor_id)
  SELECT c.organization_id, c.customer_id, 'pgb-' || gen_random_uuid(), 12.34, e.points, now(), '00000000-0000-0000-0000-0000000000b1'
  FROM c, e
  ON CONFLICT (organization_id, order_id) DO NOTHING
  RETURNING organization_id, purchase_id, order_id, points_earned
), a AS (
  UPDATE loyalty_accounts la SET points_balance = la.points_balance + p.points_earned,
    lifetime_points = la.lifetime_points + p.points_earned, total_purchases = la.total_purchases + 1,
    total_spent = la.total_spent + 12.34
  FROM p, e WHERE la.organization_id = :org AND la.loyalty_account_id = e.loyalty_account_id
  RETURNING la.organization_id, la.loyalty_account_id, la.points_balance
), t AS (
  INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
    reference_type, reference_id, metadata, points_remaining, expires_at, created_at, actor_id)
  SELECT a.organization_id, a.loyalty_account_id, 'earn', p.points_earned, a.points_balance, 'order', p.order_id,
    jsonb_build_object('purchase_id', p.purchase_id), p.points_earned,
    clock_timestamp() + make_interval(months => e.points_lifetime_months), clock_timestamp(), '00000000-0000-0000-0000-0000000000b1'
  FROM a, p, e
  RETURNING transaction_id
)
INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
SELECT p.organization_id, '00000000-0000-0000-0000-0000000000b1', 'loyalty.purchase', 'purchase', p.purchase_id,
  '{purchases,points_balance,total_purchases,total_spent}', jsonb_build_object('amount', '12.34', 'points', p.points_earned)
FROM p, t;
COMMIT;
\endpipeline
