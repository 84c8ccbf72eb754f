package graph_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

func TestMe_ReturnsTheTokenClaims(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	var out struct {
		Me struct {
			UserID         string   `json:"userId"`
			OrganizationID string   `json:"organizationId"`
			Roles          []string `json:"roles"`
		}
	}
	c.Must(t, `{ me { userId organizationId roles } }`, nil, &out)
	if out.Me.UserID != c.User.String() || out.Me.OrganizationID != c.Org.String() || len(out.Me.Roles) != 1 || out.Me.Roles[0] != "VIEWER" {
		t.Fatalf("me = %+v", out.Me)
	}
}

func TestGraphQL_RequiresAToken(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	res := srv.Post(t, "", `{ me { userId } }`, nil)
	if res.Status != http.StatusUnauthorized || res.ErrorCode(t) != "UNAUTHENTICATED" {
		t.Fatalf("got %d %s", res.Status, res.Body)
	}
}

func TestCustomer_ReadsThe360(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)
	id := uuid.New()
	ctx := context.Background()
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name) VALUES (?, ?, 'Ana', 'Pérez')`, id, c.Org)
	mustExec(t, srv, `INSERT INTO addresses (organization_id, customer_id, address_line1, city, is_default) VALUES (?, ?, 'Calle 50', 'Panamá', true)`, c.Org, id)
	mustExec(t, srv, `INSERT INTO loyalty_accounts (organization_id, customer_id, points_balance, total_spent) VALUES (?, ?, 120, 99.5)`, c.Org, id)
	_ = ctx
	var out struct {
		Customer struct {
			FullName               string
			DefaultShippingAddress struct{ City string }
			LoyaltyAccount         struct {
				PointsBalance int
				TotalSpent    string
			}
			CreditAccount *struct{ Status string }
		}
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { fullName defaultShippingAddress { city }
		loyaltyAccount { pointsBalance totalSpent } creditAccount { status } } }`, map[string]any{"id": id}, &out)
	got := out.Customer
	if got.FullName != "Ana Pérez" || got.DefaultShippingAddress.City != "Panamá" || got.LoyaltyAccount.PointsBalance != 120 ||
		got.LoyaltyAccount.TotalSpent != "99.50" || got.CreditAccount != nil {
		t.Fatalf("customer = %+v", got)
	}
}

// mustExec writes fixtures as the owner (bypassing the API, not RLS: rows carry their org).
// registerOrg registers org in the organizations registry as the service does with its first
// customer, for a test that inserts customers as the owner and then runs the jobs over every
// organization.
func registerOrg(t testing.TB, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	if _, err := srv.Owner.NewRaw("INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING", org).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, srv *apitest.Server, query string, args ...any) {
	t.Helper()
	if _, err := srv.Owner.NewRaw(query, args...).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}
