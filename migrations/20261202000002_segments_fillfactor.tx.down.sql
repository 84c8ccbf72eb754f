ALTER TABLE customer_segments RESET (fillfactor);
