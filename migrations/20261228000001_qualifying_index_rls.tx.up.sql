-- Issue 17 (flat in history): the tier check's ranges on the effective instant of an earn or
-- bonus must be index conditions. Under row-level security PostgreSQL makes a condition on a
-- column an index condition only when it cannot leak a row the policy hides (every function in
-- it LEAKPROOF, and no node it cannot vouch for), and it cannot vouch for COALESCE: the range
-- on COALESCE(vests_at, occurred_at, created_at) was a filter over every earn and bonus of the
-- account, read through (organization_id, loyalty_account_id) alone — 7,600 rows for one
-- purchase of an account with 10,000 transactions, 5.9 ms of its 10 ms. The same instant written
-- as a CASE of the plain columns is a condition it can use (CASE, IS NOT NULL and the
-- timestamptz comparisons are all safe), so the index is rebuilt on that expression, which the
-- queries use (loyalty.QualifyingSQL). No stored row changes.
DROP INDEX loyalty_transactions_qualifying_idx;
CREATE INDEX loyalty_transactions_qualifying_idx ON loyalty_transactions
  (organization_id, loyalty_account_id,
   (CASE WHEN vests_at IS NOT NULL THEN vests_at WHEN occurred_at IS NOT NULL THEN occurred_at ELSE created_at END))
  WHERE transaction_type IN ('earn', 'bonus');
