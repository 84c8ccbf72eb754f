-- §7: the server's role holds exactly the grants its statements need. The init migration
-- gave it DELETE on every table and UPDATE on append-only ones; what each table needs,
-- from every statement the server, `seed`, `jobs` and `segments` run as this role:
--
--   customers             SELECT INSERT UPDATE DELETE  DELETE: seed removes an unfinished demo load
--   addresses             SELECT INSERT UPDATE DELETE  DELETE: eraseCustomer removes them (§3)
--   customer_segments     SELECT INSERT UPDATE DELETE  DELETE: recalculation drops stale rows (§6)
--   loyalty_programs, loyalty_accounts, loyalty_transactions (lots), purchases (refunded
--   amounts), credit_accounts, credit_usage, job_runs, job_run_results
--                         SELECT INSERT UPDATE
--   purchase_refunds, credit_payments, audit_log
--                         SELECT INSERT               append-only
--   v_customer_360, bun_migrations
--                         SELECT
--
-- Ledger rows are never deleted: they go only with their customer, by ON DELETE CASCADE,
-- which PostgreSQL runs as the tables' owner. Locking reads (FOR UPDATE/SHARE) need UPDATE,
-- which every table they lock keeps.
REVOKE DELETE ON loyalty_accounts, loyalty_transactions, purchases, purchase_refunds,
  credit_accounts, credit_usage, credit_payments FROM customer_service_app;
REVOKE UPDATE ON purchase_refunds, credit_payments FROM customer_service_app;
