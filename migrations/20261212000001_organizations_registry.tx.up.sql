-- The organizations registry: the organizations the scheduled jobs (§9) visit, one row each,
-- a global table (a reference table on Citus, copied to every node). It replaces
-- tenant_organization_ids(), a SECURITY DEFINER function owned by the NOLOGIN role
-- customer_service_definer: on Citus such a function reads the shards as its owner, which
-- would then have to log in to every worker. An organization is registered when its first
-- customer is created (customers.Service.Create) and by the seeder; the organizations that
-- already have customers are registered here.
CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The backfill reads every organization's customers: the owner is exempted from the policy
-- for this statement only (FORCE is restored in the same transaction).
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
INSERT INTO organizations (id, created_at)
  SELECT organization_id, min(created_at) FROM customers GROUP BY organization_id;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;

-- Every organization's id is readable (as tenant_organization_ids() returned them); an
-- organization registers only itself: the transaction's organization, as the tenant tables'
-- policies set it.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY registry_read ON organizations FOR SELECT USING (true);
CREATE POLICY registry_register ON organizations FOR INSERT
  WITH CHECK (id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);
-- UPDATE only for Citus: a registration (INSERT … ON CONFLICT DO NOTHING into a reference
-- table) locks the table's shard EXCLUSIVE on every node (lock_shard_resources), which takes
-- UPDATE privilege. No policy allows an UPDATE, so none changes a row.
GRANT SELECT, INSERT, UPDATE ON organizations TO customer_service_app;

DROP FUNCTION tenant_organization_ids();
