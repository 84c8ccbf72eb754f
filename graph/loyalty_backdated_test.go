package graph_test

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// §13 back-dated purchases: a lot expires 12 months after the purchase's occurredAt; a
// purchase older than that earns points that expire at once (an earn and an expire in the
// ledger); tier qualification counts each earn at its purchase date.
func TestRecordPurchase_BackDatedEarnsAndExpiresAtOnce(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	now := time.Now().UTC()
	old := now.AddDate(0, -14, 0)
	p := loyOK(t, team.Agent, "recordPurchase", map[string]any{
		"customerId": customer, "orderId": "OLD", "amount": "6000.00", "occurredAt": old.Format(time.RFC3339Nano)})
	if a := p.LoyaltyAccount; a.PointsBalance != 0 || a.LifetimePoints != 6000 || a.Tier != "BRONZE" || *a.PointsToNextTier != 1000 ||
		a.TotalPurchases != 1 || a.TotalSpent != "6000.00" {
		t.Fatalf("account after a 14-month-old purchase: %+v", a)
	}
	if tx := p.Transaction; tx.Type != "EARN" || tx.Points != 6000 || tx.BalanceAfter != 6000 || tx.ExpiresAt == nil {
		t.Fatalf("earn = %+v", tx)
	} else if exp, _ := time.Parse(time.RFC3339Nano, *tx.ExpiresAt); !exp.Equal(old.AddDate(0, 12, 0).Truncate(time.Microsecond)) {
		t.Fatalf("expiresAt = %s, want 12 months after the purchase (%s)", *tx.ExpiresAt, old.AddDate(0, 12, 0))
	}
	var rows []struct {
		Type      string `bun:"transaction_type"`
		Points    int    `bun:"points"`
		Balance   int    `bun:"balance_after"`
		Remaining *int   `bun:"points_remaining"`
	}
	if err := srv.Owner.NewRaw(`SELECT transaction_type, points, balance_after, points_remaining FROM loyalty_transactions
		WHERE organization_id = ? ORDER BY created_at`, team.Org).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Type != "earn" || rows[0].Points != 6000 || *rows[0].Remaining != 0 ||
		rows[1].Type != "expire" || rows[1].Points != -6000 || rows[1].Balance != 0 {
		t.Fatalf("ledger = %+v", rows)
	}
	// Eleven months ago: valid one more month, and it qualifies (1,000 points: silver).
	recent := now.AddDate(0, -11, 0)
	p = loyOK(t, team.Agent, "recordPurchase", map[string]any{
		"customerId": customer, "orderId": "RECENT", "amount": "1000.00", "occurredAt": recent.Format(time.RFC3339Nano)})
	if a := p.LoyaltyAccount; a.PointsBalance != 1000 || a.LifetimePoints != 7000 || a.Tier != "SILVER" || *a.PointsToNextTier != 4000 {
		t.Fatalf("account after an 11-month-old purchase: %+v", a)
	}
	if exp, _ := time.Parse(time.RFC3339Nano, *p.Transaction.ExpiresAt); !exp.Equal(recent.AddDate(0, 12, 0).Truncate(time.Microsecond)) {
		t.Fatalf("expiresAt = %s", *p.Transaction.ExpiresAt)
	}
	// A refund of the expired purchase takes nothing from the recent points (they are not its).
	p = loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": "OLD", "refundId": "R-OLD", "amount": "6000.00"})
	if a := p.LoyaltyAccount; a.PointsBalance != 1000 || a.Tier != "SILVER" {
		t.Fatalf("after refunding the old purchase: %+v (transaction %+v)", a, p.Transaction)
	}
	loyCheckBooks(t, srv, team.Org)
}

// TestRecordPurchase_TwoYearImportMatchesAnIndependentModel imports two years of purchases
// of several customers through the API, oldest first (as an import of order history would),
// and compares each account with a computation in Go written from the rules alone (integer
// cents, no service code): earn = floor(cents × multiplier% / 10000) at the tier the account
// has when the purchase is recorded; a purchase counts toward tiers and stays in the balance
// only when it is less than 12 months old; lifetime points count every earn. Purchases
// within three days of the 12-month boundary are left out (the calendar arithmetic of
// "12 months" is the database's, not this model's).
func TestRecordPurchase_TwoYearImportMatchesAnIndependentModel(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	now := time.Now().UTC()
	type purchase struct {
		at    time.Time
		cents int64
	}
	type model struct {
		balance, lifetime, qualifying, expired, earns int
		tier                                          int // 0 bronze … 3 platinum
		naiveQualifying                               int // what counting every earn would give
	}
	tierNames := []string{"BRONZE", "SILVER", "GOLD", "PLATINUM"}
	thresholds := []int{0, 1000, 5000, 15000}
	multiplierPct := []int64{100, 125, 150, 200}
	tierFor := func(q int) int {
		for i := len(thresholds) - 1; i > 0; i-- {
			if q >= thresholds[i] {
				return i
			}
		}
		return 0
	}
	// Profiles that land on each tier once older purchases are not counted, and would be
	// higher if they were.
	profiles := []struct {
		n        int
		maxCents int64
	}{{12, 12000}, {24, 18000}, {40, 30000}, {60, 60000}, {80, 90000}, {8, 400000}}
	var spent map[uuid.UUID]int64 = map[uuid.UUID]int64{}
	want := map[uuid.UUID]*model{}
	var customers []uuid.UUID
	naiveDiffers := 0
	for _, pr := range profiles {
		customer := loyCustomer(t, srv, team.Org)
		customers = append(customers, customer)
		var ps []purchase
		for len(ps) < pr.n {
			days := 1 + rng.Intn(729)
			if days >= 362 && days <= 368 {
				continue
			}
			at := now.Add(-time.Duration(days)*24*time.Hour - time.Duration(rng.Intn(86400))*time.Second)
			ps = append(ps, purchase{at: at, cents: 100 + rng.Int63n(pr.maxCents)})
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].at.Before(ps[j].at) })
		m := &model{}
		naiveTier := 0
		for i, p := range ps {
			points := int(p.cents * multiplierPct[m.tier] / 10000)
			fresh := now.Sub(p.at) < 365*24*time.Hour
			m.lifetime += points
			m.earns++
			if fresh {
				m.balance += points
				m.qualifying += points
			} else if points > 0 {
				m.expired++
			}
			m.tier = max(m.tier, tierFor(m.qualifying))
			m.naiveQualifying += points
			naiveTier = max(naiveTier, tierFor(m.naiveQualifying))
			spent[customer] += p.cents
			loyOK(t, team.Agent, "recordPurchase", map[string]any{
				"customerId": customer, "orderId": fmt.Sprintf("%s-%d", customer, i),
				"amount": fmt.Sprintf("%d.%02d", p.cents/100, p.cents%100), "occurredAt": p.at.Format(time.RFC3339Nano),
			})
		}
		if naiveTier != m.tier {
			naiveDiffers++
		}
		want[customer] = m
	}
	tiersSeen := map[int]bool{}
	for _, customer := range customers {
		m := want[customer]
		tiersSeen[m.tier] = true
		a := loyAccountOf(t, team.Viewer, customer)
		wantSpent := fmt.Sprintf("%d.%02d", spent[customer]/100, spent[customer]%100)
		if a.PointsBalance != m.balance || a.LifetimePoints != m.lifetime || a.Tier != tierNames[m.tier] ||
			a.TotalPurchases != m.earns || a.TotalSpent != wantSpent {
			t.Errorf("customer %s: account %+v, model %+v (spent %s)", customer, a, m, wantSpent)
		}
		if m.tier < 3 && *a.PointsToNextTier != max(0, thresholds[m.tier+1]-m.qualifying) {
			t.Errorf("customer %s: pointsToNextTier %d, model %d", customer, *a.PointsToNextTier, thresholds[m.tier+1]-m.qualifying)
		}
		if n := loyInt(t, srv, `SELECT count(*) FROM loyalty_transactions t JOIN loyalty_accounts a
			ON a.organization_id = t.organization_id AND a.loyalty_account_id = t.loyalty_account_id
			WHERE t.organization_id = ? AND a.customer_id = ? AND t.transaction_type = 'expire'`, team.Org, customer); n != m.expired {
			t.Errorf("customer %s: %d expire transactions, model %d", customer, n, m.expired)
		}
	}
	if len(tiersSeen) < 3 || naiveDiffers == 0 {
		t.Errorf("the import exercised tiers %v and %d customers whose tier counting every earn would differ; want ≥ 3 tiers and ≥ 1", tiersSeen, naiveDiffers)
	}
	loyCheckBooks(t, srv, team.Org)
}
