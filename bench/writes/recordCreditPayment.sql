-- The ceiling of recordCreditPayment (bench/writes.sh): the rows our server writes — the
-- payment (unique reference per account, dated today), the account's credit_used (only on an
-- approved or suspended account, never below zero), the open charges it pays oldest due first
-- (amount_paid, PAID when covered; locked in id order, as ours), one allocation row per charge
-- paid, the audit row with the allocations — by one hand-written statement in one pipeline, as
-- cs_bench under the same row-level security and constraints.
\set n random(1, 64)
\startpipeline
BEGIN;
SELECT set_config('app.current_organization_id', :org, true);
WITH a AS (
  UPDATE credit_accounts ca SET credit_used = ca.credit_used - 1.00
  WHERE ca.organization_id = :org AND ca.customer_id = (SELECT id FROM bench_customers WHERE n = :n)
    AND ca.status IN ('approved', 'suspended') AND ca.credit_used >= 1.00
  RETURNING ca.organization_id, ca.credit_account_id
), p AS (
  INSERT INTO credit_payments (organization_id, credit_account_id, amount, payment_reference, payment_date, actor_id)
  SELECT a.organization_id, a.credit_account_id, 1.00, 'pgb-' || gen_random_uuid(), (now() AT TIME ZONE 'UTC')::date,
    '00000000-0000-0000-0000-0000000000b1'
  FROM a
  ON CONFLICT (organization_id, credit_account_id, payment_reference) DO NOTHING
  RETURNING organization_id, credit_account_id, payment_id, payment_reference, amount, payment_date
), o AS (
  SELECT u.usage_id, u.amount - u.amount_paid AS unpaid, u.due_date, u.created_at
  FROM credit_usage u
  WHERE u.organization_id = :org AND u.credit_account_id = (SELECT credit_account_id FROM a)
    AND u.status IN ('pending', 'overdue')
  ORDER BY u.usage_id
  FOR UPDATE
), s AS (
  SELECT usage_id, unpaid, LEAST(unpaid, GREATEST(1.00 - (sum(unpaid) OVER w - unpaid), 0)) AS share
  FROM o WINDOW w AS (ORDER BY due_date, created_at, usage_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), paid AS (
  UPDATE credit_usage cu SET amount_paid = cu.amount_paid + s.share,
    status = CASE WHEN s.share = s.unpaid THEN 'paid' ELSE cu.status END
  FROM s WHERE cu.organization_id = :org AND cu.usage_id = s.usage_id AND s.share > 0
  RETURNING cu.usage_id, s.share
), l AS (
  INSERT INTO credit_allocations (organization_id, credit_account_id, payment_id, usage_id, amount)
  SELECT p.organization_id, p.credit_account_id, p.payment_id, paid.usage_id, paid.share FROM p, paid
  RETURNING usage_id, amount
)
INSERT INTO audit_log (organization_id, actor_id, action, entity_type, entity_id, changed_fields, details)
SELECT p.organization_id, '00000000-0000-0000-0000-0000000000b1', 'credit.payment', 'credit_account', p.credit_account_id,
  '{credit_used}', jsonb_build_object('payment_id', p.payment_id, 'payment_reference', p.payment_reference,
    'amount', p.amount::text, 'payment_date', p.payment_date,
    'allocations', (SELECT jsonb_agg(jsonb_build_object('usage_id', l.usage_id, 'amount', l.amount::text)) FROM l))
FROM p;
COMMIT;
\endpipeline
