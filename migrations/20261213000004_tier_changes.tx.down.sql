DROP TABLE loyalty_tier_changes;
