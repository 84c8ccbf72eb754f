DROP INDEX audit_log_timeline_idx;
DROP INDEX audit_log_entity_time_idx;
CREATE INDEX audit_log_entity_idx ON audit_log (organization_id, entity_type, entity_id, created_at);
DROP INDEX audit_log_action_idx;
DROP INDEX audit_log_actor_idx;
DROP INDEX audit_log_org_time_idx;

ALTER TABLE credit_payments DROP COLUMN actor_id;
ALTER TABLE credit_usage DROP COLUMN actor_id;
ALTER TABLE loyalty_transactions DROP COLUMN actor_id;
ALTER TABLE purchase_refunds DROP COLUMN actor_id;
ALTER TABLE purchases DROP COLUMN actor_id;
