\set n random(1, 1000)
BEGIN;
SET LOCAL ROLE customer_service_app;
SELECT set_config('app.current_organization_id', :org, true);
SELECT json_build_object('firstName', c.first_name, 'pointsBalance', la.points_balance, 'tier', la.tier)
FROM customers c LEFT JOIN loyalty_accounts la ON la.customer_id = c.customer_id
WHERE c.customer_id = (SELECT id FROM bench_ids WHERE n = :n);
COMMIT;
