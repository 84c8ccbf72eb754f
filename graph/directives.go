package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/auth"
)

// hasRole implements @hasRole (§7): the caller needs the role or one above it.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, &gqlerror.Error{Message: "not authenticated", Path: graphql.GetPath(ctx),
			Extensions: map[string]any{"code": "UNAUTHENTICATED"}}
	}
	if !p.Can(role) {
		return nil, &gqlerror.Error{
			Message:    fmt.Sprintf("this operation needs the %s role", role),
			Path:       graphql.GetPath(ctx),
			Extensions: map[string]any{"code": "FORBIDDEN"},
		}
	}
	return next(ctx)
}
