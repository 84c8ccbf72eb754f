-- §13 balances as of a date: the tier changes of each account, append-only, so the tier in
-- force at any instant can be answered (loyalty_accounts holds only the current one). One
-- row per change — upgrade, job or lazy re-evaluation, vesting — at the instant it happened.
CREATE TABLE loyalty_tier_changes (
  organization_id    uuid NOT NULL,
  tier_change_id     uuid NOT NULL DEFAULT gen_random_uuid(),
  loyalty_account_id uuid NOT NULL,
  tier               varchar(10) NOT NULL CHECK (tier IN ('bronze', 'silver', 'gold', 'platinum')),
  changed_at         timestamptz NOT NULL,
  PRIMARY KEY (organization_id, tier_change_id),
  FOREIGN KEY (organization_id, loyalty_account_id) REFERENCES loyalty_accounts (organization_id, loyalty_account_id)
    ON DELETE CASCADE
);
CREATE INDEX loyalty_tier_changes_account_idx ON loyalty_tier_changes (organization_id, loyalty_account_id, changed_at);

ALTER TABLE loyalty_tier_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE loyalty_tier_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON loyalty_tier_changes
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- Append-only: the server inserts and reads.
GRANT SELECT, INSERT ON loyalty_tier_changes TO customer_service_app;

-- What is known of the tiers before this table: each account above bronze holds its tier
-- since the start of its tier_since day (no stored row is changed).
INSERT INTO loyalty_tier_changes (organization_id, loyalty_account_id, tier, changed_at)
SELECT organization_id, loyalty_account_id, tier, tier_since::timestamp AT TIME ZONE 'UTC'
FROM loyalty_accounts WHERE tier <> 'bronze';
