-- Reverses 20261126000001_loyalty.
ALTER TABLE loyalty_transactions DROP CONSTRAINT IF EXISTS loyalty_transactions_lot_expires_check;
DROP INDEX IF EXISTS loyalty_accounts_org_tier_expires_idx;
DROP INDEX IF EXISTS loyalty_transactions_org_expiring_idx;
DROP INDEX IF EXISTS loyalty_transactions_refund_key;
DROP INDEX IF EXISTS loyalty_transactions_earn_key;
DROP INDEX IF EXISTS loyalty_transactions_bonus_key;
DROP INDEX IF EXISTS loyalty_transactions_redeem_key;
