// Package httpapi assembles the HTTP surface of DESIGN §9: GraphQL over HTTP at /graphql,
// GraphiQL at /, /healthz and /readyz, with request ids, structured access logs and
// authentication in front of GraphQL.
package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/graph"
	"customerservice/graph/loaders"
)

// Deps are what the HTTP surface serves.
type Deps struct {
	Log      zerolog.Logger
	Verifier *auth.Verifier
	Resolver *graph.Resolver
	Limits   graph.Limits
	// Ready reports whether the service can serve (database reachable, migrations current).
	Ready func(ctx context.Context) error
}

// New returns the service's HTTP handler.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	gql := graph.NewHandler(d.Resolver, d.Limits)
	mux.Handle("/graphql", auth.Middleware(d.Verifier, loaders.Middleware(d.Resolver.LoaderSources(), graph.LoaderWait, gql)))
	mux.Handle("GET /{$}", playground.Handler("Customer Service", "/graphql"))
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
	return withRequestLog(d.Log, mux)
}

// withRequestLog gives each request an id (X-Request-Id, echoed back) and a logger carrying
// it, and logs one line per request. Resolvers and auth add the organization and the
// operation name to that logger; no customer data is ever logged.
func withRequestLog(base zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		logger := base.With().Str("request_id", id).Logger()
		ctx := logger.WithContext(r.Context())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		// The context's logger, which auth and GraphQL enriched with organization and operation.
		zerolog.Ctx(ctx).Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("duration", time.Since(start)).Msg("request")
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
