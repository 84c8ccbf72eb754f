package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

const recalculateSegments = `mutation { recalculateSegments {
	scored bySegment { segment count } calculatedAt userErrors { code message } } }`

// Five customers buy in the window with distinct values, so each score is the customer's
// rank (1 + floor(5 × (rank − 1) / 5)): the customer with the i-th most recent, i-th most
// frequent and i-th biggest spend scores i everywhere.
//
//	ana    R5 F5 M5  champions, VIP (and top 5 % of value: rank 1 of 6 who ever bought)
//	ben    R4 F4 M4  champions, VIP
//	carla  R3 F3 M3  potential_loyalist (the catch-all)
//	dario  R2 F2 M2  lost
//	eva    R1 F1 M1  lost
//	fede   nothing bought, created today: new
//	gina   one purchase 400 days ago: lost, no scores
func TestRecalculateSegments_ManagerScoresTheOrganizationAndReadsFollow(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Manager)
	ids := map[string]uuid.UUID{}
	for i, name := range []string{"ana", "ben", "carla", "dario", "eva"} {
		id := segmentCustomer(t, srv, c.Org, name)
		ids[name] = id
		n := 5 - i // purchases, and days since the last one is 1 + i
		for j := 0; j < n; j++ {
			mustExec(t, srv, `INSERT INTO purchases (organization_id, customer_id, order_id, amount, occurred_at)
				VALUES (?, ?, ?, 100, now() - make_interval(days => ?, hours => 1))`, c.Org, id, name+"-"+string(rune('a'+j)), 1+i+j)
		}
	}
	ids["fede"] = segmentCustomer(t, srv, c.Org, "fede")
	ids["gina"] = segmentCustomer(t, srv, c.Org, "gina")
	mustExec(t, srv, `INSERT INTO purchases (organization_id, customer_id, order_id, amount, occurred_at)
		VALUES (?, ?, 'gina-a', 100, now() - interval '400 days')`, c.Org, ids["gina"])

	before := time.Now().Add(-time.Second)
	var out struct {
		RecalculateSegments struct {
			Scored    int
			BySegment []struct {
				Segment string
				Count   int
			}
			CalculatedAt time.Time
			UserErrors   []struct{ Code string }
		}
	}
	c.Must(t, recalculateSegments, nil, &out)
	p := out.RecalculateSegments
	want := map[string]int{"CHAMPIONS": 2, "LOYAL": 0, "POTENTIAL_LOYALIST": 1, "NEW": 1, "AT_RISK": 0, "LOST": 3}
	if p.Scored != 7 || len(p.UserErrors) != 0 || len(p.BySegment) != len(want) || p.CalculatedAt.Before(before) || p.CalculatedAt.After(time.Now()) {
		t.Fatalf("payload = %+v", p)
	}
	for _, s := range p.BySegment {
		if want[s.Segment] != s.Count {
			t.Errorf("%s: %d, want %d", s.Segment, s.Count, want[s.Segment])
		}
	}

	// Customer.segment reads the row.
	var one struct {
		Customer struct {
			Segment struct {
				SegmentCode                           string
				RfmRecency, RfmFrequency, RfmMonetary *int
				RfmScore                              *int
				LifetimeValue, AverageOrderValue      string
				TotalOrders                           int
				DaysSinceLastPurchase                 *int
				IsVip, IsAtRisk                       bool
				CalculatedAt                          time.Time
			}
		}
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { segment { segmentCode rfmRecency rfmFrequency rfmMonetary rfmScore
		lifetimeValue averageOrderValue totalOrders daysSinceLastPurchase isVip isAtRisk calculatedAt } } }`,
		map[string]any{"id": ids["ben"]}, &one)
	s := one.Customer.Segment
	if s.SegmentCode != "CHAMPIONS" || *s.RfmRecency != 4 || *s.RfmFrequency != 4 || *s.RfmMonetary != 4 || *s.RfmScore != 12 ||
		s.LifetimeValue != "400.00" || s.AverageOrderValue != "100.00" || s.TotalOrders != 4 || *s.DaysSinceLastPurchase != 2 ||
		!s.IsVip || s.IsAtRisk || !s.CalculatedAt.Equal(p.CalculatedAt) {
		t.Errorf("ben's segment = %+v", s)
	}
	c.Must(t, `query($id: UUID!) { customer(id: $id) { segment { segmentCode rfmRecency rfmFrequency rfmMonetary rfmScore
		lifetimeValue averageOrderValue totalOrders daysSinceLastPurchase isVip isAtRisk calculatedAt } } }`,
		map[string]any{"id": ids["gina"]}, &one)
	if s := one.Customer.Segment; s.SegmentCode != "LOST" || s.RfmRecency != nil || s.RfmScore != nil || *s.DaysSinceLastPurchase != 400 || s.TotalOrders != 1 {
		t.Errorf("gina's segment = %+v", s)
	}

	// The list filters and the dashboard counts agree with the recalculation.
	var list struct {
		Champions, Vip struct{ TotalCount int }
		ByValue        struct{ Nodes []struct{ ID uuid.UUID } }
		CustomerStats  struct {
			BySegment []struct {
				Segment *string
				Count   int
			}
		}
	}
	c.Must(t, `{ champions: customers(filter: {segment: [CHAMPIONS]}) { totalCount }
		vip: customers(filter: {isVip: true}) { totalCount }
		byValue: customers(first: 1, orderBy: {field: LIFETIME_VALUE, direction: DESC}) { nodes { id } }
		customerStats { bySegment { segment count } } }`, nil, &list)
	if list.Champions.TotalCount != 2 || list.Vip.TotalCount != 2 || len(list.ByValue.Nodes) != 1 || list.ByValue.Nodes[0].ID != ids["ana"] {
		t.Errorf("lists = %+v", list)
	}
	for _, b := range list.CustomerStats.BySegment {
		if b.Segment != nil && want[*b.Segment] != b.Count {
			t.Errorf("customerStats %s: %d, want %d", *b.Segment, b.Count, want[*b.Segment])
		}
	}

	// One audit row, with the caller and the organization.
	var audit []struct {
		Action, EntityType string
		EntityID, ActorID  uuid.UUID
	}
	if err := srv.Owner.NewRaw(`SELECT action, entity_type, entity_id, actor_id FROM audit_log WHERE organization_id = ?`, c.Org).
		Scan(context.Background(), &audit); err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Action != "segments.recalculate" || audit[0].EntityType != "organization" ||
		audit[0].EntityID != c.Org || audit[0].ActorID != c.User {
		t.Errorf("audit = %+v", audit)
	}
}

// §7: recalculating segments takes a manager; an agent gets FORBIDDEN and nothing changes.
func TestRecalculateSegments_AgentIsForbidden(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	id := segmentCustomer(t, srv, c.Org, "ana")
	mustExec(t, srv, `INSERT INTO purchases (organization_id, customer_id, order_id, amount, occurred_at)
		VALUES (?, ?, 'o-1', 100, now() - interval '1 day')`, c.Org, id)
	if code := c.Do(t, recalculateSegments, nil).ErrorCode(t); code != "FORBIDDEN" {
		t.Fatalf("code %s", code)
	}
	var n int
	if err := srv.Owner.NewRaw(`SELECT (SELECT count(*) FROM customer_segments WHERE organization_id = ?0)
		+ (SELECT count(*) FROM audit_log WHERE organization_id = ?0)`, c.Org).Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("%d rows written, %v", n, err)
	}
}

func segmentCustomer(t *testing.T, srv *apitest.Server, org uuid.UUID, name string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	registerOrg(t, srv, org)
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name) VALUES (?, ?, ?, 'Segment')`, id, org, name)
	return id
}
