package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
	"customerservice/jobs"
)

// These tests are not parallel: a scheduler visits every organization of the package's
// database, and job_runs is global. Each test uses slots of its own (its own dates).

// daily is the schedule of the tests: 03:00 UTC.
var daily = jobs.Schedule{At: 3 * time.Hour}

// seedDue gives org a customer with a lot of points already expired (expiring before the
// real now) and a credit charge past its due date: work for points_expiry and overdue_credit.
func seedDue(t *testing.T, owner *db.Pool, org uuid.UUID, points int) {
	t.Helper()
	customer, account, credit := uuid.New(), uuid.New(), uuid.New()
	now := time.Now()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING`, []any{org}},
		{`INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name) VALUES (?, ?, 'b2b', 'Acme', 'SA')`, []any{customer, org}},
		{`INSERT INTO loyalty_accounts (loyalty_account_id, organization_id, customer_id, points_balance, lifetime_points) VALUES (?, ?, ?, ?, ?)`, []any{account, org, customer, points, points}},
		{`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, points_remaining, expires_at, created_at)
			VALUES (?, ?, 'bonus', ?, ?, ?, ?, ?)`, []any{org, account, points, points, points, now.Add(-time.Hour), now.AddDate(-1, 0, 0)}},
		{`INSERT INTO credit_accounts (credit_account_id, organization_id, customer_id, credit_limit, credit_used, status) VALUES (?, ?, ?, 500, 50, 'approved')`, []any{credit, org, customer}},
		{`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, due_date) VALUES (?, ?, 'o-1', 50, current_date - 1)`, []any{org, credit}},
	} {
		if _, err := owner.ExecContext(context.Background(), stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
}

// clockAt is a fixed clock.
func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// jobRun is a row of job_runs.
type jobRun struct {
	Job        string     `bun:"job"`
	Status     string     `bun:"status"`
	Instance   string     `bun:"instance"`
	Attempt    int        `bun:"attempt"`
	FinishedAt *time.Time `bun:"finished_at"`
	Error      *string    `bun:"error"`
	Result     string     `bun:"result"`
}

func runsOf(t *testing.T, owner *db.Pool, slot time.Time) map[string]jobRun {
	t.Helper()
	var rows []jobRun
	if err := owner.NewRaw(`SELECT job, status, instance, attempt, finished_at, error, result::text AS result
		FROM job_runs WHERE slot = ? ORDER BY job`, slot).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]jobRun{}
	for _, r := range rows {
		out[r.Job] = r
	}
	return out
}

// effects is what the jobs left in org: expire transactions, the balance, the charge's status.
func effects(t *testing.T, owner *db.Pool, org uuid.UUID) (expires, balance int, usage string) {
	t.Helper()
	err := owner.QueryRowContext(context.Background(), `SELECT
			(SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0 AND transaction_type = 'expire'),
			(SELECT points_balance FROM loyalty_accounts WHERE organization_id = ?0),
			(SELECT status FROM credit_usage WHERE organization_id = ?0)`, org).Scan(&expires, &balance, &usage)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// metric reads a series of the default registry (what /metrics serves): a counter's value or
// a histogram's sample count.
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
		return 0
	}
	t.Fatalf("metric %s is not registered with the default registry", name)
	return 0
}

// jobMetrics is every job's runs by outcome and its duration samples.
type jobMetrics map[string]float64

func readJobMetrics(t *testing.T) jobMetrics {
	t.Helper()
	m := jobMetrics{}
	for _, j := range jobs.Daily {
		for _, o := range []string{jobs.OutcomeSuccess, jobs.OutcomeFailure, jobs.OutcomeSkipped} {
			m[j.Name+" "+o] = metric(t, "customer_service_job_runs_total", map[string]string{"job": j.Name, "outcome": o})
		}
		m[j.Name+" duration"] = metric(t, "customer_service_job_duration_seconds", map[string]string{"job": j.Name})
	}
	return m
}

// since is how much each series grew from before.
func (m jobMetrics) since(before jobMetrics) jobMetrics {
	d := jobMetrics{}
	for k, v := range m {
		d[k] = v - before[k]
	}
	return d
}

// Two replicas, each with its own pool, reach the 03:00 slot at the same moment: each job
// runs exactly once — one replica runs it, the other records a skip — and its effects are
// written once. A replica (re)started later in the same slot runs nothing; the next day's
// slot runs again.
func TestScheduler_TwoReplicasRunEachSlotExactlyOnce(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	ctx := context.Background()
	org := uuid.New()
	seedDue(t, owner, org, 100)
	slot := time.Date(2031, 3, 10, 3, 0, 0, 0, time.UTC)
	now := slot.Add(30 * time.Second)
	replica := func(name string, at time.Time) *jobs.Scheduler {
		return jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: name, Now: clockAt(at)})
	}
	a, b := replica("replica-a", now), replica("replica-b", now)
	before := readJobMetrics(t)

	var wg sync.WaitGroup
	outcomes := make([][]jobs.Outcome, 2)
	start := make(chan struct{})
	for i, s := range []*jobs.Scheduler{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outcomes[i] = s.RunDue(ctx)
		}()
	}
	close(start)
	wg.Wait()

	for i, j := range jobs.Daily {
		oa, ob := outcomes[0][i], outcomes[1][i]
		if oa.Job != j.Name || ob.Job != j.Name || !oa.Slot.Equal(slot) || !ob.Slot.Equal(slot) {
			t.Fatalf("outcome %d: %+v / %+v, want job %s of slot %s", i, oa, ob, j.Name, slot)
		}
		ran, skipped, runner := oa, ob, a
		if oa.Outcome == jobs.OutcomeSkipped {
			ran, skipped, runner = ob, oa, b
		}
		if ran.Outcome != jobs.OutcomeSuccess || ran.Err != nil || ran.Attempt != 1 || skipped.Outcome != jobs.OutcomeSkipped {
			t.Errorf("%s: outcomes %+v and %+v, want one success and one skip", j.Name, oa, ob)
		}
		if skipped.Holder != runner.Instance() {
			t.Errorf("%s: the skipping replica names %q as the holder, want %q", j.Name, skipped.Holder, runner.Instance())
		}
	}

	runs := runsOf(t, owner, slot)
	if len(runs) != len(jobs.Daily) {
		t.Fatalf("job_runs for the slot: %+v, want one row per job", runs)
	}
	for _, j := range jobs.Daily {
		r := runs[j.Name]
		if r.Status != "succeeded" || r.Attempt != 1 || r.FinishedAt == nil || r.Error != nil ||
			(r.Instance != "replica-a" && r.Instance != "replica-b") {
			t.Errorf("%s: %+v", j.Name, r)
		}
	}
	var total struct {
		Organizations int            `json:"organizations"`
		Failed        int            `json:"failedOrganizations"`
		Details       map[string]int `json:"details"`
	}
	if err := json.Unmarshal([]byte(runs["points_expiry"].Result), &total); err != nil {
		t.Fatal(err)
	}
	if total.Organizations < 1 || total.Failed != 0 || total.Details["expiredPoints"] < 100 {
		t.Errorf("points_expiry's result: %s", runs["points_expiry"].Result)
	}
	if expires, balance, usage := effects(t, owner, org); expires != 1 || balance != 0 || usage != "overdue" {
		t.Fatalf("after the slot: %d expire transactions, balance %d, charge %s; want 1, 0, overdue", expires, balance, usage)
	}
	// What each job did in the organization, for its managers.
	var results []struct {
		Job    string `bun:"job"`
		Status string `bun:"status"`
		Result string `bun:"result"`
	}
	if err := owner.NewRaw(`SELECT job, status, result::text AS result FROM job_run_results WHERE organization_id = ? AND slot = ? ORDER BY job`,
		org, slot).Scan(ctx, &results); err != nil {
		t.Fatal(err)
	}
	want := map[string]jobs.Summary{
		"overdue_credit":    {Changed: 1, Details: map[string]int{"chargesMarkedOverdue": 1}},
		"points_expiry":     {Changed: 1, Details: map[string]int{"expiredAccounts": 1, "expiredPoints": 100, "vestedAccounts": 0, "vestedPoints": 0}},
		"rfm_segments":      {Changed: 0, Details: map[string]int{"customersScored": 0, "segmentsRemoved": 0}},
		"tier_reevaluation": {Changed: 0, Details: map[string]int{"tiersEvaluated": 0, "tiersChanged": 0}},
	}
	if len(results) != len(want) {
		t.Fatalf("job_run_results of the organization: %+v", results)
	}
	for _, r := range results {
		var sum jobs.Summary
		if err := json.Unmarshal([]byte(r.Result), &sum); err != nil {
			t.Fatal(err)
		}
		if r.Status != "succeeded" || !reflect.DeepEqual(sum, want[r.Job]) {
			t.Errorf("%s in the organization: %s %+v, want succeeded %+v", r.Job, r.Status, sum, want[r.Job])
		}
	}
	got := readJobMetrics(t).since(before)
	for _, j := range jobs.Daily {
		if got[j.Name+" success"] != 1 || got[j.Name+" skipped"] != 1 || got[j.Name+" failure"] != 0 || got[j.Name+" duration"] != 1 {
			t.Errorf("%s metrics grew by success %v, skipped %v, failure %v, duration samples %v; want 1, 1, 0, 1", j.Name,
				got[j.Name+" success"], got[j.Name+" skipped"], got[j.Name+" failure"], got[j.Name+" duration"])
		}
	}

	// A replica restarted later in the slot (new pool, new name) finds every job done.
	seedDue(t, owner, uuid.New(), 10) // new work it must not do in this slot
	restarted := replica("replica-a-restarted", slot.Add(20*time.Hour))
	for _, o := range restarted.RunDue(ctx) {
		if o.Outcome != jobs.OutcomeSkipped || !o.Slot.Equal(slot) {
			t.Errorf("restart in the same slot: %+v, want skipped", o)
		}
	}
	if again := runsOf(t, owner, slot); fmt.Sprint(again) != fmt.Sprint(runs) {
		t.Errorf("job_runs changed on a restart in the slot:\n%v\n%v", again, runs)
	}
	if expires, _, _ := effects(t, owner, org); expires != 1 {
		t.Errorf("%d expire transactions after the restart, want 1", expires)
	}

	// The next day's slot runs again, once.
	next := slot.AddDate(0, 0, 1)
	for _, o := range replica("replica-b", next.Add(time.Minute)).RunDue(ctx) {
		if o.Outcome != jobs.OutcomeSuccess || !o.Slot.Equal(next) {
			t.Errorf("next slot: %+v, want success", o)
		}
	}
	if n := len(runsOf(t, owner, next)); n != len(jobs.Daily) {
		t.Errorf("%d runs for the next slot, want %d", n, len(jobs.Daily))
	}
}

// waitFor polls cond until it holds (a few seconds at most).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// blockingJob is a job that, in its first organization, says it started and then waits for
// release or for its context to end.
func blockingJob(name string, started chan<- struct{}, release <-chan struct{}) jobs.Job {
	var once sync.Once
	return jobs.Job{Name: name, Description: "test", Run: func(ctx context.Context, _ bun.IDB, _ uuid.UUID, _ time.Time) (jobs.Summary, error) {
		first := false
		once.Do(func() { first = true; close(started) })
		if !first {
			return jobs.Summary{Changed: 1}, nil
		}
		select {
		case <-release:
			return jobs.Summary{Changed: 1}, nil
		case <-ctx.Done():
			return jobs.Summary{}, ctx.Err()
		}
	}}
}

func quickJob(name string) jobs.Job {
	return jobs.Job{Name: name, Description: "test", Run: func(context.Context, bun.IDB, uuid.UUID, time.Time) (jobs.Summary, error) {
		return jobs.Summary{Changed: 2, Details: map[string]int{"done": 2}}, nil
	}}
}

// While one replica runs a job, another that reaches the slot skips it, naming the holder,
// and does not wait for it.
func TestScheduler_SkipsAJobAnotherReplicaIsRunning(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	ctx := context.Background()
	seedDue(t, owner, uuid.New(), 5) // an organization to visit
	slot := time.Date(2031, 4, 2, 3, 0, 0, 0, time.UTC)
	started, release := make(chan struct{}), make(chan struct{})
	a := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "busy", Now: clockAt(slot),
		Jobs: []jobs.Job{blockingJob("test_busy", started, release)}})
	b := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "late", Now: clockAt(slot.Add(time.Minute)),
		Jobs: []jobs.Job{quickJob("test_busy")}})

	done := make(chan []jobs.Outcome)
	go func() { done <- a.RunDue(ctx) }()
	<-started
	got := b.RunDue(ctx)
	if len(got) != 1 || got[0].Outcome != jobs.OutcomeSkipped || got[0].Holder != "busy" {
		t.Fatalf("the late replica: %+v, want skipped with holder busy", got)
	}
	if r := runsOf(t, owner, slot)["test_busy"]; r.Status != "running" || r.Instance != "busy" {
		t.Fatalf("while running: %+v", r)
	}
	close(release)
	if out := <-done; len(out) != 1 || out[0].Outcome != jobs.OutcomeSuccess {
		t.Fatalf("the busy replica: %+v", out)
	}
	if r := runsOf(t, owner, slot)["test_busy"]; r.Status != "succeeded" || r.Instance != "busy" || r.Attempt != 1 {
		t.Fatalf("after the run: %+v", r)
	}
}

// A claim whose replica stopped sending heartbeats (crashed, or cut off from the database)
// is taken over once it is older than StaleAfter, by one replica, as attempt 2. The old
// claimant, if it comes back, finds its claim gone: it stops, and can record neither its
// end nor an organization's result over the new claimant's. A fresh claim is not taken over.
func TestScheduler_TakesOverAStaleClaimOnce(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	ctx := context.Background()
	org := uuid.New()
	seedDue(t, owner, org, 5)
	slot := time.Date(2031, 5, 6, 3, 0, 0, 0, time.UTC)
	const stale = 500 * time.Millisecond // heartbeats every 100 ms of real time

	// The old claimant's clock is stuck at the slot: its heartbeats keep the claim at that
	// time, as a stalled replica's would.
	started := make(chan struct{})
	old := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "stalled", StaleAfter: stale,
		Now: clockAt(slot), Jobs: []jobs.Job{blockingJob("test_takeover", started, make(chan struct{}))}})
	oldDone := make(chan []jobs.Outcome)
	go func() { oldDone <- old.RunDue(ctx) }()
	<-started

	// A fresh claim of another job, by a live replica: never taken over.
	if _, err := owner.ExecContext(ctx, `INSERT INTO job_runs (job, slot, status, instance, started_at, heartbeat_at)
		VALUES ('test_fresh', ?, 'running', 'alive', ?, ?)`, slot, slot.Add(10*time.Minute), slot.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Two replicas look at the slot a minute later, at once.
	later := clockAt(slot.Add(10*time.Minute + 100*time.Millisecond))
	var wg sync.WaitGroup
	outcomes := make([][]jobs.Outcome, 2)
	for i, name := range []string{"rescuer-1", "rescuer-2"} {
		s := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: name, StaleAfter: stale, Now: later,
			Jobs: []jobs.Job{quickJob("test_takeover"), quickJob("test_fresh")}})
		wg.Add(1)
		go func() { defer wg.Done(); outcomes[i] = s.RunDue(ctx) }()
	}
	wg.Wait()
	took := 0
	for _, out := range outcomes {
		if out[0].Outcome == jobs.OutcomeSuccess && out[0].Attempt == 2 {
			took++
		} else if out[0].Outcome != jobs.OutcomeSkipped {
			t.Errorf("takeover: %+v", out[0])
		}
		if out[1].Outcome != jobs.OutcomeSkipped || out[1].Holder != "alive" {
			t.Errorf("a fresh claim: %+v, want skipped with holder alive", out[1])
		}
	}
	if took != 1 {
		t.Fatalf("%d replicas took the stale claim over, want 1: %+v", took, outcomes)
	}

	// The old claimant's next heartbeat finds the claim gone and stops its run.
	select {
	case out := <-oldDone:
		if len(out) != 1 || out[0].Outcome != jobs.OutcomeFailure || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "taken over") {
			t.Fatalf("the old claimant: %+v, want a failure for its lost claim", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old claimant did not notice it lost its claim")
	}
	r := runsOf(t, owner, slot)["test_takeover"]
	if r.Status != "succeeded" || r.Attempt != 2 || !strings.HasPrefix(r.Instance, "rescuer-") || r.Error != nil {
		t.Fatalf("the run after the takeover: %+v", r)
	}
	var status, result string
	if err := owner.QueryRowContext(ctx, `SELECT status, result::text FROM job_run_results WHERE organization_id = ? AND job = 'test_takeover'`, org).
		Scan(&status, &result); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || result != `{"changed": 2, "details": {"done": 2}}` {
		t.Fatalf("the organization's result: %s %s, want the new claimant's", status, result)
	}
	if r := runsOf(t, owner, slot)["test_fresh"]; r.Status != "running" || r.Instance != "alive" || r.Attempt != 1 {
		t.Fatalf("the fresh claim was touched: %+v", r)
	}
}

// Shutdown (the context of Run ends, as on SIGTERM) while a job runs: a job that ends within
// the grace period is recorded as succeeded, and no further job of the slot is claimed.
func TestScheduler_ShutdownLetsARunningJobFinishWithinTheGrace(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	seedDue(t, owner, uuid.New(), 5)
	slot := time.Date(2031, 6, 7, 3, 0, 0, 0, time.UTC)
	started, release := make(chan struct{}), make(chan struct{})
	s := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "draining", Grace: 10 * time.Second,
		Now: clockAt(slot.Add(time.Hour)), Jobs: []jobs.Job{blockingJob("test_drain", started, release), quickJob("test_after_drain")}})
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); s.Run(ctx) }()
	<-started
	stop()
	time.Sleep(200 * time.Millisecond) // shutdown has begun; the job is still within its grace
	close(release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the job finished")
	}
	runs := runsOf(t, owner, slot)
	if r := runs["test_drain"]; r.Status != "succeeded" || r.FinishedAt == nil {
		t.Fatalf("the job running at shutdown: %+v, want succeeded", r)
	}
	if r, ok := runs["test_after_drain"]; ok {
		t.Fatalf("a job was claimed after shutdown began: %+v", r)
	}
}

// Shutdown while a job runs past the grace period: the job is cancelled and its run recorded
// as failed (finished, with the reason), never left running; Run returns soon after.
func TestScheduler_ShutdownMarksARunPastTheGraceFailed(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	org := uuid.New()
	seedDue(t, owner, org, 5)
	slot := time.Date(2031, 7, 8, 3, 0, 0, 0, time.UTC)
	started := make(chan struct{})
	s := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "slow", Grace: 300 * time.Millisecond,
		Now: clockAt(slot.Add(time.Hour)), Jobs: []jobs.Job{blockingJob("test_slow", started, make(chan struct{}))}})
	before := metric(t, "customer_service_job_runs_total", map[string]string{"job": "test_slow", "outcome": jobs.OutcomeFailure})
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); s.Run(ctx) }()
	<-started
	stop()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the grace period")
	}
	r := runsOf(t, owner, slot)["test_slow"]
	if r.Status != "failed" || r.FinishedAt == nil || r.Error == nil || !strings.Contains(*r.Error, "context canceled") {
		t.Fatalf("the run cancelled at shutdown: %+v, want failed with the reason", r)
	}
	if got := metric(t, "customer_service_job_runs_total", map[string]string{"job": "test_slow", "outcome": jobs.OutcomeFailure}); got != before+1 {
		t.Errorf("failures of test_slow: %v, want %v", got, before+1)
	}
	// The organizations it reached are marked failed too; a restart in the slot does not
	// run it again (a failed slot waits for the next one, or `jobs run`).
	var status string
	if err := owner.QueryRowContext(context.Background(), `SELECT status FROM job_run_results r
		WHERE job = 'test_slow' AND slot = ? AND status = 'failed' LIMIT 1`, slot).Scan(&status); err != nil {
		t.Fatalf("no organization's result marked failed: %v", err)
	}
	again := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "slow-restarted",
		Now: clockAt(slot.Add(2 * time.Hour)), Jobs: []jobs.Job{quickJob("test_slow")}})
	if out := again.RunDue(context.Background()); len(out) != 1 || out[0].Outcome != jobs.OutcomeSkipped || out[0].Holder != "slow" {
		t.Fatalf("a restart after the failed run: %+v, want skipped", out)
	}
}

// The slot of a moment is the latest daily time at or before it (today's once it has
// passed, yesterday's before); the next run is a day after that slot.
func TestSchedule_SlotIsTheLatestDailyTimeAndNextTheOneAfter(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		daily      time.Duration
		now        string
		slot, next string
	}{
		{3 * time.Hour, "2031-03-10T02:59:59.999Z", "2031-03-09T03:00:00Z", "2031-03-10T03:00:00Z"},
		{3 * time.Hour, "2031-03-10T03:00:00Z", "2031-03-10T03:00:00Z", "2031-03-11T03:00:00Z"},
		{3 * time.Hour, "2031-03-10T23:59:00Z", "2031-03-10T03:00:00Z", "2031-03-11T03:00:00Z"},
		{3 * time.Hour, "2031-03-10T04:00:00+02:00", "2031-03-09T03:00:00Z", "2031-03-10T03:00:00Z"}, // 02:00 UTC
		{3 * time.Hour, "2031-03-10T01:00:00Z", "2031-03-09T03:00:00Z", "2031-03-10T03:00:00Z"},
		{0, "2031-03-01T00:00:00Z", "2031-03-01T00:00:00Z", "2031-03-02T00:00:00Z"},
		{23*time.Hour + 59*time.Minute, "2031-03-01T12:00:00Z", "2031-02-28T23:59:00Z", "2031-03-01T23:59:00Z"},
		{3 * time.Hour, "2032-02-29T05:00:00Z", "2032-02-29T03:00:00Z", "2032-03-01T03:00:00Z"}, // leap day
	} {
		s := jobs.Schedule{At: tt.daily}
		now := at(tt.now)
		if got := s.Slot(now); !got.Equal(at(tt.slot)) {
			t.Errorf("daily at %v, now %s: slot %s, want %s", tt.daily, tt.now, got.Format(time.RFC3339), tt.slot)
		}
		if got := s.Next(now); !got.Equal(at(tt.next)) {
			t.Errorf("daily at %v, now %s: next %s, want %s", tt.daily, tt.now, got.Format(time.RFC3339), tt.next)
		}
	}
}

// A replica that finds a job running elsewhere looks again after StaleAfter: when that run's
// replica has died (no heartbeat since), it takes the job over in the same slot instead of
// leaving the day's run undone. The skip is counted once, however often it looks.
func TestScheduler_RunTakesOverFromADeadReplicaWithinTheSlot(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	seedDue(t, owner, uuid.New(), 5)
	slot := daily.Slot(time.Now()) // the real clock: staleness is measured in real time here
	if _, err := owner.ExecContext(context.Background(), `INSERT INTO job_runs (job, slot, status, instance, started_at, heartbeat_at)
		VALUES ('test_orphan', ?, 'running', 'died', now(), now() + interval '1 second')`, slot); err != nil { // its last heartbeat: stale 2 s from now
		t.Fatal(err)
	}
	s := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "survivor",
		StaleAfter: time.Second, Jobs: []jobs.Job{quickJob("test_orphan")}})
	labels := func(outcome string) map[string]string {
		return map[string]string{"job": "test_orphan", "outcome": outcome}
	}
	skippedBefore := metric(t, "customer_service_job_runs_total", labels(jobs.OutcomeSkipped))
	successBefore := metric(t, "customer_service_job_runs_total", labels(jobs.OutcomeSuccess))
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); s.Run(ctx) }()
	waitFor(t, "the takeover", func() bool { return runsOf(t, owner, slot)["test_orphan"].Status == "succeeded" })
	stop()
	<-stopped

	if r := runsOf(t, owner, slot)["test_orphan"]; r.Instance != "survivor" || r.Attempt != 2 || r.FinishedAt == nil {
		t.Fatalf("after the takeover: %+v", r)
	}
	if d := metric(t, "customer_service_job_runs_total", labels(jobs.OutcomeSkipped)) - skippedBefore; d != 1 {
		t.Errorf("skips counted: %v, want 1", d)
	}
	if d := metric(t, "customer_service_job_runs_total", labels(jobs.OutcomeSuccess)) - successBefore; d != 1 {
		t.Errorf("successes counted: %v, want 1", d)
	}
}

// A server restarted later the day after running the slot skips it saying that the slot has
// already run, naming its own previous process as the holder, not "another replica".
func TestScheduler_RestartSaysTheSlotHasAlreadyRun(t *testing.T) {
	tdb := testdb.Get(t)
	owner := testdb.Open(t, tdb.OwnerURL)
	ctx := context.Background()
	seedDue(t, owner, uuid.New(), 5)
	slot := time.Date(2031, 4, 3, 3, 0, 0, 0, time.UTC)
	first := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "host-1/100/aaaaaa",
		Now: clockAt(slot), Jobs: []jobs.Job{quickJob("test_restart")}})
	if out := first.RunDue(ctx); len(out) != 1 || out[0].Outcome != jobs.OutcomeSuccess {
		t.Fatalf("the first run: %+v", out)
	}
	var logs bytes.Buffer
	restarted := jobs.NewScheduler(testdb.Open(t, tdb.AppURL), jobs.Options{Schedule: daily, Instance: "host-1/200/bbbbbb",
		Now: clockAt(slot.Add(time.Hour)), Jobs: []jobs.Job{quickJob("test_restart")}, Log: zerolog.New(&logs)})
	if out := restarted.RunDue(ctx); len(out) != 1 || out[0].Outcome != jobs.OutcomeSkipped {
		t.Fatalf("after the restart: %+v", out)
	}
	line := logs.String()
	if !strings.Contains(line, "this slot has already run") || strings.Contains(line, "another replica") ||
		!strings.Contains(line, `"holder":"host-1/100/aaaaaa"`) || !strings.Contains(line, `"holder_on_this_host":true`) {
		t.Errorf("the restarted server's log: %s", line)
	}
}
