ALTER TABLE customers DROP CONSTRAINT customers_external_id_key;
ALTER TABLE customers DROP COLUMN external_id;
