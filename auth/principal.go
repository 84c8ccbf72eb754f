// Package auth owns who is calling: JWT verification (specification §7), the principal in the
// request context, and the role hierarchy viewer < agent < manager < admin.
package auth

import (
	"context"

	"github.com/google/uuid"
)

// Role is one of the roles of §7.
type Role string

const (
	Viewer  Role = "viewer"
	Agent   Role = "agent"
	Manager Role = "manager"
	Admin   Role = "admin"
)

// rank orders the roles: each includes the rights of the ones below it.
var rank = map[Role]int{Viewer: 1, Agent: 2, Manager: 3, Admin: 4}

// Principal is the authenticated caller.
type Principal struct {
	UserID         uuid.UUID
	OrganizationID uuid.UUID
	Roles          []Role
}

// Can reports whether the principal holds role or one above it.
func (p Principal) Can(role Role) bool {
	for _, r := range p.Roles {
		if rank[r] >= rank[role] && rank[r] > 0 {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of the request, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// System is the actor of what no user did (§12): the scheduled jobs and the rules they
// apply (expiry, tier re-evaluation, overdue marking), stored as the nil uuid.
var System = uuid.Nil

// Actor is the user id of the caller to record on what it writes, System without one.
func Actor(ctx context.Context) *uuid.UUID {
	id := System
	if p, ok := FromContext(ctx); ok {
		id = p.UserID
	}
	return &id
}
