-- customerStats of a whole organization counts again: the counters, their triggers and
-- functions go.
DROP TRIGGER customer_counts_insert ON customers;
DROP TRIGGER customer_counts_delete ON customers;
DROP TRIGGER customer_counts_update ON customers;
DROP TRIGGER customer_counts_insert ON loyalty_accounts;
DROP TRIGGER customer_counts_delete ON loyalty_accounts;
DROP TRIGGER customer_counts_update ON loyalty_accounts;
DROP TRIGGER customer_counts_insert ON customer_segments;
DROP TRIGGER customer_counts_delete ON customer_segments;
DROP TRIGGER customer_counts_update ON customer_segments;
DROP FUNCTION customer_counts_customers();
DROP FUNCTION customer_counts_loyalty();
DROP FUNCTION customer_counts_segments();
DROP TABLE customer_counts;
