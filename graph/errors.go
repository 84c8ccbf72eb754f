package graph

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/apperr"
	"customerservice/graph/model"
)

// userErrors turns a domain error into a mutation's userErrors (§8), each field path put
// under the mutation's argument it came in (argumentPath). A missing role or principal is
// about the whole operation, not a field: it is a top-level error, as @hasRole reports it.
// Any other error is returned as is, to be reported as a top-level INTERNAL error.
func userErrors(ctx context.Context, err error) ([]model.UserError, error) {
	errs, ok := apperr.Of(err)
	if !ok {
		return nil, err
	}
	if apperr.Is(err, apperr.Forbidden) || apperr.Is(err, apperr.Unauthenticated) {
		return nil, queryError(ctx, err)
	}
	out := make([]model.UserError, len(errs))
	for i, e := range errs {
		out[i] = model.UserError{Field: argumentPath(ctx, e.Field), Message: e.Message, Code: e.Code}
	}
	return out, nil
}

// argumentPath is the wire path (userErrors.field) of a field a domain service names
// relative to its own inputs. A path that starts with one of the mutation's arguments
// (id, customerId, reason, creditLimit, …) is already the argument's; any other is a field
// of the mutation's input object, under its `input` argument: ["email"] of createCustomer
// is ["input", "email"], ["id"] of updateCustomer(id, input) stays ["id"].
func argumentPath(ctx context.Context, field []string) []string {
	if len(field) == 0 {
		return field
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return field
	}
	args := fc.Field.Definition.Arguments
	if args.ForName(field[0]) != nil || args.ForName(inputArgument) == nil {
		return field
	}
	return append([]string{inputArgument}, field...)
}

// inputArgument is the name every mutation gives its input object argument.
const inputArgument = "input"

// queryError turns a domain error of a query into a GraphQL error with extensions.code.
func queryError(ctx context.Context, err error) error {
	if errs, ok := apperr.Of(err); ok {
		e := errs[0]
		code := string(e.Code)
		if e.Code == apperr.Invalid {
			code = "BAD_USER_INPUT"
		}
		return &gqlerror.Error{Message: e.Message, Path: graphql.GetPath(ctx), Extensions: map[string]any{"code": code}}
	}
	return err
}

// presentError is the one place errors become what the client sees: coded errors pass,
// anything else is INTERNAL with the detail only in the log (no SQL, no stack) and the
// request id in extensions.requestId, to find that log line.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if code, coded := gqlErr.Extensions["code"]; coded {
		switch {
		case code == codeGqlgenComplexity:
			gqlErr.Extensions["code"] = codeTooComplex
		case code == errcode.ParseFailed && strings.HasPrefix(gqlErr.Message, "exceeded token limit"):
			gqlErr.Extensions["code"] = codeTooComplex
			gqlErr.Message = "the query has more than the limit of " + strings.TrimPrefix(gqlErr.Message, "exceeded token limit of ") + " tokens"
		case code == errcode.ValidationFailed || code == errcode.ParseFailed:
			// §8 has one code for a malformed request, whether it failed to parse or to validate.
			gqlErr.Extensions["code"] = "BAD_USER_INPUT"
		case code == "INTERNAL": // a recovered panic
			gqlErr.Extensions["requestId"] = RequestID(ctx)
		}
		return gqlErr
	}
	var plain *gqlerror.Error
	if errors.As(err, &plain) && plain.Err == nil {
		// gqlgen's own errors (validation, argument coercion, an undecodable body) are about
		// the request. The last one quotes the whole body: keep the reason only.
		msg, _, _ := strings.Cut(gqlErr.Message, " body:")
		return &gqlerror.Error{Message: msg, Path: gqlErr.Path, Locations: gqlErr.Locations,
			Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
	}
	if gqlErr.Message == "introspection disabled" { // gqlgen's plain error for __schema/__type
		return &gqlerror.Error{Message: "introspection is disabled on this server", Path: gqlErr.Path,
			Locations: gqlErr.Locations, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
	}
	if timedOut(ctx, err) {
		return &gqlerror.Error{Message: "the request took too long", Path: gqlErr.Path,
			Extensions: map[string]any{"code": "TIMEOUT"}}
	}
	if databaseUnavailable(err) {
		zerolog.Ctx(ctx).Warn().Err(err).Str("path", gqlErr.Path.String()).Msg("database unavailable")
		return &gqlerror.Error{
			Message:    "the database is unavailable: try again in a moment",
			Path:       gqlErr.Path,
			Extensions: map[string]any{"code": "UNAVAILABLE", "requestId": RequestID(ctx)},
		}
	}
	zerolog.Ctx(ctx).Error().Err(err).Str("path", gqlErr.Path.String()).Msg("internal error")
	return &gqlerror.Error{
		Message:    "internal error",
		Path:       gqlErr.Path,
		Extensions: map[string]any{"code": "INTERNAL", "requestId": RequestID(ctx)},
	}
}

// recoverPanic reports a resolver panic as INTERNAL; the stack goes to the log only.
func recoverPanic(ctx context.Context, p any) error {
	zerolog.Ctx(ctx).Error().Interface("panic", p).Str("stack", string(debug.Stack())).Msg("resolver panic")
	return &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}

// timedOut reports whether err comes of the request's deadline (REQUEST_TIMEOUT) or of the
// SQL statement_timeout that mirrors it. The driver does not always wrap the context's
// error, so the context itself is asked, and its deadline too: a connection dialled under
// it fails with the operating system's "i/o timeout" a moment before the context's own
// timer marks it done.
func timedOut(ctx context.Context, err error) bool {
	var pg *pgconn.PgError
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return true
	}
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &pg) && pg.Code == "57014"
}

// databaseUnavailable reports whether err says the database cannot be reached or is going
// away (connection refused or lost, server shutting down or starting): the caller may retry,
// so it is told so (UNAVAILABLE) rather than given an INTERNAL error.
func databaseUnavailable(err error) bool {
	var connect *pgconn.ConnectError
	var network net.Error
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &connect), errors.As(err, &network),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pg):
		// Class 08: connection exception; 57P01–57P03: admin/crash shutdown, cannot connect now.
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	return false
}

type requestIDKey struct{}

// WithRequestID records the request's id (X-Request-Id), which INTERNAL errors carry.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request's id, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
