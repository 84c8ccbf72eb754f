DROP INDEX customers_org_birth_date_idx;
DROP INDEX addresses_default_line_idx;
DROP FUNCTION app_address_line_key(text);
