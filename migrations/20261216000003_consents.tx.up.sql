-- §11: the consent history of each customer, per purpose: append-only (the server's role may
-- insert and read; it may update only the evidence text, which eraseCustomer clears). The
-- current state of a purpose is its latest row. customers.marketing_consent stays the current
-- state of MARKETING_EMAIL (written with each of its rows); rows stored before the history
-- existed are not rewritten: a customer whose marketing_consent is true and who has no
-- MARKETING_EMAIL row shows that purpose as granted, with no date (docs/decisions-privacy.md).
CREATE TABLE customer_consents (
  organization_id uuid NOT NULL,
  consent_id      uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id     uuid NOT NULL,
  purpose         varchar(30) NOT NULL CHECK (purpose IN ('marketing_email', 'marketing_sms', 'marketing_whatsapp', 'profiling', 'third_party_sharing')),
  granted         boolean NOT NULL,
  -- NULL: recorded through createCustomer/updateCustomer's marketingConsent, which has no channel
  channel         varchar(20) CHECK (channel IN ('pos', 'web', 'app', 'call_center', 'import')),
  evidence        varchar(500),
  recorded_by     uuid NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT customer_consents_pkey PRIMARY KEY (organization_id, consent_id),
  CONSTRAINT customer_consents_customer_fkey FOREIGN KEY (organization_id, customer_id)
    REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE
);
-- A customer's history newest first, and the latest row of a purpose.
CREATE INDEX customer_consents_history_idx ON customer_consents (organization_id, customer_id, recorded_at DESC, consent_id DESC);
CREATE INDEX customer_consents_purpose_idx ON customer_consents (organization_id, customer_id, purpose, recorded_at DESC, consent_id DESC);

ALTER TABLE customer_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_consents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_consents
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

GRANT SELECT, INSERT ON customer_consents TO customer_service_app;
GRANT UPDATE (evidence) ON customer_consents TO customer_service_app;
