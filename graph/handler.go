package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
)

// Limits bound what one request may cost.
type Limits struct {
	MaxBodyBytes  int64 // request body
	Introspection bool
}

// NewHandler is the GraphQL-over-HTTP handler (POST and GET). Built with handler.New and
// explicit transports: the deprecated NewDefaultServer has no body or token limits.
func NewHandler(r *Resolver, limits Limits) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{
		Resolvers:  r,
		Directives: DirectiveRoot{HasRole: hasRole},
	}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if limits.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if oc := graphql.GetOperationContext(ctx); oc.OperationName != "" {
			zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Str("operation", oc.OperationName)
			})
		}
		return next(ctx)
	})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)

	maxBody := limits.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		srv.ServeHTTP(w, req)
	})
}

// LoaderWait is how long a loader collects keys before it queries: long enough for the
// sibling fields of one response to join the batch, short enough not to show in latency
// (dataloadgen's 16 ms default alone would be several times a 360 query's cost).
const LoaderWait = 250 * time.Microsecond
