package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/apperr"
	"customerservice/graph/model"
)

// userErrors turns a domain error into a mutation's userErrors (§8). Any other error is
// returned as is, to be reported as a top-level INTERNAL error.
func userErrors(err error) ([]model.UserError, error) {
	errs, ok := apperr.Of(err)
	if !ok {
		return nil, err
	}
	out := make([]model.UserError, len(errs))
	for i, e := range errs {
		out[i] = model.UserError{Field: e.Field, Message: e.Message, Code: e.Code}
	}
	return out, nil
}

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
// anything else is INTERNAL with the detail only in the log (no SQL, no stack).
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	if code, coded := gqlErr.Extensions["code"]; coded {
		// §8 has one code for a malformed request, whether it failed to parse or to validate.
		if code == errcode.ValidationFailed || code == errcode.ParseFailed {
			gqlErr.Extensions["code"] = "BAD_USER_INPUT"
		}
		return gqlErr
	}
	var plain *gqlerror.Error
	if errors.As(err, &plain) && plain.Err == nil {
		// gqlgen's own errors (validation, argument coercion) are about the request.
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = "BAD_USER_INPUT"
		return gqlErr
	}
	zerolog.Ctx(ctx).Error().Err(err).Str("path", gqlErr.Path.String()).Msg("internal error")
	return &gqlerror.Error{
		Message:    "internal error",
		Path:       gqlErr.Path,
		Extensions: map[string]any{"code": "INTERNAL"},
	}
}

// recoverPanic reports a resolver panic as INTERNAL; the stack goes to the log only.
func recoverPanic(ctx context.Context, p any) error {
	zerolog.Ctx(ctx).Error().Interface("panic", p).Stack().Msg("resolver panic")
	return &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}
