-- Issue 17 (flat in history): the qualifying points of tiers (§4, §13) kept per account and
-- day, so a tier check reads at most a year of day totals and the transactions of the window's
-- first day, never the account's whole history.
--
-- points: the qualifying points whose instant falls on that UTC day — an earn or bonus at its
-- effective instant COALESCE(vests_at, occurred_at, created_at), a refund's reversal at the
-- instant of the earn it reverses — for every ledger row except the lots still pending (their
-- points enter the day of vests_at when they vest, net of the refunds that cancelled part of
-- them). Written by the same transaction as the ledger row that changes it (package loyalty).
CREATE TABLE loyalty_qualifying_days (
  organization_id    uuid NOT NULL,
  loyalty_account_id uuid NOT NULL,
  day                date NOT NULL,
  points             bigint NOT NULL,
  PRIMARY KEY (organization_id, loyalty_account_id, day),
  FOREIGN KEY (organization_id, loyalty_account_id) REFERENCES loyalty_accounts (organization_id, loyalty_account_id)
    ON DELETE CASCADE
);

ALTER TABLE loyalty_qualifying_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE loyalty_qualifying_days FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON loyalty_qualifying_days
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- The server adds to a day (INSERT … ON CONFLICT DO UPDATE) and reads.
GRANT SELECT, INSERT, UPDATE ON loyalty_qualifying_days TO customer_service_app;

-- The ledger rows a tier check still reads: earns and bonuses by their effective instant (the
-- window's first day, and any instant after its end), a refund's reversals by the order they
-- reverse, and an account's pending lots.
CREATE INDEX loyalty_transactions_qualifying_idx ON loyalty_transactions
  (organization_id, loyalty_account_id, (COALESCE(vests_at, occurred_at, created_at)))
  WHERE transaction_type IN ('earn', 'bonus');
CREATE INDEX loyalty_transactions_refund_order_idx ON loyalty_transactions (organization_id, (metadata->>'order_id'))
  WHERE transaction_type = 'adjust' AND reference_type = 'refund';
CREATE INDEX loyalty_transactions_pending_lots_idx ON loyalty_transactions (organization_id, loyalty_account_id, vests_at)
  WHERE pending;

-- The day totals of the ledger as it stands (a new table; no stored row is changed). The
-- owner reads every organization's ledger for this statement only (FORCE is restored in the
-- same transaction).
ALTER TABLE loyalty_transactions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE loyalty_qualifying_days NO FORCE ROW LEVEL SECURITY;
INSERT INTO loyalty_qualifying_days (organization_id, loyalty_account_id, day, points)
SELECT e.organization_id, e.loyalty_account_id, (COALESCE(e.vests_at, e.occurred_at, e.created_at) AT TIME ZONE 'UTC')::date,
  sum(e.points + CASE WHEN e.transaction_type = 'earn' AND e.reference_type = 'order' THEN
    COALESCE((SELECT sum(r.points) FROM loyalty_transactions r
      WHERE r.organization_id = e.organization_id AND r.transaction_type = 'adjust' AND r.reference_type = 'refund'
        AND r.metadata->>'order_id' = e.reference_id AND r.loyalty_account_id = e.loyalty_account_id), 0)
    ELSE 0 END)
FROM loyalty_transactions e
WHERE e.transaction_type IN ('earn', 'bonus') AND NOT e.pending
GROUP BY 1, 2, 3;
ALTER TABLE loyalty_qualifying_days FORCE ROW LEVEL SECURITY;
ALTER TABLE loyalty_transactions FORCE ROW LEVEL SECURITY;
