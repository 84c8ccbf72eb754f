ALTER TABLE loyalty_transactions DROP COLUMN occurred_at;
