package graph_test

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/internal/testkit/apitest"
)

// TestLoyaltyAccountAsOf_MatchesAModelAtEveryInstant replays a random history through the
// API — purchases (pending ones vesting during the run, back-dated ones expiring during the
// run or at once), bonuses, redemptions, adjustments both ways, refunds — on a schedule that
// leaves every vesting and expiry instant in the middle of a quiet gap, and then asks
// asOf at every instant that matters (each event's, a microsecond before and after it, each
// vesting and expiry ± 1 µs, each gap's middle) in one query. A model in Go replays the
// events the API reported (points, times, vesting and expiry dates) with its own FIFO lots
// and timeline, and must agree on balance, pending and lifetime at every instant, and on the
// tier at each gap's middle (a tier change falls inside its mutation). A write that moved no
// points (a refund that reversed nothing) is no event, but it vests what is due and may raise
// the tier: the tier is checked on either side of it instead of across it. Each earn's
// expiry and vesting dates count from its purchase's occurredAt, which is its own instant
// when the purchase is given none.
//
// Its events are spaced on the real clock (300 ms apart, dates in the gaps between them), but
// a late event is no disagreement: a write decides what is due at the instant it stamps its
// rows (taken after the account's lock), which is the instant the model replays it at. So it
// runs in parallel with the package's tests (docs/decisions-loyalty.md, one instant per write).
func TestLoyaltyAccountAsOf_MatchesAModelAtEveryInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	loySetPendingDays(t, team.Admin, 1)
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("ASOF_SEED"), 10, 64); err == nil {
		seed = s // replay a failed run's history
	}
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	customer := loyCustomer(t, srv, team.Org)
	loyEnroll(t, team.Agent, customer)

	const gap = 300 * time.Millisecond
	const events = 24
	t0 := time.Now().Add(gap)
	slot := func(k int) time.Time { return t0.Add(time.Duration(k) * gap) }
	midGap := func(k int) time.Time { return slot(k).Add(gap / 2) } // between event k and k+1

	type lot struct {
		points, remaining int
		created, expires  time.Time
		vests             time.Time // zero: not pending
		order             string
	}
	type event struct {
		at    time.Time
		kind  string // earn, bonus, redeem, adjust, refund
		lot   *lot   // earn, bonus, positive adjust
		order string // refund: the order
		pts   int    // signed points of the transaction
		vests bool   // a refund's cancellation of pending points
		tier  string // the account's tier after it
	}
	var history []event
	// Where the tier is known: after each event at its instant, and after each write that
	// moved no points of its own (a refund of a purchase whose points expired at once, or of
	// too small a share) somewhere between the request and its answer. Such a write still
	// vests and expires what is due and may raise the tier (vesting is lazy): it has no
	// ledger row of its own to place it, so the tier is checked on either side of it.
	type tierMark struct {
		from, to time.Time
		tier     string
	}
	var marks []tierMark
	var orders []string
	refundable := map[string]int{} // cents
	// Every vesting and expiry date falls in a gap before the last event, a bonus at
	// slot(events+1) that vests and expires what is due: the account then reads as the
	// model's "now".
	for k := range events + 2 {
		time.Sleep(time.Until(slot(k)))
		var p loyPayload
		var ev event
		sent := time.Now()
		op := rng.Intn(10)
		switch {
		case k == events:
			continue
		case k == events+1:
			op = 4 // the closing bonus
		}
		switch {
		case op < 4: // purchase
			order := fmt.Sprint("O-", k)
			cents := 100 + rng.Intn(40000)
			in := map[string]any{"customerId": customer, "orderId": order, "amount": fmt.Sprintf("%d.%02d", cents/100, cents%100)}
			switch rng.Intn(4) {
			case 0: // pending, vesting in a later gap of the run
				in["occurredAt"] = midGap(k+1+rng.Intn(events-k)).AddDate(0, 0, -1).UTC().Format(time.RFC3339Nano)
			case 1: // spendable, expiring in a later gap of the run
				in["occurredAt"] = midGap(k+1+rng.Intn(events-k)).AddDate(-1, 0, 0).UTC().Format(time.RFC3339Nano)
			case 2: // expired at once
				in["occurredAt"] = time.Now().AddDate(0, -14, 0).UTC().Format(time.RFC3339Nano)
			}
			p = loyOK(t, team.Agent, "recordPurchase", in)
			orders = append(orders, order)
			refundable[order] = cents
			ev.kind, ev.order = "earn", order
		case op < 6:
			p = loyBonus(t, team.Agent, customer, 1+rng.Intn(700)) // enough to cross tiers now and then
			ev.kind = "bonus"
		case op < 8:
			p = loyCall(t, team.Agent, "redeemPoints", map[string]any{"customerId": customer, "points": 1 + rng.Intn(200),
				"referenceType": "o", "referenceId": fmt.Sprint("R-", k)})
			ev.kind = "redeem"
		case op < 9:
			n := rng.Intn(100) - 60
			if n == 0 {
				n = 1
			}
			p = loyCall(t, team.Manager, "adjustPoints", map[string]any{"customerId": customer, "points": n, "reason": "model",
				"idempotencyKey": fmt.Sprint("A-", k)})
			ev.kind = "adjust"
		default:
			if len(orders) == 0 {
				continue
			}
			order := orders[rng.Intn(len(orders))]
			if refundable[order] == 0 {
				continue
			}
			cents := 1 + rng.Intn(refundable[order])
			refundable[order] -= cents
			p = loyOK(t, team.Agent, "recordRefund", map[string]any{"orderId": order, "refundId": fmt.Sprint("F-", k),
				"amount": fmt.Sprintf("%d.%02d", cents/100, cents%100)})
			ev.kind, ev.order = "refund", order
		}
		if len(p.UserErrors) > 0 || p.LoyaltyAccount == nil {
			continue // refused (insufficient points): rolled back, nothing happened
		}
		if p.Transaction == nil { // done, no points moved: no event, but the tier may have changed
			marks = append(marks, tierMark{sent, time.Now(), p.LoyaltyAccount.Tier})
			continue
		}
		tx := p.Transaction
		ev.at, _ = time.Parse(time.RFC3339Nano, tx.CreatedAt)
		ev.pts, ev.tier = tx.Points, p.LoyaltyAccount.Tier
		ev.vests = tx.VestsAt != nil
		if tx.Points > 0 && tx.ExpiresAt != nil {
			l := &lot{points: tx.Points, remaining: tx.Points, created: ev.at, order: ev.order}
			l.expires, _ = time.Parse(time.RFC3339Nano, *tx.ExpiresAt)
			if tx.VestsAt != nil {
				l.vests, _ = time.Parse(time.RFC3339Nano, *tx.VestsAt)
			}
			ev.lot = l
		}
		history = append(history, ev)
		marks = append(marks, tierMark{ev.at, ev.at, ev.tier})
	}
	if len(history) < 10 {
		t.Fatalf("only %d events", len(history))
	}

	// The model: the state at T replays the events recorded by T, vesting each pending lot
	// at its date and expiring each lot at its date (FIFO: the first to expire is spent first).
	type state struct{ balance, pending, lifetime int }
	model := func(at time.Time) state {
		var lots []*lot
		var st state
		settle := func(until time.Time) { // vest and expire what is due by until, in time order
			for {
				var next *lot
				var when time.Time
				vest := false
				for _, l := range lots {
					if !l.vests.IsZero() && !l.vests.After(until) && (next == nil || l.vests.Before(when)) {
						next, when, vest = l, l.vests, true
					}
					if l.vests.IsZero() && l.remaining > 0 && !l.expires.After(until) && (next == nil || l.expires.Before(when)) {
						next, when, vest = l, l.expires, false
					}
				}
				if next == nil {
					return
				}
				if vest {
					st.pending -= next.remaining
					st.balance += next.remaining
					st.lifetime += next.remaining
					next.vests = time.Time{}
				} else {
					st.balance -= next.remaining
					next.remaining = 0
				}
			}
		}
		take := func(points int) {
			sort.SliceStable(lots, func(a, b int) bool { return lots[a].expires.Before(lots[b].expires) })
			for _, l := range lots {
				if l.vests.IsZero() && points > 0 {
					n := min(l.remaining, points)
					l.remaining -= n
					points -= n
				}
			}
			if points != 0 {
				t.Fatalf("model: lots short of %d points", points)
			}
		}
		for _, ev := range history {
			if ev.at.After(at) {
				break
			}
			settle(ev.at)
			switch {
			case ev.lot != nil:
				l := *ev.lot
				lots = append(lots, &l)
				if l.vests.IsZero() {
					st.balance += l.points
					if ev.kind != "adjust" {
						st.lifetime += l.points
					}
				} else {
					st.pending += l.points
				}
			case ev.kind == "refund" && ev.vests: // cancels pending points of its order's lot
				for _, l := range lots {
					if l.order == ev.order && !l.vests.IsZero() {
						l.remaining += ev.pts
						l.points += ev.pts
					}
				}
				st.pending += ev.pts
			default: // takes points: redemption, negative adjustment, refund reversal
				take(-ev.pts)
				st.balance += ev.pts
				if ev.kind == "refund" {
					st.lifetime += ev.pts
				}
			}
			settle(ev.at)
		}
		settle(at)
		return st
	}

	// The instants, and one query asking asOf at each.
	var instants []time.Time
	dated := 0                 // vesting and expiry dates inside the run
	tierAt := map[int]string{} // index in instants → the model's tier (gap middles)
	for _, ev := range history {
		instants = append(instants, ev.at.Add(-time.Microsecond), ev.at, ev.at.Add(time.Microsecond))
		if ev.lot != nil {
			for _, d := range []time.Time{ev.lot.vests, ev.lot.expires} {
				if !d.IsZero() && d.After(t0) && d.Before(time.Now()) {
					instants = append(instants, d.Add(-time.Microsecond), d, d.Add(time.Microsecond))
					dated++
				}
			}
		}
	}
	for i, m := range marks { // the middle of each gap between known tiers
		end := time.Now()
		if i+1 < len(marks) {
			end = marks[i+1].from
		}
		instants = append(instants, m.to.Add(end.Sub(m.to)/2))
		tierAt[len(instants)-1] = m.tier
	}
	instants = append(instants, t0.Add(-time.Hour))
	tierAt[len(instants)-1] = "BRONZE"
	type asOfRow struct {
		At                         string
		Balance, Pending, Lifetime int
		Tier                       string
	}
	answers := map[string]asOfRow{}
	for from := 0; from < len(instants); from += 25 { // the API's limit of aliases per query
		var q strings.Builder
		q.WriteString(`query($id: UUID!) { customer(id: $id) { loyaltyAccount {`)
		for i := from; i < min(from+25, len(instants)); i++ {
			fmt.Fprintf(&q, " a%d: asOf(at: %q) { at balance pending lifetime tier }", i, instants[i].UTC().Format(time.RFC3339Nano))
		}
		q.WriteString(" } } }")
		var out struct {
			Customer struct{ LoyaltyAccount map[string]asOfRow }
		}
		team.Viewer.Must(t, q.String(), map[string]any{"id": customer}, &out)
		for k, v := range out.Customer.LoyaltyAccount {
			answers[k] = v
		}
	}
	checked := 0
	for i, at := range instants {
		got, ok := answers[fmt.Sprint("a", i)]
		want := model(at)
		if !ok || got.Balance != want.balance || got.Pending != want.pending || got.Lifetime != want.lifetime {
			t.Errorf("at %s: asOf %+v, model %+v", at.UTC().Format(time.RFC3339Nano), got, want)
		}
		if tier, ok := tierAt[i]; ok && got.Tier != tier {
			t.Errorf("at %s: tier %s, model %s", at.UTC().Format(time.RFC3339Nano), got.Tier, tier)
		}
		checked++
	}
	if t.Failed() { // what a disagreement is read against: the events, the ledger, the tier history
		for i, ev := range history {
			t.Logf("event %d: %s at %s, %d points, tier %s", i, ev.kind, ev.at.UTC().Format(time.RFC3339Nano), ev.pts, ev.tier)
		}
		for _, m := range marks {
			if !m.from.Equal(m.to) {
				t.Logf("a write without points between %s and %s, tier %s", m.from.UTC().Format(time.RFC3339Nano), m.to.UTC().Format(time.RFC3339Nano), m.tier)
			}
		}
		loyLogLedger(t, srv, team.Org)
	}
	// And now: asOf(now) is the account as it reads now.
	now := loyPendingOf(t, team.Viewer, customer)
	if last := model(time.Now()); now.PointsBalance != last.balance || now.PendingPoints != last.pending || now.LifetimePoints != last.lifetime {
		t.Errorf("now: account %+v, model %+v", now, last)
	}
	t.Logf("%d events, %d vesting or expiry dates inside the run, %d instants checked", len(history), dated, checked)
	loyCheckBooks(t, srv, team.Org)
}

// asOf's instant is an RFC 3339 DateTime not later than now; anything else is
// BAD_USER_INPUT, and another
// organization's account is as invisible as ever.
func TestLoyaltyAccountAsOf_RefusesABadInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	team := newLoyTeam(t, srv)
	customer := loyCustomer(t, srv, team.Org)
	loyBuy(t, team.Agent, customer, "10.00")
	for _, bad := range []string{"yesterday", "2026-13-01T00:00:00Z", "", "2026-01-01", time.Now().Add(time.Minute).UTC().Format(time.RFC3339)} {
		res := team.Viewer.Do(t, `query($id: UUID!, $at: DateTime!) { customer(id: $id) { loyaltyAccount { asOf(at: $at) { balance } } } }`,
			map[string]any{"id": customer, "at": bad})
		if len(res.Errors) == 0 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Errorf("%q: %s", bad, res.Body)
		}
	}
	other := newLoyTeam(t, srv)
	var out struct{ Customer *struct{} }
	other.Viewer.Must(t, `query($id: UUID!) { customer(id: $id) { loyaltyAccount { asOf(at: "2026-01-01T00:00:00Z") { balance } } } }`,
		map[string]any{"id": customer}, &out)
	if out.Customer != nil {
		t.Fatal("another organization read the account")
	}
}

// loyLogLedger logs the organization's ledger and tier history in time order, with their
// instants.
func loyLogLedger(t *testing.T, srv *apitest.Server, org uuid.UUID) {
	t.Helper()
	var rows []struct {
		Type      string     `bun:"transaction_type"`
		Points    int        `bun:"points"`
		Balance   int        `bun:"balance_after"`
		CreatedAt time.Time  `bun:"created_at"`
		Vests     *time.Time `bun:"vests_at"`
		Expires   *time.Time `bun:"expires_at"`
		Metadata  string     `bun:"metadata"`
	}
	if err := srv.Owner.NewRaw(`SELECT transaction_type, points, balance_after, created_at, vests_at, expires_at, metadata::text AS metadata
		FROM loyalty_transactions WHERE organization_id = ? ORDER BY created_at, transaction_id`, org).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("ledger %s: %s %d, balance %d, vests %v, expires %v, %s", r.CreatedAt.UTC().Format(time.RFC3339Nano), r.Type, r.Points, r.Balance, r.Vests, r.Expires, r.Metadata)
	}
	var changes []struct {
		Tier string    `bun:"tier"`
		At   time.Time `bun:"changed_at"`
	}
	if err := srv.Owner.NewRaw(`SELECT tier, changed_at FROM loyalty_tier_changes WHERE organization_id = ? ORDER BY changed_at`, org).Scan(t.Context(), &changes); err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		t.Logf("tier %s: %s", c.At.UTC().Format(time.RFC3339Nano), c.Tier)
	}
}
