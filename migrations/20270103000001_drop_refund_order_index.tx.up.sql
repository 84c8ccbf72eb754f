-- The tier check no longer looks up an earn's refund reversals by the order they record
-- (metadata->>'order_id'): it reads what the purchase's refunds reversed from the purchase
-- (purchases.points_reversed, by its key). Nothing reads loyalty_transactions_refund_order_idx
-- any more, and every refund paid for its entry.
DROP INDEX loyalty_transactions_refund_order_idx;
