DROP INDEX credit_usage_open_idx;
CREATE INDEX credit_usage_open_idx ON credit_usage (credit_account_id, due_date)
  WHERE status IN ('pending', 'overdue');
