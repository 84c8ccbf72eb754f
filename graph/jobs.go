package graph

import (
	"customerservice/graph/model"
	"customerservice/jobs"
)

// scheduledJobs translates the jobs' states for `scheduledJobs`.
func scheduledJobs(states []jobs.JobState) []model.ScheduledJob {
	out := make([]model.ScheduledJob, len(states))
	for i, s := range states {
		out[i] = model.ScheduledJob{Name: s.Job.Name, Description: s.Job.Description, NextRunAt: s.NextRunAt}
		if r := s.LastRun; r != nil {
			run := &model.JobRun{Slot: r.Slot, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status}
			if o := r.Organization; o != nil {
				details := make(map[string]any, len(o.Summary.Details))
				for k, v := range o.Summary.Details {
					details[k] = v
				}
				run.OrganizationResult = &model.JobRunResult{Status: o.Status, Changed: o.Summary.Changed, Details: details, FinishedAt: o.FinishedAt}
			}
			out[i].LastRun = run
		}
	}
	return out
}
