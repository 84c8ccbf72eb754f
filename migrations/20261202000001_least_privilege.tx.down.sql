-- Reverses 20261202000001_least_privilege: the grants of the init migration again.
GRANT DELETE ON loyalty_accounts, loyalty_transactions, purchases, purchase_refunds,
  credit_accounts, credit_usage, credit_payments TO customer_service_app;
GRANT UPDATE ON purchase_refunds, credit_payments TO customer_service_app;
