package auth

import (
	"context"
	"testing"

	"customerservice/apperr"
)

// §7: each role includes the ones below it; no principal is UNAUTHENTICATED, too low a
// role FORBIDDEN.
func TestRequire_EachRoleIncludesTheOnesBelowIt(t *testing.T) {
	as := func(roles ...Role) context.Context {
		return WithPrincipal(context.Background(), Principal{Roles: roles})
	}
	tests := []struct {
		name string
		ctx  context.Context
		need Role
		want apperr.Code // "" when allowed
	}{
		{"no principal", context.Background(), Viewer, apperr.Unauthenticated},
		{"no role", as(), Viewer, apperr.Forbidden},
		{"unknown role", as("auditor"), Viewer, apperr.Forbidden},
		{"viewer reads", as(Viewer), Viewer, ""},
		{"viewer does not write", as(Viewer), Agent, apperr.Forbidden},
		{"agent writes", as(Agent), Agent, ""},
		{"agent reads", as(Agent), Viewer, ""},
		{"agent does not manage", as(Agent), Manager, apperr.Forbidden},
		{"manager manages", as(Manager), Manager, ""},
		{"manager is not admin", as(Manager), Admin, apperr.Forbidden},
		{"admin does everything", as(Admin), Admin, ""},
		{"admin reads", as(Admin), Viewer, ""},
		{"the highest of several roles counts", as(Viewer, Manager), Manager, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Require(tc.ctx, tc.need)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Require(%s) = %v, want nil", tc.need, err)
				}
				return
			}
			if !apperr.Is(err, tc.want) {
				t.Fatalf("Require(%s) = %v, want %s", tc.need, err, tc.want)
			}
		})
	}
}
