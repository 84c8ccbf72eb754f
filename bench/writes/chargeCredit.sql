-- The ceiling of chargeCredit (bench/writes.sh): the rows our server writes — the usage (unique
-- order id per account, due today + the account's term), the account's credit_used, the audit
-- row — by one hand-written statement in one pipeline with the transaction control and the
-- organization setting, as cs_bench under the same row-level security and constraints. It
-- checks what a charge checks: the customer active and not erased (its row locked FOR SHARE,
-- as ours: a concurrent block waits), the account approved, no open charge past due beyond
-- the policy (its stored row or the default 30 days), and the limit, in the UPDATE's WHERE.
\set n random(1, 64)
\startpipeline
BEGIN;
SELECT set_config('app.current_organization_id', :org, true);
WITH c AS (
  SELECT c.customer_id FROM customers c
  WHERE c.organization_id = :org AND c.customer_id = (SELECT id FROM bench_customers WHERE n = :n)
    AND c.status = 'active' AND c.erased_at IS NULL
  FOR SHARE
), a AS (
  UPDATE credit_accounts ca SET credit_used = ca.credit_used + 1.25
  FROM c
  WHERE ca.organization_id = :org AND ca.customer_id = c.customer_id
    AND ca.status = 'approved' AND ca.credit_used + 1.25 <= ca.credit_limit
    AND (SELECT COALESCE(max((now() AT TIME ZONE 'UTC')::date - od.due_date), 0) FROM credit_usage od
         WHERE od.organization_id = :org AND od.credit_account_id = ca.credit_account_id
           AND od.status IN ('pending', 'overdue') AND od.due_date < (now() AT TIME ZONE 'UTC')::date)
      <= (SELECT pol.days FROM (SELECT p.block_when_overdue_days AS days, 0 AS o FROM credit_policies p WHERE p.organization_id = :org
                                UNION ALL SELECT 30, 1 ORDER BY 2 LIMIT 1) pol)
  RETURNING ca.organization_id, ca.credit_account_id, ca.payment_term_days
), u AS (
  INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, status, due_date, actor_id)
  SELECT a.organization_id, a.credit_account_id, 'pgb-' || gen_random_uuid(), 1.25, 'pending',
    (now() AT TIME ZONE 'UTC')::date + a.payment_term_days, '00000000-0000-0000-0000-0000000000b1'
  FROM a
  ON CONFLICT (organization_id, credit_account_id, order_id) DO NOTHING
  RETURNING organization_id, credit_account_id, usage_id, order_id, amount, due_date
)
INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
SELECT u.organization_id, '00000000-0000-0000-0000-0000000000b1', 'credit.charge', 'credit_account', u.credit_account_id,
  '{credit_used}', jsonb_build_object('usage_id', u.usage_id, 'order_id', u.order_id, 'amount', u.amount::text, 'due_date', u.due_date)
FROM u;
COMMIT;
\endpipeline
