package auth

import (
	"context"

	"customerservice/apperr"
)

// Require is the role check of every domain service method (§7): nil when the caller holds
// role or one above it; else UNAUTHENTICATED (no principal in ctx) or FORBIDDEN. @hasRole
// on the schema is the first gate; the services check again so that a rule is never
// reached without its role, whoever calls it (a resolver, the seed loader, a test). Callers
// without a user — the seed loader, the CLI — carry a principal with the role they need.
func Require(ctx context.Context, role Role) error {
	p, ok := FromContext(ctx)
	if !ok {
		return apperr.New(apperr.Unauthenticated, "not authenticated")
	}
	if !p.Can(role) {
		return apperr.New(apperr.Forbidden, "this operation needs the %s role", role)
	}
	return nil
}
