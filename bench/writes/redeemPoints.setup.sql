-- redeemPoints: 1,000,000 points for each account, as one lot (a manual adjustment: it does
-- not count toward tiers), so every redemption of the run has points to take.
INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
  reference_type, reference_id, description, points_remaining, expires_at, created_at)
SELECT organization_id, loyalty_account_id, 'adjust', 1000000, points_balance + 1000000, 'manual',
  'bench-redeem-' || loyalty_account_id, 'Benchmark points', 1000000, now() + interval '11 months', clock_timestamp()
FROM loyalty_accounts WHERE organization_id = :'org';
UPDATE loyalty_accounts SET points_balance = points_balance + 1000000 WHERE organization_id = :'org';
