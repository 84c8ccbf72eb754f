DROP INDEX audit_log_timeline_idx;
CREATE INDEX audit_log_timeline_idx ON audit_log (organization_id, entity_type, entity_id, created_at DESC, audit_id DESC)
  WHERE action NOT IN ('loyalty.purchase', 'loyalty.refund', 'loyalty.redeem', 'loyalty.bonus', 'loyalty.adjust',
    'loyalty.expire', 'credit.charge', 'credit.payment');
DROP INDEX loyalty_transactions_account_occurred_idx;
