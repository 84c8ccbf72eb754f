package segments

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/db"
	"customerservice/internal/testkit/testdb"
	"customerservice/models"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const day = 24 * time.Hour

// pools opens the server's pool (non-owner role, under RLS) and the owner's (fixtures).
func pools(t testing.TB) (app, owner *db.Pool) {
	t.Helper()
	ctx := context.Background()
	tdb := testdb.Get(t)
	app, err := db.Open(ctx, tdb.AppURL, db.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	owner, err = db.Open(ctx, tdb.OwnerURL, db.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(); owner.Close() })
	return app, owner
}

// history writes one organization's customers and purchases as the owner.
type history struct {
	t      testing.TB
	owner  *db.Pool
	org    uuid.UUID
	now    time.Time
	orders int
}

func newHistory(t testing.TB, owner *db.Pool, now time.Time) *history {
	return &history{t: t, owner: owner, org: uuid.New(), now: now}
}

func (h *history) exec(query string, args ...any) {
	h.t.Helper()
	if _, err := h.owner.NewRaw(query, args...).Exec(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// customer adds a customer created `created` before now.
func (h *history) customer(created time.Duration) uuid.UUID {
	h.t.Helper()
	id := uuid.New()
	h.exec(`INSERT INTO organizations (id) VALUES (?) ON CONFLICT DO NOTHING`, h.org)
	h.exec(`INSERT INTO customers (customer_id, organization_id, first_name, last_name, created_at) VALUES (?, ?, 'C', ?, ?)`,
		id, h.org, id.String()[:8], h.now.Add(-created))
	return id
}

// purchase records a purchase `ago` before now of amount, of which refunded was refunded.
func (h *history) purchase(customer uuid.UUID, ago time.Duration, amount, refunded string) {
	h.t.Helper()
	h.orders++
	h.exec(`INSERT INTO purchases (organization_id, customer_id, order_id, amount, refunded_amount, occurred_at) VALUES (?, ?, ?, ?::numeric, ?::numeric, ?)`,
		h.org, customer, fmt.Sprintf("o-%d", h.orders), amount, refunded, h.now.Add(-ago))
}

// staleRow gives the customer a segment row as a previous recalculation might have left it.
func (h *history) staleRow(customer uuid.UUID, org uuid.UUID) {
	h.t.Helper()
	h.exec(`INSERT INTO customer_segments (organization_id, customer_id, segment_code, rfm_recency, rfm_frequency, rfm_monetary, is_vip, calculated_at)
		VALUES (?, ?, 'champions', 5, 5, 5, true, '2020-01-01')`, org, customer)
}

func recalculate(t testing.TB, app *db.Pool, org uuid.UUID, now time.Time) *Result {
	t.Helper()
	var res *Result
	err := db.InOrg(context.Background(), app, org, false, func(ctx context.Context, tx bun.Tx) error {
		var err error
		res, err = Recalculate(ctx, tx, org, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// row is what a test expects of one customer_segments row.
type row struct {
	Code        models.SegmentCode
	R, F, M     *int
	LTV, AOV    string
	Orders      int
	DaysSince   *int
	VIP, AtRisk bool
}

func (r row) String() string {
	s := func(p *int) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%s R%s F%s M%s ltv=%s aov=%s orders=%d days=%s vip=%v atRisk=%v",
		r.Code, s(r.R), s(r.F), s(r.M), r.LTV, r.AOV, r.Orders, s(r.DaysSince), r.VIP, r.AtRisk)
}

// rows reads the organization's segment rows as the owner, by customer.
func rows(t testing.TB, owner *db.Pool, org uuid.UUID) (map[uuid.UUID]row, []models.CustomerSegment) {
	t.Helper()
	var segs []models.CustomerSegment
	if err := owner.NewSelect().Model(&segs).Where("organization_id = ?", org).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := make(map[uuid.UUID]row, len(segs))
	for _, s := range segs {
		out[s.CustomerID] = row{
			Code: s.SegmentCode, R: s.RfmRecency, F: s.RfmFrequency, M: s.RfmMonetary,
			LTV: s.LifetimeValue.StringFixed(2), AOV: s.AverageOrderValue.StringFixed(2), Orders: s.TotalOrders,
			DaysSince: s.DaysSinceLastPurchase, VIP: s.IsVip, AtRisk: s.IsAtRisk,
		}
	}
	return out, segs
}

func ip(v int) *int { return &v }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
