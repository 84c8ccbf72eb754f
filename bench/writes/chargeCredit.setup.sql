-- chargeCredit (and recordCreditPayment, which includes this file): the 64 customers become
-- B2B with an approved credit account each — a limit no run exhausts, a 30-day term, its
-- opening limit in the limit ledger — as openCreditAccount and approveCreditAccount leave it.
-- Idempotent: the payment's setup runs it again. The loyalty mutations do not look at the type.
UPDATE customers SET customer_type = 'b2b' WHERE organization_id = :'org' AND customer_type <> 'b2b';
WITH a AS (
  INSERT INTO credit_accounts (organization_id, customer_id, credit_limit, payment_term_days, status, approved_at, approved_by)
  SELECT organization_id, customer_id, 9999999999.99, 30, 'approved', now(), '00000000-0000-0000-0000-0000000000a1'
  FROM customers WHERE organization_id = :'org'
  ON CONFLICT (organization_id, customer_id) DO NOTHING
  RETURNING organization_id, credit_account_id, credit_limit
)
INSERT INTO credit_limit_changes (organization_id, credit_account_id, credit_limit, changed_by)
SELECT organization_id, credit_account_id, credit_limit, '00000000-0000-0000-0000-0000000000a1' FROM a;
