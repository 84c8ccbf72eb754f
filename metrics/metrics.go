// Package metrics owns the service's Prometheus metrics (specification §11, /metrics): GraphQL
// requests by operation and outcome, errors by code, SQL statements and the connection
// pool. It holds the collectors and the hooks that feed them — an HTTP middleware
// and a gqlgen extension for /graphql, a pgx tracer — and serves them
// together with what other packages register on prometheus.DefaultRegisterer.
//
// Label values are bounded: operation names come from clients, so only valid names are kept,
// at most Options.MaxOperations of them (the rest count as "other"). No label carries an
// organization, a user or anything of a customer. The hot path allocates no label values:
// each series is resolved once and kept.
package metrics

import (
	"database/sql"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of the service.
const Namespace = "customer_service"

// DefaultMaxOperations is how many distinct operation names are counted by default.
const DefaultMaxOperations = 100

// Options tune the metrics.
type Options struct {
	// MaxOperations bounds the distinct operation names that get their own series; later
	// names count as "other". Zero: DefaultMaxOperations.
	MaxOperations int
}

// Metrics are the service's collectors, on a registry of their own.
type Metrics struct {
	registry *prometheus.Registry

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	errors        *prometheus.CounterVec
	userErrors    *prometheus.CounterVec
	sqlStatements *prometheus.CounterVec
	sqlDuration   *prometheus.HistogramVec
	sqlRoundTrips prometheus.Counter

	operations *boundedLabels[*operationSeries]
	codes      *boundedLabels[prometheus.Counter]
	sql        map[string]*sqlSeries

	subsOnce sync.Once
	subs     *subscriptionSeries
}

// New creates the metrics on a fresh registry.
func New(opts Options) *Metrics {
	if opts.MaxOperations <= 0 {
		opts.MaxOperations = DefaultMaxOperations
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "graphql", Name: "requests_total",
			Help: "GraphQL requests answered at /graphql, by operation name and outcome (ok, user_error: a mutation answered userErrors, error: the response has errors).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "graphql", Name: "request_duration_seconds",
			Help:    "Time to answer a GraphQL request at /graphql, authentication included, by operation name and outcome.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "graphql", Name: "errors_total",
			Help: "GraphQL errors in responses, by extensions.code (one per error; a request refused before GraphQL counts one).",
		}, []string{"code"}),
		userErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "graphql", Name: "user_errors_total",
			Help: "userErrors answered by mutations, by mutation field and code.",
		}, []string{"mutation", "code"}),
		sqlStatements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "sql", Name: "statements_total",
			Help: "SQL statements sent (pipelined ones, BEGIN and COMMIT included), by first keyword and outcome (ok, error).",
		}, []string{"statement", "outcome"}),
		sqlRoundTrips: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "sql", Name: "round_trips_total",
			Help: "Round trips to the database: a statement sent on its own, a query of several statements (db.Later's) and a pipeline count one each.",
		}),
		sqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "sql", Name: "statement_duration_seconds",
			Help:    "Time from sending a SQL statement (in a pipeline: from asking for its result) to having read its result, by first keyword.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"statement"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.errors, m.userErrors, m.sqlStatements, m.sqlDuration, m.sqlRoundTrips)

	m.operations = newBoundedLabels(opts.MaxOperations, validOperationName, m.operationSeries, overflowLabel)
	m.operations.add(anonymousOperation)
	m.operations.add(unknownOperation)
	m.codes = newBoundedLabels(maxCodes, validCode, func(code string) prometheus.Counter {
		return m.errors.WithLabelValues(code)
	}, otherCode)
	m.sql = m.sqlSeriesByKind()
	return m
}

// Handler serves the metrics in Prometheus' exposition format: these, and whatever is
// registered on prometheus.DefaultRegisterer (the Go runtime and process collectors, the
// jobs' metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.registry, prometheus.DefaultGatherer}, promhttp.HandlerOpts{})
}

// ObservePool exports the database/sql statistics of a pool (connections open, in use,
// idle, waits) as customer_service_go_sql_*{db_name=name}.
func (m *Metrics) ObservePool(name string, db *sql.DB) error {
	return prometheus.WrapRegistererWithPrefix(Namespace+"_", m.registry).Register(collectors.NewDBStatsCollector(db, name))
}
