package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"

	"customerservice/db"
)

// The scheduler of §9: `serve` runs the Daily jobs every day at the configured time,
// exactly once across any number of replicas sharing the database.
//
// Exactly once per job and slot comes from a claim row, not from a lock held during the
// run: the replica whose INSERT of (job, slot) into job_runs succeeds runs it, every other
// one finds the row and skips, also one that starts (or restarts) later in the slot. While
// it runs, the claimant sends a heartbeat; a claim left "running" without one for
// StaleAfter (the replica crashed or lost the database) is taken over by the next replica
// that looks, as a new attempt, and the old claimant can no longer record its end (every
// write names the attempt). See docs/decisions-jobs.md.

// Status is the state of a run (job_runs.status).
type Status string

const (
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// errClaimLost stops a run whose claim another replica has taken over.
var errClaimLost = errors.New("the claim was taken over by another replica after its heartbeat went stale")

// Options configure a Scheduler; zero values take the defaults.
type Options struct {
	Schedule Schedule
	Jobs     []Job  // Daily when nil
	Instance string // names this replica in job_runs; host/pid/random when empty
	// StaleAfter is how long a running claim may go without a heartbeat before another
	// replica takes it over (default 5m); heartbeats go every fifth of it.
	StaleAfter time.Duration
	// Grace is how long a run in progress at shutdown may go on before it is cancelled and
	// recorded as failed (default 20s, the HTTP drain of `serve`).
	Grace time.Duration
	// RetryAfter is how soon a slot whose claim could not be made (the database was
	// unreachable) is tried again (default 1m).
	RetryAfter time.Duration
	Now        func() time.Time // the clock (default time.Now); tests move it
	Log        zerolog.Logger
}

// Scheduler runs the jobs of each slot that no other replica has claimed.
type Scheduler struct {
	pool bun.IDB
	opts Options
}

// NewScheduler returns a scheduler over the server's pool (the role under row-level
// security: each organization is visited in a transaction of its own).
func NewScheduler(pool bun.IDB, opts Options) *Scheduler {
	if opts.Jobs == nil {
		opts.Jobs = Daily
	}
	if opts.Instance == "" {
		opts.Instance = defaultInstance()
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Minute
	}
	if opts.Grace <= 0 {
		opts.Grace = 20 * time.Second
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	initMetrics(opts.Jobs)
	return &Scheduler{pool: pool, opts: opts}
}

// Instance is the name this replica claims runs under.
func (s *Scheduler) Instance() string { return s.opts.Instance }

func defaultInstance() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	// The random part tells apart two starts of one container (both pid 1 on one host).
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// now is the clock at PostgreSQL's precision, in UTC.
func (s *Scheduler) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Outcome is what this replica did with one job of one slot.
type Outcome struct {
	Job     string
	Slot    time.Time
	Outcome string // OutcomeSuccess, OutcomeFailure or OutcomeSkipped
	Attempt int    // the claim's attempt, when this replica ran the job
	Holder  string // skipped: the replica that has the slot
	Err     error  // failure: why
	// unclaimed: the claim itself failed (no row was written), so the slot is retried.
	unclaimed bool
	// holderRunning: skipped because another replica's run is in progress; looked at again
	// after StaleAfter, to take it over if that replica has died.
	holderRunning bool
}

// Run runs the due slot at once (a slot no replica has claimed yet, such as today's after
// a late start), then each slot as it comes, until ctx is done. A run in progress then gets
// Grace to finish; after that it is cancelled and recorded as failed, never left running.
func (s *Scheduler) Run(ctx context.Context) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(s.opts.Grace, cancelWork) })
	defer stopGrace()
	s.opts.Log.Info().Str("instance", s.opts.Instance).Str("daily_at_utc", fmtTimeOfDay(s.opts.Schedule.At)).
		Int("jobs", len(s.opts.Jobs)).Msg("jobs: scheduler started")

	var slot time.Time // the slot being worked on
	var pending []Job  // its jobs to look at again: unclaimed, or running elsewhere
	var rechecks map[string]bool
	var retryIn time.Duration
	for {
		if due := s.opts.Schedule.Slot(s.now()); !due.Equal(slot) {
			slot, pending, rechecks = due, s.opts.Jobs, map[string]bool{}
		}
		if len(pending) > 0 {
			var again []Job
			retryIn = s.opts.StaleAfter
			for i, o := range s.runSlot(ctx, work, slot, pending, rechecks) {
				switch {
				case o.unclaimed:
					again, retryIn = append(again, pending[i]), min(retryIn, s.opts.RetryAfter)
				case o.holderRunning:
					again, rechecks[o.Job] = append(again, pending[i]), true
				}
			}
			pending = again
		}
		if ctx.Err() != nil {
			s.opts.Log.Info().Msg("jobs: scheduler stopped")
			return
		}
		now := s.now()
		wait := s.opts.Schedule.Next(now).Sub(now)
		if len(pending) > 0 {
			wait = min(wait, retryIn)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.opts.Log.Info().Msg("jobs: scheduler stopped")
			return
		case <-timer.C:
		}
	}
}

// RunDue runs every job of the slot due at the clock's now that no replica has claimed,
// one after the other, and reports what this replica did with each.
func (s *Scheduler) RunDue(ctx context.Context) []Outcome {
	return s.runSlot(ctx, ctx, s.opts.Schedule.Slot(s.now()), s.opts.Jobs, nil)
}

// runSlot claims and runs the slot's jobs with work, in order, one outcome each; once
// stopping is done it claims no more (the outcomes end there). A job in rechecks was seen
// skipped before: skipping it again is not counted again.
func (s *Scheduler) runSlot(stopping, work context.Context, slot time.Time, jobs []Job, rechecks map[string]bool) []Outcome {
	var out []Outcome
	for _, job := range jobs {
		if stopping.Err() != nil {
			break
		}
		out = append(out, s.runJob(work, job, slot, rechecks[job.Name]))
	}
	return out
}

func (s *Scheduler) runJob(ctx context.Context, job Job, slot time.Time, recheck bool) Outcome {
	log := s.opts.Log.With().Str("job", job.Name).Time("slot", slot).Logger()
	out := Outcome{Job: job.Name, Slot: slot}
	attempt, claimed, err := s.claim(ctx, job.Name, slot)
	if err != nil {
		out.Outcome, out.Err, out.unclaimed = OutcomeFailure, err, true
		jobRuns.WithLabelValues(job.Name, out.Outcome).Inc()
		log.Error().Err(err).Msg("jobs: could not claim the slot; retrying later")
		return out
	}
	if !claimed {
		out.Outcome = OutcomeSkipped
		var status Status
		if err := s.pool.QueryRowContext(ctx, "SELECT instance, status FROM job_runs WHERE job = ? AND slot = ?", job.Name, slot).
			Scan(&out.Holder, &status); err != nil {
			log.Warn().Err(err).Msg("jobs: read the slot's claim")
		}
		out.holderRunning = status == StatusRunning
		log := log.With().Str("holder", out.Holder).Str("status", string(status)).Bool("holder_on_this_host", sameHost(out.Holder, s.opts.Instance)).Logger()
		if recheck {
			log.Debug().Msg("jobs: looked again; the slot is still claimed")
			return out
		}
		jobRuns.WithLabelValues(job.Name, out.Outcome).Inc()
		log.Info().Msg(skipMessage(status))
		return out
	}
	out.Attempt = attempt
	log = log.With().Int("attempt", attempt).Logger()
	log.Info().Msg("jobs: claimed the slot, running")

	started := time.Now()
	runCtx, cancel := context.WithCancelCause(ctx)
	stopHeartbeat := s.heartbeat(runCtx, cancel, job.Name, slot, attempt, log)
	totals, runErr := s.visit(runCtx, job, slot, attempt, log)
	stopHeartbeat()
	if cause := context.Cause(runCtx); errors.Is(cause, errClaimLost) {
		runErr = errors.Join(runErr, cause)
	}
	cancel(nil)

	// The end is recorded even when ctx is cancelled (shutdown): a run is never left running.
	end, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelEnd()
	status := StatusSucceeded
	if runErr != nil {
		status = StatusFailed
	}
	if err := s.finish(end, job.Name, slot, attempt, status, totals, runErr); err != nil {
		if !errors.Is(runErr, err) {
			runErr = errors.Join(runErr, err)
		}
		status = StatusFailed
	}
	elapsed := time.Since(started)
	jobDuration.WithLabelValues(job.Name).Observe(elapsed.Seconds())
	if status == StatusSucceeded {
		out.Outcome = OutcomeSuccess
		log.Info().Int("organizations", totals.Organizations).Int("changed", totals.Changed).Dur("duration_ms", elapsed).Msg("jobs: done")
	} else {
		out.Outcome, out.Err = OutcomeFailure, runErr
		log.Error().Err(runErr).Int("organizations", totals.Organizations).Int("failed_organizations", totals.FailedOrganizations).
			Dur("duration_ms", elapsed).Msg("jobs: failed")
	}
	jobRuns.WithLabelValues(job.Name, out.Outcome).Inc()
	return out
}

// skipMessage says why a job of a slot claimed by someone else was skipped. The holder may
// be another replica, or this server's own previous process (a restart later the same day,
// or after a crash): the message does not guess, the log line names the holder.
func skipMessage(status Status) string {
	if status == StatusRunning {
		return "jobs: skipped, the slot is claimed by a run in progress (taken over if its heartbeat stops for JOBS_STALE_AFTER)"
	}
	return "jobs: skipped, this slot has already run"
}

// sameHost reports whether two instance names (host/pid/random) name the same host.
func sameHost(a, b string) bool {
	ha, _, okA := strings.Cut(a, "/")
	hb, _, okB := strings.Cut(b, "/")
	return okA && okB && ha == hb
}

// claim inserts the (job, slot) row, or takes over one whose heartbeat is older than
// StaleAfter; ok is false when another replica has the slot (running, done or failed).
// ON CONFLICT locks the existing row and re-checks the condition on its latest version, so
// of two replicas taking over one stale claim only one gets it.
func (s *Scheduler) claim(ctx context.Context, job string, slot time.Time) (attempt int, ok bool, err error) {
	now := s.now()
	err = s.pool.QueryRowContext(ctx, `INSERT INTO job_runs AS r (job, slot, status, instance, started_at, heartbeat_at)
		VALUES (?, ?, 'running', ?, ?, ?)
		ON CONFLICT (job, slot) DO UPDATE
			SET instance = excluded.instance, attempt = r.attempt + 1,
				started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
			WHERE r.status = 'running' AND r.heartbeat_at < ?
		RETURNING attempt`, job, slot, s.opts.Instance, now, now, now.Add(-s.opts.StaleAfter)).Scan(&attempt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("claim %s for %s: %w", job, slot.Format(time.RFC3339), err)
	}
	return attempt, true, nil
}

// heartbeat keeps the claim fresh until stop is called. When the claim is no longer this
// attempt's (taken over after a stall), it cancels the run with errClaimLost.
func (s *Scheduler) heartbeat(ctx context.Context, lost context.CancelCauseFunc, job string, slot time.Time, attempt int, log zerolog.Logger) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.opts.StaleAfter / 5)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			res, err := s.pool.ExecContext(ctx, `UPDATE job_runs SET heartbeat_at = ?
				WHERE job = ? AND slot = ? AND instance = ? AND attempt = ? AND status = 'running'`,
				s.now(), job, slot, s.opts.Instance, attempt)
			if err != nil { // transient: the claim goes stale only after StaleAfter
				log.Warn().Err(err).Msg("jobs: heartbeat failed")
				continue
			}
			if n, _ := res.RowsAffected(); n == 0 {
				log.Error().Msg("jobs: lost the claim to another replica; stopping this run")
				lost(errClaimLost)
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// runTotals is a run's result over every organization (job_runs.result).
type runTotals struct {
	Organizations       int            `json:"organizations"`
	FailedOrganizations int            `json:"failedOrganizations"`
	Changed             int            `json:"changed"`
	Details             map[string]int `json:"details"`
}

// visit runs the job for every organization, each in its own transactions under row-level
// security, recording what it did there. One organization's failure does not stop the
// others; a cancelled ctx does (shutdown, or the claim lost).
func (s *Scheduler) visit(ctx context.Context, job Job, slot time.Time, attempt int, log zerolog.Logger) (runTotals, error) {
	totals := runTotals{Details: map[string]int{}}
	ids, err := db.Organizations(ctx, s.pool)
	if err != nil {
		return totals, fmt.Errorf("list organizations: %w", err)
	}
	if len(ids) == 0 {
		log.Warn().Msg("jobs: no organization registered yet (an organization is registered with its first customer)")
	}
	now := s.now()
	var errs []error
	for i, id := range ids {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("stopped after %d of %d organizations: %w", i, len(ids), context.Cause(ctx)))
			break
		}
		org, err := uuid.Parse(id)
		if err != nil {
			return totals, fmt.Errorf("organization id %q: %w", id, err)
		}
		sum, runErr := job.Run(ctx, s.pool, org, now)
		status := StatusSucceeded
		if runErr != nil {
			status = StatusFailed
			sum = Summary{Details: map[string]int{}}
		}
		// Recorded even when the run was just cancelled, so the organization's managers see it failed.
		rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		recErr := s.record(rec, org, job.Name, slot, attempt, status, sum)
		cancel()
		totals.Organizations++
		if err := errors.Join(runErr, recErr); err != nil {
			totals.FailedOrganizations++
			errs = append(errs, err)
			if errors.Is(recErr, errClaimLost) {
				break // the new claimant visits every organization again
			}
			continue
		}
		totals.Changed += sum.Changed
		for k, v := range sum.Details {
			totals.Details[k] += v
		}
	}
	return totals, errors.Join(errs...)
}

// record writes what the job did in the organization, in a transaction of that
// organization, while the claim is still this attempt's: a replica that lost its claim
// cannot overwrite what the new claimant records. FOR SHARE makes a takeover wait for this
// write, so the two never interleave.
func (s *Scheduler) record(ctx context.Context, org uuid.UUID, job string, slot time.Time, attempt int, status Status, sum Summary) error {
	result, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	err = db.InOrg(ctx, s.pool, org, false, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO job_run_results (organization_id, job, slot, status, result, finished_at)
			SELECT ?, r.job, r.slot, ?, ?, ? FROM job_runs r
			WHERE r.job = ? AND r.slot = ? AND r.instance = ? AND r.attempt = ? AND r.status = 'running'
			FOR SHARE
			ON CONFLICT (organization_id, job) DO UPDATE
				SET slot = excluded.slot, status = excluded.status, result = excluded.result, finished_at = excluded.finished_at`,
			org, status, string(result), s.now(), job, slot, s.opts.Instance, attempt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errClaimLost
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the result of organization %s: %w", org, err)
	}
	return nil
}

// maxErrorText bounds job_runs.error: with many organizations failing alike, the first
// ones tell the story.
const maxErrorText = 4000

// finish records the end of this attempt; an error when the claim is no longer its own.
func (s *Scheduler) finish(ctx context.Context, job string, slot time.Time, attempt int, status Status, totals runTotals, runErr error) error {
	result, err := json.Marshal(totals)
	if err != nil {
		return err
	}
	var errText *string
	if runErr != nil {
		msg := runErr.Error()
		if len(msg) > maxErrorText {
			msg = msg[:maxErrorText] + "…"
		}
		errText = &msg
	}
	now := s.now()
	res, err := s.pool.ExecContext(ctx, `UPDATE job_runs
		SET status = ?, finished_at = ?, heartbeat_at = ?, result = ?, error = ?
		WHERE job = ? AND slot = ? AND instance = ? AND attempt = ? AND status = 'running'`,
		status, now, now, string(result), errText, job, slot, s.opts.Instance, attempt)
	if err != nil {
		return fmt.Errorf("record the end of the run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errClaimLost
	}
	return nil
}

func fmtTimeOfDay(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}
