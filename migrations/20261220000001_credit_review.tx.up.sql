-- Review of §13/§14 (decisions-credit-risk.md):
--  * credit_limit_changes is backfilled from the audit log, so CreditAccount.asOf reads the
--    limit each account had before migration 20261214000001_credit_risk started recording
--    it: credit.open carries the opening limit, credit.update_limit (when the limit changed)
--    and credit.approve_limit the new one, each with its actor and time. An account whose
--    latest recorded limit is not its limit now (its audit history is incomplete) gets one
--    more row, its limit at this migration: asOf is exact from here on.
--  * opened_by is backfilled from the actor of credit.open: the manager who opened a pending
--    account may not approve it (four-eyes).
--  * Whether a request needs a second approver is stored with it, from the policy when it
--    was made: turning the policy off does not let its maker approve it. Rows existing here
--    need one (the conservative choice).
--  * UPDATE on organizations is revoked: only Citus needs it (`citus distribute` grants it).
ALTER TABLE credit_accounts
  ADD COLUMN open_requires_second_approver boolean NOT NULL DEFAULT true,
  ADD COLUMN limit_requires_second_approver boolean NOT NULL DEFAULT true;

-- The backfill reads every organization's rows: the owner is exempted from the policies for
-- these statements only (FORCE is restored in the same transaction), and updated_at keeps
-- describing the last change made through the API.
ALTER TABLE credit_accounts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE credit_limit_changes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE credit_accounts DISABLE TRIGGER credit_accounts_updated_at;

UPDATE credit_accounts AS ca SET opened_by = o.actor_id
  FROM (SELECT DISTINCT ON (organization_id, entity_id) organization_id, entity_id, actor_id
          FROM audit_log WHERE action = 'credit.open' AND entity_type = 'credit_account'
         ORDER BY organization_id, entity_id, created_at) AS o
 WHERE ca.opened_by IS NULL AND o.organization_id = ca.organization_id AND o.entity_id = ca.credit_account_id;

-- History older than each account's first recorded limit (all of it when there is none).
INSERT INTO credit_limit_changes (organization_id, credit_account_id, credit_limit, changed_by, changed_at)
SELECT a.organization_id, a.entity_id,
       (CASE WHEN a.action = 'credit.open' THEN a.details->>'credit_limit' ELSE a.details->>'new_credit_limit' END)::numeric(12,2),
       a.actor_id, a.created_at
  FROM audit_log AS a
  JOIN credit_accounts AS ca ON ca.organization_id = a.organization_id AND ca.credit_account_id = a.entity_id
 WHERE a.entity_type = 'credit_account'
   AND ((a.action = 'credit.open' AND a.details ? 'credit_limit')
     OR (a.action IN ('credit.update_limit', 'credit.approve_limit') AND a.details ? 'new_credit_limit'
         AND NOT a.details ? 'deferred' AND 'credit_limit' = ANY (a.changed_fields)))
   AND a.created_at < COALESCE((SELECT min(lc.changed_at) FROM credit_limit_changes AS lc
                                 WHERE lc.organization_id = a.organization_id AND lc.credit_account_id = a.entity_id),
                               'infinity');

-- The limit at this migration, where the history does not end with it. changed_by: the
-- opener or approver when known, else the nil uuid (no one: this migration).
INSERT INTO credit_limit_changes (organization_id, credit_account_id, credit_limit, changed_by, changed_at)
SELECT ca.organization_id, ca.credit_account_id, ca.credit_limit,
       COALESCE(ca.opened_by, ca.approved_by, '00000000-0000-0000-0000-000000000000'), now()
  FROM credit_accounts AS ca
 WHERE ca.credit_limit IS DISTINCT FROM (
       SELECT lc.credit_limit FROM credit_limit_changes AS lc
        WHERE lc.organization_id = ca.organization_id AND lc.credit_account_id = ca.credit_account_id
        ORDER BY lc.changed_at DESC LIMIT 1);

ALTER TABLE credit_accounts ENABLE TRIGGER credit_accounts_updated_at;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE credit_limit_changes FORCE ROW LEVEL SECURITY;
ALTER TABLE credit_accounts FORCE ROW LEVEL SECURITY;

REVOKE UPDATE ON organizations FROM customer_service_app;
