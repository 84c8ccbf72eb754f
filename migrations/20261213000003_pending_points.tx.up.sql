-- §13 pending points: a program setting, pending lots and the ledger's vesting rows.
--
-- pending_days: points of a purchase stay pending until occurred_at + pending_days (0 = off).
ALTER TABLE loyalty_programs ADD COLUMN pending_days integer NOT NULL DEFAULT 0
  CHECK (pending_days BETWEEN 0 AND 365);

-- vests_at: the instant a pending earn's points vest (become spendable); a refund's
-- cancellation of pending points carries the vests_at of the lot it cancels. Immutable, like
-- the rest of the ledger. pending: the lot's state — true while its points wait for vests_at
-- (the job, or the account's next change, vests it: false). Rows before this migration are
-- never pending.
ALTER TABLE loyalty_transactions ADD COLUMN vests_at timestamptz,
  ADD COLUMN pending boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT loyalty_transactions_pending_check CHECK (NOT pending OR (vests_at IS NOT NULL AND points_remaining IS NOT NULL));

-- 'vest': the move of an account's vested pending points into its balance (one row per
-- account per vesting, as 'expire').
ALTER TABLE loyalty_transactions DROP CONSTRAINT loyalty_transactions_transaction_type_check,
  ADD CONSTRAINT loyalty_transactions_transaction_type_check
    CHECK (transaction_type IN ('earn', 'redeem', 'expire', 'adjust', 'bonus', 'vest'));

-- The vesting job finds an organization's pending lots that are due.
CREATE INDEX loyalty_transactions_org_pending_idx ON loyalty_transactions (organization_id, vests_at)
  WHERE pending;
