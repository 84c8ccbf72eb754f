package jobstest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/db"
	"customerservice/internal/pgcluster"
	"customerservice/internal/testkit/proctest"
	"customerservice/internal/testkit/testdb"
	"customerservice/jobs"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const secret = "jobs-test-secret-at-least-32-bytes!!"

// server is one `customer-service serve` process.
type server struct {
	cmd *exec.Cmd
	log *proctest.Output
}

func start(t *testing.T, bin, databaseURL, dailyAt string) *server {
	t.Helper()
	port, err := pgcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{log: &proctest.Output{}}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+databaseURL, "JWT_SECRET="+secret, "PORT="+strconv.Itoa(port),
		"LOG_FORMAT=json", "LOG_LEVEL=info", "JOBS_ENABLED=true", "JOBS_DAILY_AT="+dailyAt)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill() //nolint:errcheck
			s.cmd.Wait()         //nolint:errcheck
		}
	})
	return s
}

// jobLines are the server's log lines about one job of a slot, by message.
func (s *server) jobLines() map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(s.log.String()))
	for sc.Scan() {
		var line struct {
			Job     string `json:"job"`
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Job != "" {
			out[line.Message] = append(out[line.Message], line.Job)
		}
	}
	return out
}

// outcomes is how many jobs the server has finished with ("jobs: done"), skipped or failed.
func (s *server) outcomes() (done, skipped, failed []string) {
	l := s.jobLines()
	for msg, jobs := range l {
		if strings.HasPrefix(msg, "jobs: skipped, ") { // already run, or claimed by a run in progress
			skipped = append(skipped, jobs...)
		}
	}
	return l["jobs: done"], skipped, l["jobs: failed"]
}

func (s *server) waitOutcomes(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		done, skipped, failed := s.outcomes()
		if len(done)+len(skipped)+len(failed) >= n {
			return
		}
		if s.cmd.ProcessState != nil {
			break
		}
	}
	t.Fatalf("the server did not report %d job outcomes:\n%s", n, s.log.String())
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the server exited with %v after SIGTERM:\n%s", err, s.log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not exit within 30 s of SIGTERM:\n%s", s.log.String())
	}
	if !strings.Contains(s.log.String(), "jobs: scheduler stopped") {
		t.Errorf("the scheduler did not report its stop:\n%s", s.log.String())
	}
}

// Two `serve` processes start on one database after today's scheduled time, so both find
// the slot due at once: each job is run by exactly one of them and skipped by the other, and
// its effects are written once. Both stop on SIGTERM; one started again in the same slot
// runs nothing.
func TestServe_TwoReplicasRunEachJobOnceAndARestartRunsNothing(t *testing.T) {
	tdb := testdb.Get(t)
	bin := proctest.BuildT(t)
	ctx := context.Background()
	owner, err := db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	org := uuid.New()
	seedDue(t, owner, org)

	// Two hours ago: today's (or, just after midnight, yesterday's) slot is due at start.
	at := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	dailyAt := at.Format("15:04")
	slot := jobs.Schedule{At: time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute}.Slot(time.Now())

	a, b := start(t, bin, tdb.AppURL, dailyAt), start(t, bin, tdb.AppURL, dailyAt)
	a.waitOutcomes(t, len(jobs.Daily))
	b.waitOutcomes(t, len(jobs.Daily))
	doneA, skippedA, failedA := a.outcomes()
	doneB, skippedB, failedB := b.outcomes()
	if len(failedA)+len(failedB) > 0 {
		t.Fatalf("jobs failed: %v %v\n%s\n%s", failedA, failedB, a.log.String(), b.log.String())
	}
	for _, j := range jobs.Daily {
		ran := count(doneA, j.Name) + count(doneB, j.Name)
		skips := count(skippedA, j.Name) + count(skippedB, j.Name)
		if ran != 1 || skips != 1 {
			t.Errorf("%s: run %d times and skipped %d times across the two servers, want 1 and 1", j.Name, ran, skips)
		}
	}
	pids := []string{fmt.Sprintf("/%d/", a.cmd.Process.Pid), fmt.Sprintf("/%d/", b.cmd.Process.Pid)}
	runs := runsOf(t, owner, slot)
	if len(runs) != len(jobs.Daily) {
		t.Fatalf("job_runs of the slot %s: %v", slot, runs)
	}
	for _, j := range jobs.Daily {
		r := runs[j.Name]
		if r.Status != "succeeded" || r.Attempt != 1 || !(strings.Contains(r.Instance, pids[0]) || strings.Contains(r.Instance, pids[1])) {
			t.Errorf("%s: %+v", j.Name, r)
		}
	}
	var expires, balance int
	var usage string
	if err := owner.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM loyalty_transactions WHERE organization_id = ?0 AND transaction_type = 'expire'),
			(SELECT points_balance FROM loyalty_accounts WHERE organization_id = ?0),
			(SELECT status FROM credit_usage WHERE organization_id = ?0)`, org).Scan(&expires, &balance, &usage); err != nil {
		t.Fatal(err)
	}
	if expires != 1 || balance != 0 || usage != "overdue" {
		t.Fatalf("effects: %d expire transactions, balance %d, charge %s; want 1, 0, overdue", expires, balance, usage)
	}

	a.stop(t)
	b.stop(t)

	again := start(t, bin, tdb.AppURL, dailyAt)
	again.waitOutcomes(t, len(jobs.Daily))
	if done, skipped, failed := again.outcomes(); len(done) != 0 || len(failed) != 0 || len(skipped) != len(jobs.Daily) {
		t.Fatalf("a restart in the same slot: done %v, skipped %v, failed %v; want every job skipped", done, skipped, failed)
	}
	if after := runsOf(t, owner, slot); fmt.Sprint(after) != fmt.Sprint(runs) {
		t.Fatalf("job_runs changed on the restart:\n%v\n%v", after, runs)
	}
	again.stop(t)
}

func count(names []string, name string) int {
	n := 0
	for _, s := range names {
		if s == name {
			n++
		}
	}
	return n
}

type jobRun struct {
	Job      string `bun:"job"`
	Status   string `bun:"status"`
	Instance string `bun:"instance"`
	Attempt  int    `bun:"attempt"`
}

func runsOf(t *testing.T, owner *db.Pool, slot time.Time) map[string]jobRun {
	t.Helper()
	var rows []jobRun
	if err := owner.NewRaw(`SELECT job, status, instance, attempt FROM job_runs WHERE slot = ?`, slot).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]jobRun{}
	for _, r := range rows {
		out[r.Job] = r
	}
	return out
}

// seedDue gives org a customer whose 100 points have expired and whose charge is past due.
func seedDue(t *testing.T, owner *db.Pool, org uuid.UUID) {
	t.Helper()
	customer, account, credit := uuid.New(), uuid.New(), uuid.New()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING`, []any{org}},
		{`INSERT INTO customers (customer_id, organization_id, customer_type, first_name, last_name) VALUES (?, ?, 'b2b', 'Acme', 'SA')`, []any{customer, org}},
		{`INSERT INTO loyalty_accounts (loyalty_account_id, organization_id, customer_id, points_balance, lifetime_points) VALUES (?, ?, ?, 100, 100)`, []any{account, org, customer}},
		{`INSERT INTO loyalty_transactions (organization_id, loyalty_account_id, transaction_type, points, balance_after, points_remaining, expires_at, created_at)
			VALUES (?, ?, 'bonus', 100, 100, 100, now() - interval '1 hour', now() - interval '1 year')`, []any{org, account}},
		{`INSERT INTO credit_accounts (credit_account_id, organization_id, customer_id, credit_limit, credit_used, status) VALUES (?, ?, ?, 500, 50, 'approved')`, []any{credit, org, customer}},
		{`INSERT INTO credit_usage (organization_id, credit_account_id, order_id, amount, due_date) VALUES (?, ?, 'o-1', 50, current_date - 1)`, []any{org, credit}},
	} {
		if _, err := owner.ExecContext(context.Background(), stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
}
