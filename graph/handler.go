package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/db"
)

// NewHandler is the GraphQL-over-HTTP handler (POST and GET; GET runs queries only, see
// httpTransport). Built with handler.New and explicit transports: the deprecated
// NewDefaultServer has no body or token limits. Batching (a JSON array of operations) is not
// supported: POST answers it 400.
// The extensions observe operations (metrics, tracing); the first one given is the outermost.
func NewHandler(r *Resolver, limits Limits, observers ...graphql.HandlerExtension) http.Handler {
	limits = limits.withDefaults()
	live := limits.Live.withDefaults()
	srv := handler.New(NewSchema(r))
	// Subscriptions first: SSE is a POST of JSON too, told apart by its Accept.
	srv.AddTransport(live.websocketTransport(r.Hub))
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: live.PingInterval})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{}) // POST and GET: the status codes of the GraphQL-over-HTTP spec
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(maxTokens)
	if limits.Introspection {
		srv.Use(extension.Introspection{})
	}
	if limits.PersistedOnly {
		srv.Use(persistedOnly{known: limits.PersistedQueries})
	} else {
		apq := lru.New[string](apqCacheSize)
		for hash, query := range limits.PersistedQueries {
			apq.Add(context.Background(), hash, query)
		}
		srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	}
	// The shape check first: it bounds the fragment expansion that the complexity walk does.
	srv.Use(shapeLimit{maxDepth: limits.MaxDepth, maxAliases: limits.MaxAliases, maxFields: limits.MaxComplexity})
	// gqlgen's FixedComplexityLimit, its walks kept per document (complexity.go).
	srv.Use(newComplexityLimit(limits.MaxComplexity))
	srv.Use(newInputCheck()) // every string argument: valid text, no control characters, capped (inputcheck.go)
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		name := oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name // named in the document only
		}
		if name != "" {
			zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Str("operation", name)
			})
		}
		return next(ctx)
	})
	for _, o := range observers {
		srv.Use(o)
	}
	srv.AroundOperations(readsOfQueriesMayUseTheReplica)
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)

	tooLarge := fmt.Sprintf(`{"errors":[{"message":"the request body is larger than the limit of %d bytes","extensions":{"code":"BAD_USER_INPUT"}}]}`, limits.MaxBodyBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Body == nil {
			req.Body = http.NoBody
		}
		// Read the body here, bounded: gqlgen would answer an oversized one 200.
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limits.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				_, _ = io.WriteString(w, tooLarge)
				return
			}
			http.Error(w, "could not read the request body", http.StatusBadRequest)
			return
		}
		if refusedText(w, req, body) { // invalid UTF-8, which decoding would make U+FFFD (inputcheck.go)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		switch {
		case IsWebSocket(req):
			w, req = withWebsocketConn(w, req)
		case IsStream(req):
			w = newSSEWriter(w, 2*live.PingInterval)
		}
		srv.ServeHTTP(w, req)
	})
}

// readsOfQueriesMayUseTheReplica lets every read of a query operation go to the read replica
// (when one is configured), and nothing else: a mutation's reads, those that build its
// payload included, stay on the primary and see what the mutation wrote. The operation is
// known here, once per request, so no resolver or service decides it.
func readsOfQueriesMayUseTheReplica(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
		ctx = db.AllowReplica(ctx)
	}
	return next(ctx)
}

// NewSchema is the executable schema over r, with the @hasRole directive and the costs of
// the paged fields.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := Config{Resolvers: r, Directives: DirectiveRoot{HasRole: hasRole}}
	setComplexity(&cfg.Complexity)
	return NewExecutableSchema(cfg)
}
