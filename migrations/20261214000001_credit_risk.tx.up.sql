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
