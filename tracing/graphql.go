package tracing

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// GraphQL is the gqlgen extension that traces an operation (a span such as
// "query Customer360") and each of its root fields ("Query.customer"); what those fields
// read — its SQL — hangs under them. Nested fields get no span of their own: a
// page of customers has thousands. The request's log line gets the trace id.
func (t *Tracer) GraphQL() graphql.HandlerExtension { return graphqlExtension{t.tracer} }

type graphqlExtension struct{ tracer trace.Tracer }

var _ interface {
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
} = graphqlExtension{}

func (graphqlExtension) ExtensionName() string                   { return "Tracing" }
func (graphqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

// Span attributes (OpenTelemetry's GraphQL conventions, and the codes of the errors).
const (
	attrOperationType = attribute.Key("graphql.operation.type")
	attrOperationName = attribute.Key("graphql.operation.name")
	attrFieldName     = attribute.Key("graphql.field.name")
	attrErrorCodes    = attribute.Key("graphql.error.codes")
)

func (e graphqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) { // an undecodable body: the HTTP span tells it
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	name, attrs := "GraphQL Operation", make([]attribute.KeyValue, 0, 2)
	if op := oc.Operation; op != nil {
		name = string(op.Operation)
		attrs = append(attrs, attrOperationType.String(name))
		if op.Name != "" && len(op.Name) <= maxNameInSpan { // a GraphQL name: [_A-Za-z][_0-9A-Za-z]*
			name += " " + op.Name
			attrs = append(attrs, attrOperationName.String(op.Name))
		}
	}
	ctx, span := e.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	defer span.End()
	if !span.IsRecording() {
		return next(ctx)
	}
	traceID := span.SpanContext().TraceID().String()
	zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("trace_id", traceID) })

	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, "")
		span.SetAttributes(attrErrorCodes.StringSlice(errorCodes(resp.Errors)))
	}
	return resp
}

func (e graphqlExtension) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	root, parent := graphql.GetRootFieldContext(ctx), graphql.GetFieldContext(ctx)
	if root == nil || parent == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return next(ctx)
	}
	ctx, span := e.tracer.Start(ctx, parent.Object+"."+root.Field.Name,
		trace.WithAttributes(attrFieldName.String(root.Field.Name)))
	defer span.End()
	res := next(ctx)
	alias := ast.PathName(root.Field.Alias)
	for _, err := range graphql.GetErrors(ctx) {
		if len(err.Path) > 0 && err.Path[0] == alias {
			span.SetStatus(codes.Error, "")
			break
		}
	}
	return res
}

// maxNameInSpan is the longest operation name put in a span name.
const maxNameInSpan = 64

// errorCodes are the distinct extensions.code of errs (the server's own), in order.
func errorCodes(errs gqlerror.List) []string {
	var out []string
next:
	for _, err := range errs {
		code, _ := err.Extensions["code"].(string)
		if code == "" {
			code = "NONE"
		}
		for _, c := range out {
			if c == code {
				continue next
			}
		}
		out = append(out, code)
	}
	return out
}
