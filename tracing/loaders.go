package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Loaders observes the dataloaders' batches (graph/loaders.Observer): a span per batch,
// "dataloader loyalty_accounts", with its key count; its SQL hangs under it.
func (t *Tracer) Loaders() LoaderObserver { return LoaderObserver{t.tracer} }

// LoaderObserver is what Loaders returns.
type LoaderObserver struct{ tracer trace.Tracer }

var attrBatchKeys = attribute.Key("dataloader.batch.keys")

// BatchStart starts the batch's span, under the resolver that asked first.
func (o LoaderObserver) BatchStart(ctx context.Context, loader string, keys int) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	ctx, _ = o.tracer.Start(ctx, "dataloader "+loader, trace.WithAttributes(attrBatchKeys.Int(keys)))
	return ctx
}

// BatchEnd ends it.
func (LoaderObserver) BatchEnd(ctx context.Context, _ string, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}
