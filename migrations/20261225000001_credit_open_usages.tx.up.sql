-- Issue 17, flat in history: a charge reads how many days the account's oldest unpaid charge
-- is past due, and a payment allocates over its open charges oldest due first. Both read the
-- open charges only, through this partial index — never the paid or cancelled history,
-- however long it grows (decisions-writes.md, Credit). It now leads with organization_id, as
-- every statement names it (docs/decisions-tenancy-keys.md), and ends with the allocation
-- order (due date, then oldest charge, then id), so the index alone gives a payment its
-- charges in the order it pays them. No row changes.
DROP INDEX credit_usage_open_idx;
CREATE INDEX credit_usage_open_idx ON credit_usage (organization_id, credit_account_id, due_date, created_at, usage_id)
  WHERE status IN ('pending', 'overdue');
