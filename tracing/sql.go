package tracing

import (
	"context"
	"errors"
	"reflect"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"customerservice/db"
)

// SQL is the pgx tracer (db.Options.Tracers) that makes a client span of each statement,
// named by its first keyword ("SELECT"), and of each pipeline ("BATCH", with a span per
// statement in it). A statement sent outside a traced request gets none.
func (t *Tracer) SQL() pgx.QueryTracer { return sqlTracer{t.tracer} }

type sqlTracer struct{ tracer trace.Tracer }

var _ pgx.BatchTracer = sqlTracer{}

var (
	attrDBSystem    = attribute.String("db.system.name", "postgresql")
	attrDBOperation = attribute.Key("db.operation.name")
	attrBatchSize   = attribute.Key("db.operation.batch.size")
	attrDBStatus    = attribute.Key("db.response.status_code")
	attrErrorType   = attribute.Key("error.type")
)

func (t sqlTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	kind := db.StatementKind(d.SQL)
	ctx, _ = t.tracer.Start(ctx, kind, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrDBSystem, attrDBOperation.String(kind)))
	return ctx
}

func (sqlTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	end(trace.SpanFromContext(ctx), d.Err)
}

func (t sqlTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	size := 0
	if d.Batch != nil {
		size = d.Batch.Len()
	}
	ctx, _ = t.tracer.Start(ctx, "BATCH", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrDBSystem, attrBatchSize.Int(size)))
	return ctx
}

// TraceBatchQuery is called once a pipelined statement's result is read: its span runs from
// when its result was asked for.
func (t sqlTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	kind := db.StatementKind(d.SQL)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrDBSystem, attrDBOperation.String(kind))}
	if !d.ReadStartTime.IsZero() {
		opts = append(opts, trace.WithTimestamp(d.ReadStartTime))
	}
	_, span := t.tracer.Start(ctx, kind, opts...)
	end(span, d.Err)
}

func (sqlTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	end(trace.SpanFromContext(ctx), d.Err)
}

// end ends a span this tracer started (the others are not recording), marking an error by
// its SQLSTATE or its type only: a driver's message may quote a value.
func end(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "")
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			span.SetAttributes(attrDBStatus.String(pgErr.Code), attrErrorType.String(pgErr.Code))
		case errors.Is(err, context.Canceled):
			span.SetAttributes(attrErrorType.String("canceled"))
		case errors.Is(err, context.DeadlineExceeded):
			span.SetAttributes(attrErrorType.String("timeout"))
		default:
			span.SetAttributes(attrErrorType.String(reflect.TypeOf(err).String()))
		}
	}
	span.End()
}
