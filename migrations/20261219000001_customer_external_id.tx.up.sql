-- §10 import: the customer's key in the system a CSV import comes from (a shop, an ERP, a
-- spreadsheet), so a re-run of the same file finds the customers it created instead of
-- creating them again. Optional (customers created through the API have none), unique per
-- organization. No stored row is rewritten: the column starts NULL.
ALTER TABLE customers ADD COLUMN external_id varchar(100)
  CONSTRAINT customers_external_id_check CHECK (external_id IS NULL OR char_length(external_id) >= 1);
ALTER TABLE customers ADD CONSTRAINT customers_external_id_key UNIQUE (organization_id, external_id);
