// Package tracing sends OpenTelemetry traces of the service's requests to an OTLP collector:
// per request one trace, holding the HTTP request, the GraphQL operation and its root fields,
// and the SQL statements (bun's and the pipelined reads' alike, traced
// at the pgx level). It is off unless the standard OTEL_* variables name an exporter (see
// config), and off it installs nothing: no wrapper, no extension, no tracer.
//
// No span carries customer data: no SQL text (bun writes argument values into it), no SQL
// arguments, no GraphQL document, variables or arguments, no error messages — statements are
// named by their first keyword, operations by their name, errors by their code.
package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of the spans unless OTEL_SERVICE_NAME (or
// OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const ServiceName = "customer-service"

// instrumentation is the name of the spans' instrumentation scope.
const instrumentation = "customerservice/tracing"

// Tracer traces requests to a tracer provider.
type Tracer struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
	shutdown func(context.Context) error
}

// New traces to provider (tests give one over an in-memory exporter).
func New(provider trace.TracerProvider) *Tracer {
	return &Tracer{
		provider: provider,
		tracer:   provider.Tracer(instrumentation),
		shutdown: func(context.Context) error { return nil },
	}
}

// Protocols of the OTLP exporter (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Start exports traces over OTLP with protocol (ProtocolHTTP or ProtocolGRPC). The exporter
// reads the rest of its settings from the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS, …), the SDK its sampler (OTEL_TRACES_SAMPLER, default: sample
// what the caller's traceparent sampled, and every request without one) and batching
// (OTEL_BSP_*). Shutdown flushes what is left.
func Start(ctx context.Context, protocol string) (*Tracer, error) {
	var exporter sdktrace.SpanExporter
	var err error
	switch protocol {
	case ProtocolGRPC:
		exporter, err = otlptracegrpc.New(ctx)
	case ProtocolHTTP, "":
		exporter, err = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("tracing: unsupported OTLP protocol %q", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", ServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES override
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	t := New(provider)
	t.shutdown = provider.Shutdown
	return t, nil
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
