BEGIN;
SET LOCAL ROLE customer_service_app;
SELECT set_config('app.current_organization_id', :org, true);
SELECT json_agg(x) FROM (
  SELECT json_build_object('customer', row_to_json(c),
    'addresses', (SELECT json_agg(a) FROM addresses a WHERE a.customer_id = c.customer_id),
    'loyalty', (SELECT json_build_object('account', row_to_json(la), 'transactions',
        (SELECT json_agg(t) FROM (SELECT * FROM loyalty_transactions t WHERE t.loyalty_account_id = la.loyalty_account_id ORDER BY created_at DESC LIMIT 5) t))
      FROM loyalty_accounts la WHERE la.customer_id = c.customer_id),
    'credit', (SELECT json_build_object('account', row_to_json(ca), 'usages',
        (SELECT json_agg(u) FROM credit_usage u WHERE u.credit_account_id = ca.credit_account_id))
      FROM credit_accounts ca WHERE ca.customer_id = c.customer_id),
    'segment', (SELECT row_to_json(s) FROM customer_segments s WHERE s.customer_id = c.customer_id)) x
  FROM customers c ORDER BY c.created_at DESC LIMIT 50) q;
COMMIT;
