-- Refused (the type check fails) once vesting rows exist: going down would lose their meaning.
DROP INDEX loyalty_transactions_org_pending_idx;
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_transaction_type_check,
  ADD CONSTRAINT loyalty_transactions_transaction_type_check
    CHECK (transaction_type IN ('earn', 'redeem', 'expire', 'adjust', 'bonus'));
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_pending_check,
  DROP COLUMN pending, DROP COLUMN vests_at;
ALTER TABLE loyalty_programs DROP COLUMN pending_days;
