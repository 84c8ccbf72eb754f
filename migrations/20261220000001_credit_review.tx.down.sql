-- The backfilled openers and limit history stay: they are what the audit log records, and
-- the columns existed before this migration.
GRANT UPDATE ON organizations TO customer_service_app;

ALTER TABLE credit_accounts
  DROP COLUMN limit_requires_second_approver,
  DROP COLUMN open_requires_second_approver;
