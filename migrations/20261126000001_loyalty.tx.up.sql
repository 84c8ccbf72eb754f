-- §4 loyalty and §8 idempotency: the keys that make the loyalty mutations safe to retry, and
-- the indexes of the expiry and tier jobs. No new table, so no new policy (§7).

-- A redemption is unique by (reference_type, reference_id) in its organization.
CREATE UNIQUE INDEX loyalty_transactions_redeem_key ON loyalty_transactions
  (organization_id, reference_type, reference_id) WHERE transaction_type = 'redeem';

-- A bonus is unique by reference_id per account: one campaign id rewards many customers,
-- each once.
CREATE UNIQUE INDEX loyalty_transactions_bonus_key ON loyalty_transactions
  (loyalty_account_id, reference_id) WHERE transaction_type = 'bonus';

-- A purchase earns once and a refund reverses once (the last line of defence behind
-- purchases_order_key and the purchase_refunds primary key).
CREATE UNIQUE INDEX loyalty_transactions_earn_key ON loyalty_transactions
  (organization_id, reference_id) WHERE transaction_type = 'earn' AND reference_type = 'order';
CREATE UNIQUE INDEX loyalty_transactions_refund_key ON loyalty_transactions
  (organization_id, reference_id) WHERE transaction_type = 'adjust' AND reference_type = 'refund';

-- The expiry job finds an organization's lots past their date.
CREATE INDEX loyalty_transactions_org_expiring_idx ON loyalty_transactions (organization_id, expires_at)
  WHERE points_remaining > 0;

-- The tier job finds an organization's tiers past their date.
CREATE INDEX loyalty_accounts_org_tier_expires_idx ON loyalty_accounts (organization_id, tier_expires_at)
  WHERE tier_expires_at IS NOT NULL;

-- A lot never outlives its transaction type: only earn, bonus and positive adjustments are
-- lots, and every lot expires (§4).
ALTER TABLE loyalty_transactions ADD CONSTRAINT loyalty_transactions_lot_expires_check
  CHECK ((points_remaining IS NULL) = (expires_at IS NULL));
