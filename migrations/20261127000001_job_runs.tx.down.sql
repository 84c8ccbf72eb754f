-- Reverses 20261127000001_job_runs.
DROP TABLE IF EXISTS job_run_results;
DROP TABLE IF EXISTS job_runs;
