package segments

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/models"
)

// A crafted history of one organization whose every figure is worked out by hand below (the
// default 365-day window: no loyalty program row). Ten customers buy in the window, so a
// score is 1 + floor(5 × (rank − 1) / 10): ranks 1–2 → 1, 3–4 → 2, 5–6 → 3, 7–8 → 4, 9–10 → 5.
//
//	customer  last (days)  in-window purchases          R  F  M  segment (rule)
//	champion      1        8 × 100 = 800                5  5  5  champions (1)
//	loyal        20        5 × 100 = 500                3  4  5  loyal (2)
//	first         2        1 × 80                       5  1  2  new (3: one purchase ever)
//	recent        3        3 × 100 − 0.02 = 299.98      4  3  4  potential_loyalist (4)
//	atRisk      100        4 × 100 = 400 (+1000 at 400d) 2  4  4  at_risk (5)
//	lapsed      120        100 + 100 fully refunded     2  2  3  lost (6)
//	middling     30        2 × 60 = 120                 3  2  3  potential_loyalist (7, catch-all)
//	twinA/B     364        1 × 50, 1 minute inside      1  1  1  lost (6), identical scores
//	bargain       4        6 × 10 = 60                  4  5  2  loyal (2)
//
// Recency ranks (most days first): twins 1, lapsed 3, atRisk 4, middling 5, loyal 6,
// bargain 7, recent 8, first 9, champion 10. Frequency (fewest first): first and twins 1,
// lapsed and middling 4 (the fully refunded purchase still counts), recent 6, atRisk 7,
// loyal 8, bargain 9, champion 10. Monetary (lowest first): twins 1, bargain 3, first 4,
// lapsed 5, middling 6, recent 7, atRisk 8, loyal 9, champion 10.
//
// Without a purchase in the window: gone (one purchase 1 minute outside the window) is lost;
// signedUp (created 10 days ago, nothing bought) is new; dormant (created 91 days ago, nothing
// bought) gets no row and loses its stale one; erased (erased, a big purchase yesterday)
// gets no row, loses its stale one and counts in no ranking.
//
// VIP: 11 customers ever purchased; only rank 1 of lifetime value is in the top 5 %
// (20 × (rank − 1) < 11): atRisk with 1400. The champion is VIP as a champion.
func TestRecalculate_CraftedHistoryFollowsSection6(t *testing.T) {
	t.Parallel()
	app, owner := pools(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHistory(t, owner, now)
	hour := time.Hour
	series := func(c uuid.UUID, n int, lastDays int, amount string) {
		for i := 0; i < n; i++ {
			h.purchase(c, time.Duration(lastDays+i)*day+hour, amount, "0")
		}
	}

	champion := h.customer(400 * day)
	series(champion, 8, 1, "100")
	loyal := h.customer(400 * day)
	series(loyal, 5, 20, "100")
	first := h.customer(3 * day)
	h.purchase(first, 2*day+hour, "80", "0")
	recent := h.customer(400 * day)
	h.purchase(recent, 3*day+hour, "100", "0.02")
	h.purchase(recent, 4*day+hour, "100", "0")
	h.purchase(recent, 5*day+hour, "100", "0")
	atRisk := h.customer(800 * day)
	for _, d := range []int{100, 150, 200, 300} {
		h.purchase(atRisk, time.Duration(d)*day+hour, "100", "0")
	}
	h.purchase(atRisk, 400*day, "1000", "0")
	lapsed := h.customer(400 * day)
	h.purchase(lapsed, 120*day+hour, "100", "0")
	h.purchase(lapsed, 130*day+hour, "100", "100")
	middling := h.customer(400 * day)
	h.purchase(middling, 30*day+hour, "60", "0")
	h.purchase(middling, 35*day+hour, "60", "0")
	twinA, twinB := h.customer(400*day), h.customer(400*day)
	h.purchase(twinA, 365*day-time.Minute, "50", "0")
	h.purchase(twinB, 365*day-time.Minute, "50", "0")
	bargain := h.customer(400 * day)
	for _, d := range []int{4, 10, 20, 30, 40, 50} {
		h.purchase(bargain, time.Duration(d)*day+hour, "10", "0")
	}
	gone := h.customer(5 * day)
	h.purchase(gone, 365*day+time.Minute, "70", "0")
	signedUp := h.customer(10 * day)
	dormant := h.customer(91 * day)
	erased := h.customer(400 * day)
	h.purchase(erased, 1*day, "10000", "0")
	h.exec(`UPDATE customers SET erased_at = ? WHERE customer_id = ?`, now, erased)

	// Rows a previous recalculation left: one to update, two to remove; another organization's
	// row must survive untouched.
	h.staleRow(loyal, h.org)
	h.staleRow(dormant, h.org)
	h.staleRow(erased, h.org)
	other := newHistory(t, owner, now)
	otherCustomer := other.customer(400 * day)
	other.purchase(otherCustomer, day, "5", "0")
	other.staleRow(otherCustomer, other.org)

	res := recalculate(t, app, h.org, now)

	want := map[uuid.UUID]row{
		champion: {models.SegmentChampions, ip(5), ip(5), ip(5), "800.00", "100.00", 8, ip(1), true, false},
		loyal:    {models.SegmentLoyal, ip(3), ip(4), ip(5), "500.00", "100.00", 5, ip(20), false, false},
		first:    {models.SegmentNew, ip(5), ip(1), ip(2), "80.00", "80.00", 1, ip(2), false, false},
		recent:   {models.SegmentPotentialLoyalist, ip(4), ip(3), ip(4), "299.98", "99.99", 3, ip(3), false, false},
		atRisk:   {models.SegmentAtRisk, ip(2), ip(4), ip(4), "1400.00", "280.00", 5, ip(100), true, true},
		lapsed:   {models.SegmentLost, ip(2), ip(2), ip(3), "100.00", "50.00", 2, ip(120), false, false},
		middling: {models.SegmentPotentialLoyalist, ip(3), ip(2), ip(3), "120.00", "60.00", 2, ip(30), false, false},
		twinA:    {models.SegmentLost, ip(1), ip(1), ip(1), "50.00", "50.00", 1, ip(364), false, false},
		twinB:    {models.SegmentLost, ip(1), ip(1), ip(1), "50.00", "50.00", 1, ip(364), false, false},
		bargain:  {models.SegmentLoyal, ip(4), ip(5), ip(2), "60.00", "10.00", 6, ip(4), false, false},
		gone:     {models.SegmentLost, nil, nil, nil, "70.00", "70.00", 1, ip(365), false, false},
		signedUp: {models.SegmentNew, nil, nil, nil, "0.00", "0.00", 0, nil, false, false},
	}
	names := map[uuid.UUID]string{champion: "champion", loyal: "loyal", first: "first", recent: "recent",
		atRisk: "atRisk", lapsed: "lapsed", middling: "middling", twinA: "twinA", twinB: "twinB",
		bargain: "bargain", gone: "gone", signedUp: "signedUp", dormant: "dormant", erased: "erased"}

	got, segs := rows(t, owner, h.org)
	for id, w := range want {
		if g, ok := got[id]; !ok {
			t.Errorf("%s: no row, want %v", names[id], w)
		} else if g.String() != w.String() {
			t.Errorf("%s:\n got %v\nwant %v", names[id], g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s has a row, want none", names[id])
		}
	}
	for _, s := range segs {
		if !s.CalculatedAt.Equal(now) {
			t.Errorf("calculated_at = %v, want %v", s.CalculatedAt, now)
		}
		if s.RfmScore != nil && *s.RfmScore != *s.RfmRecency+*s.RfmFrequency+*s.RfmMonetary {
			t.Errorf("rfm_score %d", *s.RfmScore)
		}
	}

	wantCounts := map[models.SegmentCode]int{models.SegmentChampions: 1, models.SegmentLoyal: 2,
		models.SegmentPotentialLoyalist: 2, models.SegmentNew: 2, models.SegmentAtRisk: 1, models.SegmentLost: 4}
	if res.Scored != 12 || res.Removed != 2 || len(res.BySegment) != 6 || !res.CalculatedAt.Equal(now) {
		t.Errorf("result = %+v", res)
	}
	for code, n := range wantCounts {
		if res.BySegment[code] != n {
			t.Errorf("%s: %d customers, want %d", code, res.BySegment[code], n)
		}
	}

	otherRows, otherSegs := rows(t, owner, other.org)
	if len(otherRows) != 1 || otherRows[otherCustomer].Code != models.SegmentChampions || otherSegs[0].CalculatedAt.Year() != 2020 {
		t.Errorf("another organization's rows changed: %v", otherRows)
	}

	// Again, later: nothing left to remove, the same figures.
	again := recalculate(t, app, h.org, now)
	if again.Scored != 12 || again.Removed != 0 {
		t.Errorf("second run = %+v", again)
	}
	if got2, _ := rows(t, owner, h.org); len(got2) != len(got) {
		t.Errorf("second run: %d rows, want %d", len(got2), len(got))
	}
}

// §6: the window comes from the organization's program (here 30 days), bounds inclusive.
func TestRecalculate_UsesTheProgramLookback(t *testing.T) {
	t.Parallel()
	app, owner := pools(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHistory(t, owner, now)
	h.exec(`INSERT INTO loyalty_programs (organization_id, segment_lookback_days) VALUES (?, 30)`, h.org)
	inside, edge, outside := h.customer(400*day), h.customer(400*day), h.customer(400*day)
	h.purchase(inside, 10*day, "10", "0")
	h.purchase(edge, 30*day, "10", "0") // exactly now − 30 days: inside
	h.purchase(outside, 30*day+time.Second, "10", "0")
	recalculate(t, app, h.org, now)
	got, _ := rows(t, owner, h.org)
	// Two scored customers: score = 1 + floor(5 × (rank − 1) / 2); the later purchase ranks 2
	// (R 3: one purchase ever but not R ≥ 4, so the catch-all), equal F and M tie at 1.
	if g := got[inside]; g.Code != models.SegmentPotentialLoyalist || *g.R != 3 || *g.F != 1 || *g.M != 1 {
		t.Errorf("inside: %v", g)
	}
	if g := got[edge]; g.R == nil || *g.R != 1 || *g.DaysSince != 30 {
		t.Errorf("edge: %v", g)
	}
	if g := got[outside]; g.Code != models.SegmentLost || g.R != nil || *g.DaysSince != 30 {
		t.Errorf("outside: %v", g)
	}
}

// 40 customers ever purchased: 20 × (rank − 1) < 40 holds for ranks 1 and 2, and the two tied
// at rank 2 are both VIP (3 VIPs, 7.5 %: ties share the status). A customer whose purchases
// were all refunded (value 0) is never VIP, even when few customers bought.
func TestRecalculate_VipIsTopFivePercentOfLifetimeValueWithTies(t *testing.T) {
	t.Parallel()
	app, owner := pools(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHistory(t, owner, now)
	top, tieA, tieB := h.customer(400*day), h.customer(400*day), h.customer(400*day)
	h.purchase(top, 50*day, "1000", "0")
	h.purchase(tieA, 50*day, "900", "0")
	h.purchase(tieB, 50*day, "900", "0")
	var rest []uuid.UUID
	for i := 0; i < 37; i++ {
		c := h.customer(400 * day)
		h.purchase(c, 50*day, "10", "0")
		rest = append(rest, c)
	}
	recalculate(t, app, h.org, now)
	got, _ := rows(t, owner, h.org)
	for _, c := range []uuid.UUID{top, tieA, tieB} {
		// all recency scores tie at 1, so none is a champion: VIP by value alone
		if !got[c].VIP || got[c].Code != models.SegmentLost {
			t.Errorf("%v: want VIP by value", got[c])
		}
	}
	for _, c := range rest {
		if got[c].VIP {
			t.Errorf("%v: want not VIP", got[c])
		}
	}

	small := newHistory(t, owner, now)
	refunded, buyer := small.customer(400*day), small.customer(400*day)
	small.purchase(refunded, 500*day, "30", "30")
	small.purchase(buyer, 500*day, "30", "0")
	recalculate(t, app, small.org, now)
	got, _ = rows(t, owner, small.org)
	if got[refunded].VIP || got[refunded].LTV != "0.00" || got[refunded].Orders != 1 || !got[buyer].VIP {
		t.Errorf("refunded %v, buyer %v", got[refunded], got[buyer])
	}
}

// Random histories full of ties against a plain Go statement of §6 written here: rank =
// 1 + the number of customers strictly worse, score = 1 + 5 × (rank − 1) / n.
func TestRecalculate_RandomHistoriesMatchAnIndependentComputation(t *testing.T) {
	t.Parallel()
	app, owner := pools(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHistory(t, owner, now)
	rng := rand.New(rand.NewPCG(5, 6))
	type purchase struct {
		ago            time.Duration
		cents, refunds int64
	}
	type customer struct {
		id        uuid.UUID
		purchases []purchase
	}
	var all []customer
	for i := 0; i < 150; i++ {
		c := customer{id: h.customer(400 * day)}
		for j := rng.IntN(6); j > 0; j-- {
			p := purchase{ago: time.Duration(rng.IntN(420))*day + time.Duration(rng.IntN(3))*time.Hour, cents: int64(1+rng.IntN(4)) * 1000}
			switch rng.IntN(4) {
			case 0:
				p.refunds = p.cents
			case 1:
				p.refunds = p.cents / 2
			}
			c.purchases = append(c.purchases, p)
			h.purchase(c.id, p.ago, decimalCents(p.cents), decimalCents(p.refunds))
		}
		all = append(all, c)
	}
	recalculate(t, app, h.org, now)
	got, _ := rows(t, owner, h.org)

	type figures struct {
		days, freq     int
		monetary, ltv  int64
		orders         int
		inWindow, ever bool
	}
	fig := map[uuid.UUID]*figures{}
	window := 365 * day
	for _, c := range all {
		f := &figures{days: -1}
		for _, p := range c.purchases {
			f.orders++
			f.ever = true
			f.ltv += p.cents - p.refunds
			d := int(p.ago / day)
			if f.days < 0 || d < f.days {
				f.days = d
			}
			if p.ago <= window {
				f.inWindow = true
				f.freq++
				f.monetary += p.cents - p.refunds
			}
		}
		fig[c.id] = f
	}
	score := func(id uuid.UUID, worse func(a, b *figures) bool) int {
		n, rank := 0, 1
		for _, o := range fig {
			if !o.inWindow {
				continue
			}
			n++
			if worse(o, fig[id]) {
				rank++
			}
		}
		return 1 + 5*(rank-1)/n
	}
	ever := 0
	for _, f := range fig {
		if f.ever {
			ever++
		}
	}
	for _, c := range all {
		f, g := fig[c.id], got[c.id]
		if !f.ever {
			if _, ok := got[c.id]; ok {
				t.Errorf("never purchased, created long ago: want no row, got %v", g)
			}
			continue
		}
		higher := 0
		for _, o := range fig {
			if o.ever && o.ltv > f.ltv {
				higher++
			}
		}
		w := row{Code: models.SegmentLost, LTV: decimalCents(f.ltv), Orders: f.orders, DaysSince: ip(f.days),
			VIP: f.ltv > 0 && 20*higher < ever}
		w.AOV = dec(w.LTV).Div(decimal.NewFromInt(int64(f.orders))).StringFixed(2)
		if f.inWindow {
			r := score(c.id, func(a, b *figures) bool { return a.days > b.days })
			fq := score(c.id, func(a, b *figures) bool { return a.freq < b.freq })
			m := score(c.id, func(a, b *figures) bool { return a.monetary < b.monetary })
			w.R, w.F, w.M = ip(r), ip(fq), ip(m)
			w.Code = Code(r, fq, m, f.orders)
			w.VIP = w.VIP || w.Code == models.SegmentChampions
			w.AtRisk = w.Code == models.SegmentAtRisk
		}
		if g.String() != w.String() {
			t.Errorf("customer %s:\n got %v\nwant %v", c.id, g, w)
		}
	}
}

func decimalCents(c int64) string { return decimal.New(c, -2).StringFixed(2) }

// Two recalculations of one organization at once both succeed, the second waits for the
// first (the advisory lock), and the table ends exactly as one recalculation leaves it.
func TestRecalculate_ConcurrentRunsOfOneOrganizationSerialize(t *testing.T) {
	t.Parallel()
	app, owner := pools(t)
	now := time.Now().UTC().Truncate(time.Second)
	h := newHistory(t, owner, now)
	for i := 0; i < 200; i++ {
		c := h.customer(time.Duration(i) * day)
		for j := 0; j < i%7; j++ {
			h.purchase(c, time.Duration((i*37+j*53)%500)*day, strconv.Itoa(10+i%13), "0")
		}
	}
	ctx := context.Background()

	// Hold the first recalculation's transaction open and watch the second one wait.
	firstDone, release := make(chan error, 1), make(chan struct{})
	started := make(chan struct{})
	go func() {
		firstDone <- db.InOrg(ctx, app, h.org, false, func(ctx context.Context, tx bun.Tx) error {
			if _, err := Recalculate(ctx, tx, h.org, now); err != nil {
				return err
			}
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	secondDone := make(chan error, 1)
	go func() {
		secondDone <- db.InOrg(ctx, app, h.org, false, func(ctx context.Context, tx bun.Tx) error {
			_, err := Recalculate(ctx, tx, h.org, now.Add(time.Hour))
			return err
		})
	}()
	waiting := false
	for deadline := time.Now().Add(10 * time.Second); !waiting && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := owner.NewRaw(`SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)`).Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
	}
	if !waiting {
		t.Error("the second recalculation did not wait for the first")
	}
	close(release)
	if err := errors.Join(<-firstDone, <-secondDone); err != nil {
		t.Fatal(err)
	}
	afterBoth, _ := rows(t, owner, h.org)

	// Now many at once, with the same now: the result equals a lone run's.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.InOrg(ctx, app, h.org, false, func(ctx context.Context, tx bun.Tx) error {
				_, err := Recalculate(ctx, tx, h.org, now.Add(time.Hour))
				return err
			})
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	afterMany, segs := rows(t, owner, h.org)
	if len(afterBoth) == 0 || len(afterMany) != len(afterBoth) {
		t.Fatalf("%d rows after two runs, %d after four", len(afterBoth), len(afterMany))
	}
	for id, r := range afterBoth {
		if afterMany[id].String() != r.String() {
			t.Errorf("%s: %v then %v", id, r, afterMany[id])
		}
	}
	for _, s := range segs {
		if !s.CalculatedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("calculated_at %v: the earlier run finished last", s.CalculatedAt)
		}
	}
	var dup int
	if err := owner.NewRaw(`SELECT count(*) - count(DISTINCT customer_id) FROM customer_segments WHERE organization_id = ?`, h.org).Scan(ctx, &dup); err != nil || dup != 0 {
		t.Fatalf("duplicates %d, %v", dup, err)
	}
}

// RecalculateAll visits every organization and reports progress from 0 to the total.
// Not parallel: it recalculates every organization, the other tests' too.
func TestRecalculateAll_VisitsEveryOrganizationWithProgress(t *testing.T) {
	app, owner := pools(t)
	now := time.Now().UTC()
	h := newHistory(t, owner, now)
	c := h.customer(day)
	h.purchase(c, day, "10", "0")
	var calls [][2]int
	var mu sync.Mutex
	if err := RecalculateAll(context.Background(), app, func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, [2]int{done, total})
	}); err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || calls[0][0] != 0 || calls[len(calls)-1][0] != calls[len(calls)-1][1] {
		t.Fatalf("progress calls %v", calls)
	}
	if !sort.SliceIsSorted(calls, func(i, j int) bool { return calls[i][0] < calls[j][0] }) {
		t.Fatalf("progress goes back: %v", calls)
	}
	got, _ := rows(t, owner, h.org)
	// The only scored customer ranks 1 of 1 on everything: R1 F1 M1, lost; VIP (top value).
	if g := got[c]; g.Code != models.SegmentLost || *g.R != 1 || !g.VIP {
		t.Fatalf("row %v", g)
	}
}
