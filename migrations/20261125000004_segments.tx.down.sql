-- Reverses 20261125000004_segments.
ALTER TABLE customer_segments RESET (fillfactor);
DROP INDEX IF EXISTS purchases_rfm_idx;
