package graph_test

import (
	"reflect"
	"testing"
	"time"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/jobs"
)

const scheduledJobsQuery = `{ scheduledJobs { name description nextRunAt
	lastRun { slot startedAt finishedAt status organizationResult { status changed details finishedAt } } } }`

type scheduledJob struct {
	Name, Description string
	NextRunAt         *time.Time
	LastRun           *struct {
		Slot, StartedAt    time.Time
		FinishedAt         *time.Time
		Status             string
		OrganizationResult *struct {
			Status     string
			Changed    int
			Details    map[string]int
			FinishedAt time.Time
		}
	}
}

func scheduledJobsOf(t *testing.T, c *apitest.Client) []scheduledJob {
	t.Helper()
	var out struct{ ScheduledJobs []scheduledJob }
	c.Must(t, scheduledJobsQuery, nil, &out)
	return out.ScheduledJobs
}

// TestScheduledJobs_ManagersSeeTheLastRunAndOnlyTheirOrganizationsResult is not parallel:
// the scheduler sweeps every organization of the shared test database (see
// TestRunJobs_VisitsEveryOrganization).
//
// A manager sees every daily job with its next time and its latest run, and of that run only
// what it did in the manager's own organization (never another's, never a total); an
// organization the run did not visit sees the run without a result. Viewers and agents are
// FORBIDDEN.
func TestScheduledJobs_ManagersSeeTheLastRunAndOnlyTheirOrganizationsResult(t *testing.T) {
	ctx := t.Context()
	pool, err := db.Open(ctx, testdb.Get(t).AppURL, db.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	schedule := jobs.Schedule{At: 3 * time.Hour}
	h := db.NewHandle(pool, nil)
	srv := apitest.NewWith(t, apitest.Options{Resolver: graph.NewResolver(h, graph.ResolverOptions{JobSchedule: &schedule})})

	teams := []loyTeam{newLoyTeam(t, srv), newLoyTeam(t, srv)}
	points := []int{30, 70}
	for i, team := range teams {
		customer := loyCustomer(t, srv, team.Org)
		loyEnroll(t, team.Agent, customer)
		loyBonus(t, team.Agent, customer, points[i])
		loyExec(t, srv, "UPDATE loyalty_transactions SET expires_at = now() - interval '1 day' WHERE organization_id = ?", team.Org)
	}
	empty := srv.NewOrg(t, auth.Manager) // no customers: the jobs do not visit it

	for _, j := range scheduledJobsOf(t, teams[0].Manager) {
		if j.LastRun != nil {
			t.Fatalf("%s has a run before any: %+v", j.Name, j.LastRun)
		}
	}

	now := time.Now()
	slot := schedule.Slot(now)
	for _, o := range jobs.NewScheduler(srv.App, jobs.Options{Schedule: schedule, Instance: "graph-test"}).RunDue(ctx) {
		if o.Outcome != jobs.OutcomeSuccess || !o.Slot.Equal(slot) {
			t.Fatalf("the run: %+v", o)
		}
	}

	check := func(c *apitest.Client, expired *int) {
		t.Helper()
		before := schedule.Next(time.Now())
		got := scheduledJobsOf(t, c)
		after := schedule.Next(time.Now())
		if len(got) != len(jobs.Daily) {
			t.Fatalf("%d jobs, want %d", len(got), len(jobs.Daily))
		}
		for i, j := range got {
			if j.Name != jobs.Daily[i].Name || j.Description != jobs.Daily[i].Description {
				t.Errorf("job %d: %s %q, want %s", i, j.Name, j.Description, jobs.Daily[i].Name)
			}
			if j.NextRunAt == nil || (!j.NextRunAt.Equal(before) && !j.NextRunAt.Equal(after)) {
				t.Errorf("%s: nextRunAt %v, want %v", j.Name, j.NextRunAt, before)
			}
			r := j.LastRun
			if r == nil || !r.Slot.Equal(slot) || r.Status != "SUCCEEDED" || r.FinishedAt == nil || r.StartedAt.After(*r.FinishedAt) {
				t.Fatalf("%s: lastRun %+v, want SUCCEEDED for the slot %s", j.Name, r, slot)
			}
			res := r.OrganizationResult
			if expired == nil {
				if res != nil {
					t.Errorf("%s: an organization without customers has a result: %+v", j.Name, res)
				}
				continue
			}
			if res == nil || res.Status != "SUCCEEDED" || res.FinishedAt.Before(r.StartedAt) {
				t.Fatalf("%s: organizationResult %+v", j.Name, res)
			}
			if j.Name == "points_expiry" {
				want := map[string]int{"expiredAccounts": 1, "expiredPoints": *expired, "vestedAccounts": 0, "vestedPoints": 0}
				if res.Changed != 1 || !reflect.DeepEqual(res.Details, want) {
					t.Errorf("points_expiry in the organization: changed %d, details %v; want 1, %v", res.Changed, res.Details, want)
				}
			}
		}
	}
	check(teams[0].Manager, &points[0])
	check(teams[1].Manager, &points[1])
	check(teams[0].Admin, &points[0])
	check(empty, nil)

	for _, c := range []*apitest.Client{teams[0].Viewer, teams[0].Agent} {
		r := c.Do(t, scheduledJobsQuery, nil)
		if r.ErrorCode(t) != "FORBIDDEN" || string(r.Data) != "null" {
			t.Errorf("scheduledJobs as a viewer or agent: %s, want FORBIDDEN", r.Body)
		}
	}
}
