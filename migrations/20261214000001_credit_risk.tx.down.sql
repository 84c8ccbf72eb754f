ALTER TABLE credit_usage DROP COLUMN cancelled_at;
DROP TABLE credit_limit_changes;
DROP TABLE credit_allocations;

ALTER TABLE credit_accounts
  DROP CONSTRAINT credit_accounts_limit_request_check,
  DROP COLUMN limit_requested_at,
  DROP COLUMN limit_requested_by,
  DROP COLUMN requested_limit,
  DROP COLUMN opened_by;

DROP TABLE credit_policies;
