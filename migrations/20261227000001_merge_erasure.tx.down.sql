REVOKE UPDATE (result) ON customer_merges FROM customer_service_app;
