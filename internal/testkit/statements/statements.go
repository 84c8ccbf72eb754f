// Package statements counts the SQL statements a pool's connections send — BEGIN, COMMIT and
// pipelined ones included — as a pgx tracer the test harness gives db.Open
// (db.Options.Tracers): what tests compare to check a request's cost, and where its
// statements went. Production pools carry no such counter.
package statements

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"customerservice/db"
)

// Counter counts the statements of the pools it traces; it is a pgx.QueryTracer and a
// pgx.BatchTracer. The zero value is ready.
type Counter struct {
	n, trips atomic.Int64
	watch    atomic.Pointer[func(sql string)]
}

// Count is the number of statements sent so far: those of a query that holds several
// (db.Later's, joined by db.StatementSeparator) count one each.
func (c *Counter) Count() int64 { return c.n.Load() }

// RoundTrips is the number of round trips to the database so far: a statement sent on its
// own, a query of several statements and a pipeline (a batch) are one each.
func (c *Counter) RoundTrips() int64 { return c.trips.Load() }

// Watch calls fn with the SQL of every statement sent from now on (each of a query of
// several on its own) (one watcher at a time;
// nil stops), for tests that check what a request reads.
func (c *Counter) Watch(fn func(sql string)) {
	if fn == nil {
		c.watch.Store(nil)
		return
	}
	c.watch.Store(&fn)
}

func (c *Counter) sent(sql string) {
	w := c.watch.Load()
	if w == nil {
		c.n.Add(int64(db.CountStatements(sql)))
		return
	}
	for _, s := range db.SplitStatements(sql) {
		c.n.Add(1)
		(*w)(s)
	}
}

// TraceQueryStart counts a query sent on its own: one round trip, its statements.
func (c *Counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.trips.Add(1)
	c.sent(d.SQL)
	return ctx
}

// TraceQueryEnd does nothing.
func (c *Counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts a pipeline's round trip; its statements are counted one by one.
func (c *Counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.trips.Add(1)
	return ctx
}

// TraceBatchQuery counts a statement of a pipeline.
func (c *Counter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.sent(d.SQL)
}

// TraceBatchEnd does nothing.
func (c *Counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
