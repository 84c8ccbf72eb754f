package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
)

// Service reads the scheduled jobs and their last runs for the caller's organization (the
// `scheduledJobs` query).
type Service struct {
	pool     *db.Handle
	schedule *Schedule // nil: this replica does not schedule the jobs
	now      func() time.Time
}

// NewService reads the runs through pool; schedule is this replica's (nil when JOBS_ENABLED
// is false), for the next run's time.
func NewService(pool *db.Handle, schedule *Schedule) *Service {
	return &Service{pool: pool, schedule: schedule, now: time.Now}
}

// JobState is a job with its next and last run.
type JobState struct {
	Job       Job
	NextRunAt *time.Time // nil when this replica does not schedule the jobs
	LastRun   *JobRun    // nil before the first run
}

// JobRun is one run of a job, for one slot, with what it did in the caller's organization.
type JobRun struct {
	Slot       time.Time
	StartedAt  time.Time
	FinishedAt *time.Time
	Status     Status
	// Organization is the run's result in the caller's organization; nil when the run has
	// not visited it (an organization without customers, or a run stopped before it).
	Organization *JobRunResult
}

// JobRunResult is what a run did in one organization.
type JobRunResult struct {
	Status     Status
	Summary    Summary
	FinishedAt time.Time
}

// Jobs lists the Daily jobs, in their order, with their latest runs. Only the caller's
// organization's results are read (row-level security, and the filter); the runs
// themselves are global and hold no tenant's data.
func (s *Service) Jobs(ctx context.Context) ([]JobState, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(Daily))
	for i, j := range Daily {
		names[i] = j.Name
	}
	var rows []struct {
		Job           string     `bun:"job"`
		Slot          time.Time  `bun:"slot"`
		Status        Status     `bun:"status"`
		StartedAt     time.Time  `bun:"started_at"`
		FinishedAt    *time.Time `bun:"finished_at"`
		OrgStatus     *Status    `bun:"org_status"`
		OrgResult     []byte     `bun:"org_result"`
		OrgFinishedAt *time.Time `bun:"org_finished_at"`
	}
	err = db.Read(ctx, s.pool, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(`SELECT DISTINCT ON (r.job) r.job, r.slot, r.status, r.started_at, r.finished_at,
				o.status AS org_status, o.result AS org_result, o.finished_at AS org_finished_at
			FROM job_runs r
			LEFT JOIN job_run_results o ON o.organization_id = ? AND o.job = r.job AND o.slot = r.slot
			WHERE r.job IN (?)
			ORDER BY r.job, r.slot DESC`, p.OrganizationID, bun.List(names)).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("read the job runs: %w", err)
	}
	last := make(map[string]*JobRun, len(rows))
	for _, r := range rows {
		run := &JobRun{Slot: r.Slot, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status}
		if r.OrgStatus != nil {
			run.Organization = &JobRunResult{Status: *r.OrgStatus, FinishedAt: *r.OrgFinishedAt}
			if err := json.Unmarshal(r.OrgResult, &run.Organization.Summary); err != nil {
				return nil, fmt.Errorf("job %s: result: %w", r.Job, err)
			}
		}
		last[r.Job] = run
	}
	var next *time.Time
	if s.schedule != nil {
		t := s.schedule.Next(s.now())
		next = &t
	}
	out := make([]JobState, len(Daily))
	for i, j := range Daily {
		out[i] = JobState{Job: j, NextRunAt: next, LastRun: last[j.Name]}
	}
	return out, nil
}
