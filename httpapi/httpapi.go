// Package httpapi assembles the HTTP surface of specification §11: GraphQL over HTTP at /graphql,
// GraphiQL at /, /healthz, /readyz and /metrics, with request ids, structured access logs, a
// deadline per request, authentication and rate limiting in front of GraphQL, and the
// metrics and traces of every request.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/httpapi/graphiql"
	"customerservice/metrics"
	"customerservice/tracing"
)

// Deps are what the HTTP surface serves.
type Deps struct {
	Log      zerolog.Logger
	Verifier *auth.Verifier
	Resolver *graph.Resolver
	Limits   graph.Limits
	// RateLimit bounds the requests of one organization and of one user (zero: no limit).
	RateLimit RateLimit
	// RequestTimeout is the longest a request may take: then it is answered 503 (code
	// TIMEOUT) and its context, and with it its SQL, is cancelled. Zero: no deadline.
	RequestTimeout time.Duration
	// Ready reports whether the service can serve (database reachable, migrations current).
	Ready func(ctx context.Context) error
	// Metrics count the requests to /graphql, and their errors, and are
	// served at /metrics (no token: it holds no personal data, but keep it off the public
	// network); nil: none.
	Metrics *metrics.Metrics
	// MetricsOwnListener: /metrics is served on a listener of its own (METRICS_ADDR), not here.
	MetricsOwnListener bool
	// Tracer traces every request; nil: tracing is off and nothing of it is installed.
	Tracer *tracing.Tracer
}

// New returns the service's HTTP handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	var extensions []graphql.HandlerExtension
	if d.Tracer != nil {
		extensions = append(extensions, d.Tracer.GraphQL())
	}
	if d.Metrics != nil {
		extensions = append(extensions, d.Metrics.GraphQL())
	}
	limits := d.Limits
	if limits.Live.Authenticate == nil {
		limits.Live.Authenticate = d.Verifier.Verify
	}
	gql := graph.NewHandler(d.Resolver, limits, extensions...)
	// A WebSocket sends its token in connection_init (checked there, as the middleware checks
	// a header); everything else, SSE included, in the Authorization header.
	authed := auth.Middleware(d.Verifier, rateLimited(d.RateLimit, gql))
	api := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if graph.IsWebSocket(r) {
			gql.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	}))
	if d.Metrics != nil {
		api = d.Metrics.GraphQLRequests(api) // outside auth and rate limits: refusals count too
		if !d.MetricsOwnListener {
			mux.Handle("GET /metrics", d.Metrics.Handler())
		}
	}
	mux.Handle("/graphql", api)
	mux.Handle("GET /{$}", graphiql.Page("Customer Service", "/graphql"))
	mux.Handle("GET "+graphiql.Prefix, graphiql.Assets()) // its scripts and styles: no CDN
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Ready(ctx); err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("not ready")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	// The deadline outside the request log: the log line is written by the request's own
	// goroutine, which alone enriches its logger (the timeout's 503 is written by another).
	h := withTimeout(withRequestLog(d.Log, mux), d.RequestTimeout)
	if d.Tracer != nil {
		h = d.Tracer.HTTP(h) // outermost: the request's span holds all of it
	}
	return h
}

// withTimeout answers a request that takes longer than d with a 503 carrying a GraphQL error
// coded TIMEOUT, and cancels its context, and with it its SQL (statement_timeout bounds the
// SQL on the database side too): http.TimeoutHandler's rules, on kept goroutines (deadline.go).
func withTimeout(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	timed := &deadline{next: h, timeout: d, body: `{"errors":[{"message":"the request took too long","extensions":{"code":"TIMEOUT"}}]}`,
		workers: workers{tasks: make(chan func())}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if graph.IsStream(r) {
			// A subscription lasts as long as its client wants (bounded by the idle
			// timeout, the ping and the per-subscriber queue instead).
			h.ServeHTTP(w, r)
			return
		}
		// For the 503; a response in time carries its handler's own Content-Type instead.
		w.Header().Set("Content-Type", "application/json")
		timed.ServeHTTP(w, r)
	})
}

// withRequestLog gives each request an id (X-Request-Id, echoed back) and a logger carrying
// it, and logs one line per request. Resolvers and auth add the organization and the
// operation name to that logger; no customer data is ever logged. A panic outside a
// resolver (which gqlgen recovers itself) is answered 500 INTERNAL with the request id.
func withRequestLog(base zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		logger := base.With().Str("request_id", id).Logger()
		ctx := graph.WithRequestID(logger.WithContext(r.Context()), id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				zerolog.Ctx(ctx).Error().Interface("panic", p).Str("stack", string(debug.Stack())).Msg("handler panic")
				writeJSON(rec, http.StatusInternalServerError, map[string]any{"errors": []any{map[string]any{
					"message": "internal error", "extensions": map[string]string{"code": "INTERNAL", "requestId": id}}}})
			}
			status := rec.status
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				status = http.StatusServiceUnavailable // what withTimeout answered
			}
			// The context's logger, which auth and GraphQL enriched with organization and operation.
			zerolog.Ctx(ctx).Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
				Dur("duration_ms", time.Since(start)).Msg("request")
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
