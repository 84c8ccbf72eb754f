package metrics

import (
	"context"
	"net/http"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
)

// outcome of a GraphQL request, an index into an operation's series.
type outcome int32

const (
	outcomeOK        outcome = iota // no error, no userErrors
	outcomeUserError                // a mutation answered userErrors (and nothing failed)
	outcomeError                    // the response has errors, or the request was refused
	outcomes
)

var outcomeLabels = [outcomes]string{"ok", "user_error", "error"}

// operationSeries are an operation name's series, one per outcome.
type operationSeries struct {
	requests [outcomes]prometheus.Counter
	duration [outcomes]prometheus.Observer
}

func (m *Metrics) operationSeries(name string) *operationSeries {
	s := &operationSeries{}
	for o := range outcomes {
		s.requests[o] = m.requests.WithLabelValues(name, outcomeLabels[o])
		s.duration[o] = m.duration.WithLabelValues(name, outcomeLabels[o])
	}
	return s
}

// request is what the GraphQL extension learns of one /graphql request, for the middleware
// that counts it once answered.
type request struct {
	// operation is nil until the extension sees the request; atomic because the
	// subscriptions of one WebSocket (one HTTP request) each answer from their own goroutine.
	operation  atomic.Pointer[operationSeries]
	errors     atomic.Bool // the response has errors
	userErrors atomic.Bool // a mutation answered userErrors
}

type requestKey struct{}

// GraphQLRequests counts and times every request to /graphql, including those refused
// before GraphQL runs (no token, rate limit, body too large): put it outside them. The
// GraphQL handler behind it must use the GraphQL extension, which names the operation and
// counts the errors.
func (m *Metrics) GraphQLRequests(next http.Handler) http.Handler {
	unknown := m.operations.get(unknownOperation)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req := &request{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		answered := false
		defer func() {
			series, result := req.operation.Load(), outcomeOK
			switch {
			case !answered: // a panic, answered 500 further out
				result = outcomeError
				m.codes.get("INTERNAL").Inc()
			case series == nil: // refused before GraphQL
				if rec.status >= 400 {
					result = outcomeError
					m.codes.get(codeOfStatus(rec.status)).Inc()
				}
			case req.errors.Load():
				result = outcomeError
			case req.userErrors.Load():
				result = outcomeUserError
			}
			if series == nil {
				series = unknown
			}
			series.requests[result].Inc()
			series.duration[result].Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
		answered = true
	})
}

// codeOfStatus is the error code of a request refused before GraphQL, from its status: what
// the middlewares in front of GraphQL answer with it.
func codeOfStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case status == http.StatusForbidden:
		return "FORBIDDEN"
	case status == http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case status == http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case status >= 500:
		return "INTERNAL"
	default: // 400, 413 (body too large), 405, 415…
		return "BAD_USER_INPUT"
	}
}

// GraphQL is the gqlgen extension that tells GraphQLRequests the operation of a request and
// counts the errors of its response by code, and mutations' userErrors by mutation and code.
func (m *Metrics) GraphQL() graphql.HandlerExtension { return graphqlExtension{m} }

type graphqlExtension struct{ m *Metrics }

var _ interface {
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = graphqlExtension{}

func (graphqlExtension) ExtensionName() string                   { return "Metrics" }
func (graphqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse sees every response: of an operation, or of a request refused while
// being parsed or validated.
func (e graphqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	req, _ := ctx.Value(requestKey{}).(*request)
	if req == nil {
		return resp
	}
	req.operation.Store(e.m.operations.get(operationName(ctx)))
	if resp != nil && len(resp.Errors) > 0 {
		req.errors.Store(true)
		for _, err := range resp.Errors {
			code, _ := err.Extensions["code"].(string)
			e.m.codes.get(code).Inc()
		}
	}
	return resp
}

// InterceptField reads the userErrors of mutations (§8: every mutation payload has them);
// any other field passes straight through.
func (e graphqlExtension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	res, err := next(ctx)
	if err == nil {
		n := 0
		forEachUserErrorCode(res, func(code string) {
			n++
			if !validCode(code) {
				code = otherCode
			}
			e.m.userErrors.WithLabelValues(fc.Field.Name, code).Inc()
		})
		if req, _ := ctx.Value(requestKey{}).(*request); req != nil && n > 0 {
			req.userErrors.Store(true)
		}
	}
	return res, err
}

// forEachUserErrorCode calls fn with the Code of each element of payload's UserErrors, the
// shape of every mutation payload (specification §8).
func forEachUserErrorCode(payload any, fn func(code string)) {
	v := reflect.ValueOf(payload)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	list := v.Elem().FieldByName("UserErrors")
	if list.Kind() != reflect.Slice {
		return
	}
	for i := range list.Len() {
		e := list.Index(i)
		if e.Kind() == reflect.Pointer {
			if e.IsNil() {
				continue
			}
			e = e.Elem()
		}
		if e.Kind() != reflect.Struct {
			continue
		}
		if c := e.FieldByName("Code"); c.Kind() == reflect.String {
			fn(c.String())
		}
	}
}

// operationName is the label of the request's operation: its name, "anonymous" for one
// without, "unknown" when none could be read (unparsable, or no operation context).
func operationName(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return unknownOperation
	}
	oc := graphql.GetOperationContext(ctx)
	switch {
	case oc.Operation != nil && oc.Operation.Name != "":
		return oc.Operation.Name
	case oc.Operation != nil:
		return anonymousOperation
	case oc.OperationName != "": // the request's operationName, when the document failed
		return oc.OperationName
	}
	return unknownOperation
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
