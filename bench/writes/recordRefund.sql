-- The ceiling of recordRefund (bench/writes.sh): the refund (unique refund id), the purchase's
-- refunded amount and points reversed (never above its amount), the account's balance and
-- totals, the oldest open lot (FIFO), the reversal (an adjust with reference type refund and
-- its balance_after), the qualifying points of the earn's day, the audit row — one hand-written statement in one pipeline, as cs_bench
-- under row-level security.
\set k random(1, 6400)
\startpipeline
BEGIN;
SELECT set_config('app.current_organization_id', :org, true);
WITH p AS (
  UPDATE purchases p SET refunded_amount = p.refunded_amount + 1.00, points_reversed = p.points_reversed + 1
  WHERE p.organization_id = :org AND p.order_id = 'refundable-' || :k AND p.refunded_amount + 1.00 <= p.amount
  RETURNING p.organization_id, p.purchase_id, p.customer_id, p.order_id
), r AS (
  INSERT INTO purchase_refunds (organization_id, refund_id, purchase_id, amount, points_reversed, actor_id)
  SELECT p.organization_id, 'pgb-' || gen_random_uuid(), p.purchase_id, 1.00, 1, '00000000-0000-0000-0000-0000000000b1' FROM p
  ON CONFLICT DO NOTHING
  RETURNING refund_id
), a AS (
  UPDATE loyalty_accounts la SET points_balance = la.points_balance - 1, lifetime_points = la.lifetime_points - 1,
    total_spent = la.total_spent - 1.00
  FROM p, r WHERE la.organization_id = :org AND la.customer_id = p.customer_id AND la.points_balance >= 1
  RETURNING la.organization_id, la.loyalty_account_id, la.points_balance
), l AS (
  UPDATE loyalty_transactions t SET points_remaining = t.points_remaining - 1
  WHERE t.organization_id = :org AND t.transaction_id = (SELECT o.transaction_id FROM loyalty_transactions o
    -- the account as a value (an InitPlan), not a join: the open-lots index then reads its
    -- oldest lot, as ours does; joined to the CTE it scanned the organization's lots.
    WHERE o.organization_id = :org AND o.loyalty_account_id = (SELECT a.loyalty_account_id FROM a)
      AND o.points_remaining > 0 AND NOT o.pending
    ORDER BY o.expires_at, o.created_at, o.transaction_id LIMIT 1)
  RETURNING t.transaction_id
), t AS (
  INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
    reference_type, reference_id, description, metadata, created_at, actor_id)
  SELECT a.organization_id, a.loyalty_account_id, 'adjust', -1, a.points_balance, 'refund', r.refund_id,
    'Refund of order ' || p.order_id, jsonb_build_object('purchase_id', p.purchase_id, 'order_id', p.order_id, 'amount', '1.00'),
    clock_timestamp(), '00000000-0000-0000-0000-0000000000b1'
  FROM a, r, p, l
  RETURNING organization_id, loyalty_account_id
), q AS (
  UPDATE loyalty_qualifying_days d SET points = d.points - 1
  FROM t, loyalty_transactions e
  WHERE e.organization_id = :org AND e.transaction_type = 'earn' AND e.reference_type = 'order' AND e.reference_id = 'refundable-' || :k
    AND d.organization_id = :org AND d.loyalty_account_id = t.loyalty_account_id
    AND d.day = (COALESCE(e.vests_at, e.occurred_at, e.created_at) AT TIME ZONE 'UTC')::date
  RETURNING d.day
)
INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
SELECT p.organization_id, '00000000-0000-0000-0000-0000000000b1', 'loyalty.refund', 'purchase', p.purchase_id,
  '{refunded_amount,points_reversed,points_balance,total_spent}', jsonb_build_object('amount', '1.00', 'points_reversed', 1)
FROM p, q;
COMMIT;
\endpipeline
