-- §11 the privacy requests log (Ley 81 de 2019: access, rectification, cancellation,
-- opposition, portability) and the organization's privacy settings (how many business days
-- it has to answer). Nothing stored before is touched (docs/decisions-privacy.md).

-- One row of settings per organization, created on the first change; until then the
-- defaults of package privacy apply (the same values as these DEFAULTs).
CREATE TABLE privacy_settings (
  organization_id uuid NOT NULL,
  response_days   integer NOT NULL DEFAULT 10 CHECK (response_days BETWEEN 1 AND 90),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT privacy_settings_pkey PRIMARY KEY (organization_id)
);
CREATE TRIGGER privacy_settings_updated_at BEFORE UPDATE ON privacy_settings
  FOR EACH ROW EXECUTE FUNCTION app_set_updated_at();

-- A request of a data subject, optionally about a customer of the organization. due_date and
-- response_days are fixed when it is recorded (a later change of the settings moves no due
-- date). The server's role inserts and reads; it updates only the completion, and the free
-- text (erasure clears notes and outcome); it never deletes a request.
CREATE TABLE privacy_requests (
  organization_id    uuid NOT NULL,
  privacy_request_id uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id        uuid,
  request_type       varchar(20) NOT NULL CHECK (request_type IN ('access', 'rectification', 'cancellation', 'opposition', 'portability')),
  status             varchar(20) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'rejected')),
  received_at        timestamptz NOT NULL,
  response_days      integer NOT NULL CHECK (response_days BETWEEN 1 AND 90),
  due_date           date NOT NULL,
  notes              varchar(10000),
  outcome            varchar(10000),
  idempotency_key    varchar(255),
  recorded_by        uuid NOT NULL,
  recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  completed_by       uuid,
  completed_at       timestamptz,
  CONSTRAINT privacy_requests_pkey PRIMARY KEY (organization_id, privacy_request_id),
  CONSTRAINT privacy_requests_idempotency_key UNIQUE (organization_id, idempotency_key),
  CONSTRAINT privacy_requests_customer_fkey FOREIGN KEY (organization_id, customer_id)
    REFERENCES customers (organization_id, customer_id),
  CONSTRAINT privacy_requests_completion_check CHECK (
    (status = 'open') = (completed_at IS NULL) AND (completed_at IS NULL) = (completed_by IS NULL)),
  CONSTRAINT privacy_requests_due_check CHECK (due_date >= (received_at AT TIME ZONE 'UTC')::date)
);
-- The log newest first (every filter is read in this order), the open requests alone (the
-- OPEN and overdue filters), and a customer's requests (the export).
CREATE INDEX privacy_requests_received_idx ON privacy_requests (organization_id, received_at DESC, privacy_request_id DESC);
CREATE INDEX privacy_requests_open_idx ON privacy_requests (organization_id, received_at DESC, privacy_request_id DESC)
  WHERE status = 'open';
CREATE INDEX privacy_requests_customer_idx ON privacy_requests (organization_id, customer_id, received_at DESC)
  WHERE customer_id IS NOT NULL;

ALTER TABLE privacy_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privacy_settings
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

ALTER TABLE privacy_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE privacy_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privacy_requests
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- Settings are created and changed, never deleted.
GRANT SELECT, INSERT, UPDATE ON privacy_settings TO customer_service_app;
GRANT SELECT, INSERT ON privacy_requests TO customer_service_app;
GRANT UPDATE (status, outcome, completed_by, completed_at, notes) ON privacy_requests TO customer_service_app;
