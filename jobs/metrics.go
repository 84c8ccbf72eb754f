package jobs

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcomes of a job for a slot in this replica, the outcome label of jobRuns.
const (
	OutcomeSuccess = "success" // this replica ran it and it succeeded
	OutcomeFailure = "failure" // this replica ran it (or tried to claim it) and it failed
	OutcomeSkipped = "skipped" // another replica has it: running, done, or failed for good
)

// The scheduler's metrics, on the default registry that /metrics serves.
var (
	jobRuns = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "customer_service_job_runs_total",
		Help: "Scheduled job slots seen by this replica, by job and outcome (success, failure, or skipped because another replica has the slot).",
	}, []string{"job", "outcome"})
	jobDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "customer_service_job_duration_seconds",
		Help: "How long the scheduled job runs of this replica took, over every organization.",
		// 50 ms to about 14 minutes: a job over a few tenants up to segments of millions of customers.
		Buckets: prometheus.ExponentialBuckets(0.05, 4, 8),
	}, []string{"job"})
)

// initMetrics creates every series at zero, so a dashboard sees the jobs before they run.
func initMetrics(jobs []Job) {
	for _, j := range jobs {
		for _, o := range []string{OutcomeSuccess, OutcomeFailure, OutcomeSkipped} {
			jobRuns.WithLabelValues(j.Name, o)
		}
		jobDuration.WithLabelValues(j.Name)
	}
}
