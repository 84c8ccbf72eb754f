-- §12 timeline and audit log (docs/decisions-timeline.md).
--
-- Who did it, on the ledger rows the timeline reads: the user id of the caller, or the nil
-- uuid 00000000-0000-0000-0000-000000000000 for SYSTEM (the scheduled jobs and the rules they
-- apply). NULL on the rows written before this migration: their actor was not kept (the
-- timeline says UNKNOWN). No index: the column is only read with its row.
ALTER TABLE purchases ADD COLUMN actor_id uuid;
ALTER TABLE purchase_refunds ADD COLUMN actor_id uuid;
ALTER TABLE loyalty_transactions ADD COLUMN actor_id uuid;
ALTER TABLE credit_usage ADD COLUMN actor_id uuid;
ALTER TABLE credit_payments ADD COLUMN actor_id uuid;

-- auditLog pages newest first, (created_at, audit_id) DESC: unfiltered, by time or by entity
-- type (a handful of common values) on the time index; by actor, action and entity each on its
-- own. The entity index of the init migration (type, id, created_at) is replaced by one by id
-- in the page's order (an id names one entity, whatever its type).
CREATE INDEX audit_log_org_time_idx ON audit_log (organization_id, created_at DESC, audit_id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (organization_id, actor_id, created_at DESC, audit_id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (organization_id, action, created_at DESC, audit_id DESC);
DROP INDEX audit_log_entity_idx;
CREATE INDEX audit_log_entity_time_idx ON audit_log (organization_id, entity_id, created_at DESC, audit_id DESC);

-- The timeline's events that only the audit trail holds (status, limit and profile changes,
-- tier changes, erasure, ...): the audit rows of a customer, its loyalty account and its
-- credit account, except the actions whose event the timeline reads from a ledger (the list
-- is timeline.LedgerActions; a test compares them). Those are most of the rows, so the
-- index stays small and a write of a purchase, charge or point movement does not touch it.
CREATE INDEX audit_log_timeline_idx ON audit_log (organization_id, entity_type, entity_id, created_at DESC, audit_id DESC)
  WHERE action NOT IN ('loyalty.purchase', 'loyalty.refund', 'loyalty.redeem', 'loyalty.bonus', 'loyalty.adjust',
    'loyalty.expire', 'credit.charge', 'credit.payment');
