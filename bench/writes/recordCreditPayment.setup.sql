-- recordCreditPayment: the accounts of chargeCredit's setup, each owing one charge of
-- 1,000,000.00 due yesterday — the oldest due, so every payment of 1.00 in the run goes to it
-- first (one allocation, as on the ceiling's side) — with credit_used raised by it.
\ir chargeCredit.setup.sql
WITH u AS (
  INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, status, due_date)
  SELECT organization_id, credit_account_id, 'bench-owed-' || credit_account_id, 1000000, 'pending',
    (now() AT TIME ZONE 'UTC')::date - 1
  FROM credit_accounts WHERE organization_id = :'org'
  ON CONFLICT (organization_id, credit_account_id, order_id) DO NOTHING
  RETURNING organization_id, credit_account_id, amount
)
UPDATE credit_accounts ca SET credit_used = ca.credit_used + u.amount
FROM u WHERE ca.organization_id = u.organization_id AND ca.credit_account_id = u.credit_account_id;
