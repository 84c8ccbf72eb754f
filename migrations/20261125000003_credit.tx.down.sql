-- Reverses 20261125000003_credit.
ALTER TABLE credit_usage
  DROP CONSTRAINT IF EXISTS credit_usage_open_owes,
  DROP CONSTRAINT IF EXISTS credit_usage_paid_in_full;
DROP INDEX IF EXISTS credit_usage_pending_due_idx;
