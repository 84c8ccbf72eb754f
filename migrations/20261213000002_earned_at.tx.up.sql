-- §13 back-dated purchases: the instant a movement of points counts from, when it is not the
-- instant it was recorded. An earn of a purchase counts (toward tiers) from the purchase's
-- occurred_at and its lot expires points_lifetime_months after it. NULL means created_at:
-- rows written before this column existed keep the meaning they had.
ALTER TABLE loyalty_transactions ADD COLUMN occurred_at timestamptz;
