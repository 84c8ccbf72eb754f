package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"customerservice/db"
)

// sqlSeries are the series of one kind of statement.
type sqlSeries struct {
	ok, failed prometheus.Counter
	duration   prometheus.Observer
}

func (m *Metrics) sqlSeriesByKind() map[string]*sqlSeries {
	series := map[string]*sqlSeries{}
	for _, k := range []string{db.KindSelect, db.KindInsert, db.KindUpdate, db.KindDelete, db.KindWith,
		db.KindBegin, db.KindCommit, db.KindRollback, db.KindOther} {
		series[k] = &sqlSeries{
			ok:       m.sqlStatements.WithLabelValues(k, "ok"),
			failed:   m.sqlStatements.WithLabelValues(k, "error"),
			duration: m.sqlDuration.WithLabelValues(k),
		}
	}
	return series
}

func (s *sqlSeries) observe(err error, d time.Duration) {
	if err != nil {
		s.failed.Inc()
	} else {
		s.ok.Inc()
	}
	s.duration.Observe(d.Seconds())
}

// SQL is the pgx tracer that counts and times the statements of the pools it is given to
// (db.Options.Tracers): every one, those that bun sends and the pipelined reads of db.ReadInOrg
// alike. Statements are told apart by their first keyword only.
func (m *Metrics) SQL() pgx.QueryTracer { return sqlTracer{m} }

type sqlTracer struct{ m *Metrics }

var _ pgx.BatchTracer = sqlTracer{}

// inFlight is the statement a connection is running; a connection runs one at a time, so
// it lives with the connection (no allocation per statement).
type inFlight struct {
	start  time.Time
	series *sqlSeries
}

const inFlightKey = "metrics.sql"

func inFlightOn(conn *pgx.Conn) *inFlight {
	data := conn.PgConn().CustomData()
	f, _ := data[inFlightKey].(*inFlight)
	if f == nil {
		f = &inFlight{}
		data[inFlightKey] = f
	}
	return f
}

func (t sqlTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.m.sqlRoundTrips.Inc()
	f := inFlightOn(conn)
	f.start, f.series = time.Now(), t.m.sql[db.StatementKind(d.SQL)]
	return ctx
}

func (t sqlTracer) TraceQueryEnd(_ context.Context, conn *pgx.Conn, d pgx.TraceQueryEndData) {
	if f := inFlightOn(conn); f.series != nil {
		f.series.observe(d.Err, time.Since(f.start))
		f.series = nil
	}
}

func (t sqlTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.m.sqlRoundTrips.Inc()
	return ctx
}

func (t sqlTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	var took time.Duration
	if !d.ReadStartTime.IsZero() {
		took = time.Since(d.ReadStartTime)
	}
	t.m.sql[db.StatementKind(d.SQL)].observe(d.Err, took)
}

func (sqlTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
