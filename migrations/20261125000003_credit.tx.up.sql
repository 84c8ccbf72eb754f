-- B2B credit (DESIGN §5): what the credit rules add to the init schema.

-- The daily overdue job visits one organization at a time (row-level security) and looks
-- for pending usages past their due date.
CREATE INDEX credit_usage_pending_due_idx ON credit_usage (organization_id, due_date)
  WHERE status = 'pending';

-- A usage's status agrees with what is paid of it: paid means paid in full; an open
-- (pending or overdue) usage still owes something. The service keeps both; the database
-- is the last line of defence.
ALTER TABLE credit_usage
  ADD CONSTRAINT credit_usage_paid_in_full CHECK (status <> 'paid' OR amount_paid = amount),
  ADD CONSTRAINT credit_usage_open_owes CHECK (status NOT IN ('pending', 'overdue') OR amount_paid < amount);
