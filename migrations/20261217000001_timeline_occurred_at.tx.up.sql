-- §12/§13 the timeline after pending points and back-dated purchases
-- (docs/decisions-timeline.md).
--
-- A points movement sits at its occurred_at when it has one (the earn of a back-dated
-- purchase counts at the purchase's time), else at created_at: the timeline's points branch
-- reads the account's movements in that order from this index, starting at a cursor.
CREATE INDEX loyalty_transactions_account_occurred_idx ON loyalty_transactions
  (loyalty_account_id, (COALESCE(occurred_at, created_at)) DESC, transaction_id DESC);

-- Vesting writes a `loyalty.vest` audit row (SYSTEM) whose event the timeline reads from the
-- ledger's `vest` row (POINTS_VESTED): it joins the actions the timeline's audit index leaves
-- out (timeline.LedgerActions; a test compares them).
DROP INDEX audit_log_timeline_idx;
CREATE INDEX audit_log_timeline_idx ON audit_log (organization_id, entity_type, entity_id, created_at DESC, audit_id DESC)
  WHERE action NOT IN ('loyalty.purchase', 'loyalty.refund', 'loyalty.redeem', 'loyalty.bonus', 'loyalty.adjust',
    'loyalty.expire', 'credit.charge', 'credit.payment', 'loyalty.vest');
