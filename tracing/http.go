package tracing

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
)

// HTTP starts the request's trace: a server span per request (continuing the caller's trace
// when it sends a W3C traceparent), named by method and route. Probes and scrapes (/healthz,
// /readyz, /metrics) are not traced. Put it outermost.
func (t *Tracer) HTTP(next http.Handler) http.Handler {
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // metrics are Prometheus'
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			switch r.URL.Path {
			case "/graphql", "/":
				return r.Method + " " + r.URL.Path
			}
			return r.Method // a path of no route: not a span name per path
		}),
	)
}
