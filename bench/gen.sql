-- Deterministic synthetic data for the Customer 360 benchmark, adapted from
-- shared/bench/gen.sql to this project's schema (migrations/): lower-case enums, E.164 phones,
-- timestamptz, balance_after and point lots on loyalty_transactions, amount_paid and
-- due_date on credit_usage. Org A (measured): :n customers (psql -v n=100000; bench/run.sh
-- --size), org B: 10,000. Runs as the owner (a superuser: row-level security does not filter
-- the load). About a minute for 100,000, ten or more for 1,000,000.
SELECT setseed(0.42);
INSERT INTO loyalty_programs (organization_id) VALUES
  ('aaaaaaaa-0000-0000-0000-000000000001'), ('bbbbbbbb-0000-0000-0000-000000000002');
INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name, email, phone,
  document_type, document_number, birth_date, status, tags, created_at, updated_at, last_purchase_at)
SELECT md5('c'||g)::uuid,
  CASE WHEN g <= :n THEN 'aaaaaaaa-0000-0000-0000-000000000001'::uuid ELSE 'bbbbbbbb-0000-0000-0000-000000000002'::uuid END,
  CASE WHEN g % 5 = 0 THEN 'b2b' ELSE 'b2c' END,
  (ARRAY['Ana','Luis','María','José','Carmen','Carlos','Lucía','Jorge','Sofía','Diego'])[1 + g % 10],
  (ARRAY['Pérez','González','Rodríguez','Castillo','Herrera','Vargas','Moreno','Ríos','Batista','Núñez'])[1 + (g / 10) % 10],
  'user'||g||'@example.com', '+5076'||lpad((g % 10000000)::text, 7, '0'),
  'cedula', '8-'||g, date '1960-01-01' + (g % 15000), CASE WHEN g % 50 = 0 THEN 'blocked' ELSE 'active' END,
  ARRAY['retail'], timestamptz '2024-01-01 00:00Z' + (g % 600) * interval '1 day' + (g % 86400) * interval '1 second',
  timestamptz '2026-01-01 00:00Z', timestamptz '2026-01-01 00:00Z' + (g % 300) * interval '1 day'
FROM generate_series(1, :n + 10000) g;
INSERT INTO addresses (organization_id, customer_id, address_type, address_line1, city, is_default)
SELECT c.organization_id, c.customer_id, CASE WHEN k = 1 THEN 'shipping' ELSE 'billing' END,
  'Calle '||k||' Casa '||right(c.document_number, 3), 'Panamá', k = 1
FROM customers c, generate_series(1, 2) k WHERE k = 1 OR get_byte(decode(md5(c.customer_id::text), 'hex'), 0) < 128;
INSERT INTO loyalty_accounts (loyalty_account_id, customer_id, organization_id, points_balance, lifetime_points, tier,
  tier_since, total_purchases, total_spent)
SELECT md5('l'||c.customer_id)::uuid, c.customer_id, c.organization_id, (random() * 5000)::int, (random() * 20000)::int,
  (ARRAY['bronze','silver','gold','platinum'])[1 + (random() * 3)::int], date '2026-01-01', (random() * 40)::int,
  round((random() * 9000)::numeric, 2)
FROM customers c WHERE get_byte(decode(md5(c.customer_id::text), 'hex'), 1) < 180;
-- earn and bonus rows are point lots (points_remaining, expires_at); redeem rows are not.
INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after,
  reference_type, reference_id, points_remaining, expires_at, created_at)
SELECT la.organization_id, la.loyalty_account_id, x.typ, x.pts, 1000 + k * 10, 'order', la.loyalty_account_id::text || '-' || k,
  CASE WHEN x.typ = 'redeem' THEN NULL ELSE x.pts / 2 END,
  CASE WHEN x.typ = 'redeem' THEN NULL ELSE timestamptz '2026-06-01 00:00Z' + k * interval '3 days' END,
  timestamptz '2025-06-01 00:00Z' + k * interval '3 days'
FROM loyalty_accounts la, generate_series(1, 5 + (get_byte(decode(md5(la.loyalty_account_id::text), 'hex'), 0) % 26)) k,
  LATERAL (SELECT (ARRAY['earn','earn','earn','redeem','bonus'])[1 + (k % 5)] AS typ,
                  CASE WHEN k % 5 = 3 THEN -(10 + k) ELSE 10 + k * 3 END AS pts) x;
INSERT INTO credit_accounts (credit_account_id, customer_id, organization_id, credit_limit, credit_used, payment_term_days,
  status, approved_at)
SELECT md5('k'||c.customer_id)::uuid, c.customer_id, c.organization_id, 5000, 0, 30, 'approved', timestamptz '2025-01-01 00:00Z'
FROM customers c WHERE c.customer_type = 'b2b';
INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, amount_paid, status, due_date, created_at)
SELECT ca.organization_id, ca.credit_account_id, 'ord-'||k, 100 + k * 10,
  CASE WHEN k % 3 = 0 THEN 100 + k * 10 ELSE 0 END, CASE WHEN k % 3 = 0 THEN 'paid' ELSE 'pending' END,
  date '2026-10-01' + k * 7, timestamptz '2026-09-01 00:00Z' + k * interval '7 days'
FROM credit_accounts ca, generate_series(1, get_byte(decode(md5(ca.credit_account_id::text), 'hex'), 0) % 11) k;
UPDATE credit_accounts ca SET credit_used = u.open
FROM (SELECT credit_account_id, sum(amount - amount_paid) AS open FROM credit_usage
      WHERE status = 'pending' GROUP BY credit_account_id) u
WHERE u.credit_account_id = ca.credit_account_id;
INSERT INTO customer_segments (customer_id, organization_id, segment_code, rfm_recency, rfm_frequency, rfm_monetary,
  lifetime_value, total_orders)
SELECT c.customer_id, c.organization_id,
  (ARRAY['champions','loyal','potential_loyalist','new','at_risk','lost'])[1 + (abs(hashtext(c.customer_id::text)) % 6)],
  1 + abs(hashtext(c.email)) % 5, 1 + abs(hashtext(c.first_name || c.customer_id)) % 5,
  1 + abs(hashtext(c.last_name || c.customer_id)) % 5, round((random() * 20000)::numeric, 2), 1 + (random() * 50)::int
FROM customers c WHERE get_byte(decode(md5(c.customer_id::text), 'hex'), 2) < 230;
VACUUM ANALYZE;
