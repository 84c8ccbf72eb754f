-- §9 scheduled jobs, once across replicas (docs/decisions-jobs.md).

-- One row per job and slot (the scheduled time a run is for). Inserting it is the claim:
-- the primary key lets exactly one replica insert it, so a slot runs once however many
-- replicas try, and a replica that starts later finds it done. A replica that stops
-- answering stops sending heartbeats; its claim may then be taken over (attempt + 1).
--
-- Global, so exempt from row-level security: one run visits every organization, and the
-- row holds no tenant's data (a job name, times, the replica, totals and the operators'
-- error text). What a run did in an organization is in job_run_results, which has
-- organization_id and RLS like every tenant table.
CREATE TABLE job_runs (
  job          varchar(50) NOT NULL,
  slot         timestamptz NOT NULL,
  status       varchar(10) NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  instance     varchar(200) NOT NULL,
  attempt      integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  finished_at  timestamptz,
  result       jsonb NOT NULL DEFAULT '{}',
  error        text,
  PRIMARY KEY (job, slot),
  CHECK ((status = 'running') = (finished_at IS NULL))
);

-- What the latest run of each job did in each organization, for its managers
-- (`scheduledJobs`): one row per organization and job, overwritten by every run, so the
-- table stays as small as organizations × jobs.
CREATE TABLE job_run_results (
  organization_id uuid NOT NULL,
  job             varchar(50) NOT NULL,
  slot            timestamptz NOT NULL,
  status          varchar(10) NOT NULL CHECK (status IN ('succeeded', 'failed')),
  result          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(result) = 'object'),
  finished_at     timestamptz NOT NULL,
  PRIMARY KEY (organization_id, job),
  FOREIGN KEY (job, slot) REFERENCES job_runs
);

ALTER TABLE job_run_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_run_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_run_results
  USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
  WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);

-- Claims are inserted and updated, never deleted (the history stays for operators).
GRANT SELECT, INSERT, UPDATE ON job_runs, job_run_results TO customer_service_app;
