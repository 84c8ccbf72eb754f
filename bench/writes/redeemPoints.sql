-- The ceiling of redeemPoints (bench/writes.sh): the account's balance and points redeemed
-- (only while the balance covers it, and only for an active customer), the oldest open lot
-- (FIFO), the redeem transaction with its balance_after under the redemption key, the audit
-- row — one hand-written statement in one pipeline, as cs_bench under row-level security.
\set n random(1, 64)
\startpipeline
BEGIN;
SELECT set_config('app.current_organization_id', :org, true);
WITH a AS (
  UPDATE loyalty_accounts la SET points_balance = la.points_balance - 1, points_redeemed = la.points_redeemed + 1
  FROM customers c
  WHERE la.organization_id = :org AND la.customer_id = (SELECT id FROM bench_customers WHERE n = :n)
    AND c.organization_id = la.organization_id AND c.customer_id = la.customer_id
    AND c.status = 'active' AND c.erased_at IS NULL AND la.points_balance >= 1
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
    reference_type, reference_id, created_at, actor_id)
  SELECT a.organization_id, a.loyalty_account_id, 'redeem', -1, a.points_balance, 'bench', 'pgb-' || gen_random_uuid(),
    clock_timestamp(), '00000000-0000-0000-0000-0000000000b1'
  FROM a, l
  ON CONFLICT (organization_id, reference_type, reference_id) WHERE transaction_type = 'redeem' DO NOTHING
  RETURNING organization_id, loyalty_account_id, transaction_id, points, balance_after
)
INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
SELECT t.organization_id, '00000000-0000-0000-0000-0000000000b1', 'loyalty.redeem', 'loyalty_account', t.loyalty_account_id,
  '{points_balance,points_redeemed}', jsonb_build_object('transaction_id', t.transaction_id, 'points', t.points, 'balance_after', t.balance_after)
FROM t;
COMMIT;
\endpipeline
