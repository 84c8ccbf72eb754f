-- §14 credit risk: the organization's credit policy, and who opened an account or asked for
-- a limit increase (four-eyes approval). Stored rows are not rewritten: accounts opened
-- before this migration have no recorded opener (decisions-credit-risk.md).

-- One row of settings per organization, created with these defaults on first use.
CREATE TABLE credit_policies (
  organization_id          uuid NOT NULL,
  block_when_overdue_days  integer NOT NULL DEFAULT 30 CHECK (block_when_overdue_days BETWEEN 0 AND 3650),
  warn_utilization_percent integer NOT NULL DEFAULT 90 CHECK (warn_utilization_percent BETWEEN 1 AND 100),
  require_second_approver  boolean NOT NULL DEFAULT true,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id)
);
CREATE TRIGGER credit_policies_updated_at BEFORE UPDATE ON credit_policies
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

ALTER TABLE credit_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_policies
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- Settings are created and changed, never deleted.
GRANT SELECT, INSERT, UPDATE ON credit_policies TO customer_service_app;

-- opened_by: the manager who opened the account. limit_requested_by/at: who last asked for
-- a limit the account does not have yet — on a pending account the limit itself (when
-- changed after opening), on an approved or suspended one requested_limit, an increase
-- waiting for a second manager.
ALTER TABLE credit_accounts
  ADD COLUMN opened_by uuid,
  ADD COLUMN requested_limit numeric(12,2) CHECK (requested_limit >= 0),
  ADD COLUMN limit_requested_by uuid,
  ADD COLUMN limit_requested_at timestamptz,
  ADD CONSTRAINT credit_accounts_limit_request_check
    CHECK (requested_limit IS NULL OR (limit_requested_by IS NOT NULL AND requested_limit > credit_limit));

-- §13 credit as of an instant, from append-only ledgers (rows are inserted, never updated
-- or deleted by the server): what each payment allocated to each charge and when, and every
-- limit an account had from when. A charge's cancellation is recorded once, in
-- credit_usage.cancelled_at. History before this migration was not recorded: the as-of
-- reads fall back as decisions-credit-risk.md says.
CREATE TABLE credit_allocations (
  organization_id   uuid NOT NULL,
  allocation_id     uuid NOT NULL DEFAULT gen_random_uuid(),
  credit_account_id uuid NOT NULL,
  payment_id        uuid NOT NULL,
  usage_id          uuid NOT NULL,
  amount            numeric(12,2) NOT NULL CHECK (amount > 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, allocation_id),
  CONSTRAINT credit_allocations_payment_usage_key UNIQUE (organization_id, payment_id, usage_id),
  CONSTRAINT credit_allocations_account_fkey FOREIGN KEY (organization_id, credit_account_id)
    REFERENCES credit_accounts (organization_id, credit_account_id) ON DELETE CASCADE,
  CONSTRAINT credit_allocations_payment_fkey FOREIGN KEY (organization_id, payment_id)
    REFERENCES credit_payments (organization_id, payment_id) ON DELETE CASCADE,
  CONSTRAINT credit_allocations_usage_fkey FOREIGN KEY (organization_id, usage_id)
    REFERENCES credit_usage (organization_id, usage_id) ON DELETE CASCADE
);
CREATE INDEX credit_allocations_usage_idx ON credit_allocations (organization_id, usage_id, created_at);

CREATE TABLE credit_limit_changes (
  organization_id   uuid NOT NULL,
  change_id         uuid NOT NULL DEFAULT gen_random_uuid(),
  credit_account_id uuid NOT NULL,
  credit_limit      numeric(12,2) NOT NULL CHECK (credit_limit >= 0),
  changed_by        uuid NOT NULL,
  changed_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, change_id),
  CONSTRAINT credit_limit_changes_account_fkey FOREIGN KEY (organization_id, credit_account_id)
    REFERENCES credit_accounts (organization_id, credit_account_id) ON DELETE CASCADE
);
CREATE INDEX credit_limit_changes_account_idx ON credit_limit_changes (organization_id, credit_account_id, changed_at);

ALTER TABLE credit_usage ADD COLUMN cancelled_at timestamptz;

ALTER TABLE credit_allocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_allocations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_allocations
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);
ALTER TABLE credit_limit_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_limit_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON credit_limit_changes
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- Append-only: the server inserts and reads them.
GRANT SELECT, INSERT ON credit_allocations, credit_limit_changes TO customer_service_app;
