-- §10 merge (docs/decisions-merge.md). No stored row is rewritten.
--
-- A merged customer keeps its row: status 'merged' and merged_into, the survivor it was
-- merged into (in the same organization). The two go together.
ALTER TABLE customers DROP CONSTRAINT customers_status_check,
  ADD CONSTRAINT customers_status_check CHECK (status IN ('active', 'inactive', 'blocked', 'merged'));
ALTER TABLE customers ADD COLUMN merged_into uuid,
  ADD CONSTRAINT customers_merged_into_check CHECK ((status = 'merged') = (merged_into IS NOT NULL)),
  ADD CONSTRAINT customers_merged_into_fkey FOREIGN KEY (organization_id, merged_into)
    REFERENCES customers (organization_id, customer_id);
-- The customers merged into one (the foreign key's index; a survivor's merged records).
CREATE INDEX customers_merged_into_idx ON customers (organization_id, merged_into) WHERE merged_into IS NOT NULL;

-- A point movement moved into the survivor's account by a merge keeps the account it was
-- recorded on here (its balance_after is that account's). A bonus is unique per account and
-- reference among the account's own movements: the two records of one person may each have
-- had the sign-up bonus, and both stay in the combined ledger.
ALTER TABLE loyalty_transactions ADD COLUMN merged_from_account_id uuid;
DROP INDEX loyalty_transactions_bonus_key;
CREATE UNIQUE INDEX loyalty_transactions_bonus_key ON loyalty_transactions
  (organization_id, loyalty_account_id, reference_id) WHERE transaction_type = 'bonus' AND merged_from_account_id IS NULL;

-- One row per merge: its idempotency key, what was asked and the answer it gave (a replay
-- answers it again, §8). Append-only.
CREATE TABLE customer_merges (
  organization_id uuid NOT NULL,
  merge_id        uuid NOT NULL DEFAULT gen_random_uuid(),
  idempotency_key varchar(255) NOT NULL CHECK (char_length(idempotency_key) >= 1),
  survivor_id     uuid NOT NULL,
  merged_ids      uuid[] NOT NULL CHECK (cardinality(merged_ids) BETWEEN 1 AND 10),
  field_choices   jsonb NOT NULL DEFAULT '{}',
  result          jsonb NOT NULL,
  merged_by       uuid NOT NULL,
  merged_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_merges_pkey PRIMARY KEY (organization_id, merge_id),
  CONSTRAINT customer_merges_key UNIQUE (organization_id, idempotency_key),
  CONSTRAINT customer_merges_survivor_fkey FOREIGN KEY (organization_id, survivor_id)
    REFERENCES customers (organization_id, customer_id) ON DELETE CASCADE
);

ALTER TABLE customer_merges ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_merges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_merges
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

GRANT SELECT, INSERT ON customer_merges TO customer_service_app;
