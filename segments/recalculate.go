package segments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/models"
)

// DefaultLookbackDays is the window of §6 when the organization has no loyalty program row.
const DefaultLookbackDays = 365

// NewCustomerDays: a customer without purchases is `new` when created this recently (§6).
const NewCustomerDays = 90

// Result is what one recalculation of an organization left in customer_segments.
type Result struct {
	Scored       int                        // customers with a segment row now
	BySegment    map[models.SegmentCode]int // of those, how many in each segment
	Removed      int                        // rows deleted: customers that no longer qualify
	CalculatedAt time.Time                  // the "now" every figure is measured from
}

// Codes are the segments in the order the API lists them.
var Codes = []models.SegmentCode{
	models.SegmentChampions, models.SegmentLoyal, models.SegmentPotentialLoyalist,
	models.SegmentNew, models.SegmentAtRisk, models.SegmentLost,
}

// recalculateSQL is the recalculation of §6 for one organization, as one statement: ?0 is the
// organization, ?1 the instant everything is measured from. Read it top down:
//
//	settings    the window [now − lookback days, now] (lookback from loyalty_programs, else 365)
//	history     one pass over the organization's purchases up to now, in customer order (the
//	            covering index purchases_rfm_idx), per customer: all-time count, net value and
//	            last purchase, and the count and net value in the window
//	candidates  the customers that get a row: a purchase ever (then lost or scored) or created
//	            in the last 90 days (new); money also in cents, to rank on integers
//	population  n: how many have a purchase in the window; and how many ever purchased
//	scored      R, F, M = 1 + floor(5 × (rank − 1) / n), RANK() worst first among the customers
//	            with a purchase in the window (equal values score equally), and the top-5 %
//	            lifetime-value flag
//	segmented   the ordered rules (segmentRules) and the two no-purchase cases
//	upserted    one INSERT … ON CONFLICT (customer_id) DO UPDATE, in customer order (index
//	            locality)
//
// It returns the rows it wrote, by segment. The rows of customers that no longer qualify are
// the ones it did not write: removeStaleSQL deletes them next.
//
// Days are elapsed 24-hour periods (floor), so the result does not depend on the session's
// time zone; the window bounds are inclusive. Money is numeric throughout (cents only as sort
// keys).
var recalculateSQL = `
WITH settings AS MATERIALIZED (
  SELECT ?1::timestamptz - COALESCE(
           (SELECT lp.segment_lookback_days FROM loyalty_programs lp WHERE lp.organization_id = ?0),
           ` + fmt.Sprint(DefaultLookbackDays) + `) * interval '24 hours' AS window_start,
         ?1::timestamptz - ` + fmt.Sprint(NewCustomerDays) + ` * interval '24 hours' AS new_since
),
history AS (
  SELECT p.customer_id,
         count(*)                                 AS total_orders,
         sum(p.amount - p.refunded_amount)        AS lifetime_value,
         max(p.occurred_at)                       AS last_purchase_at,
         count(*) FILTER (WHERE p.occurred_at >= (SELECT window_start FROM settings)) AS frequency,
         sum(p.amount - p.refunded_amount)
           FILTER (WHERE p.occurred_at >= (SELECT window_start FROM settings))        AS monetary
  FROM (SELECT customer_id, occurred_at, amount, refunded_amount
        FROM purchases
        WHERE organization_id = ?0 AND occurred_at <= ?1::timestamptz
        ORDER BY customer_id) p -- streamed in customer order: no hash table of every customer
  GROUP BY p.customer_id
),
candidates AS MATERIALIZED (
  SELECT c.customer_id, h.total_orders, h.lifetime_value, h.frequency,
         floor(date_part('epoch', ?1::timestamptz - h.last_purchase_at) / 86400)::integer AS days_since,
         (h.monetary * 100)::bigint       AS monetary_cents,
         (h.lifetime_value * 100)::bigint AS value_cents
  FROM customers c
  LEFT JOIN history h ON h.customer_id = c.customer_id
  WHERE c.organization_id = ?0 AND c.erased_at IS NULL
    AND (h.customer_id IS NOT NULL OR c.created_at >= (SELECT new_since FROM settings))
),
population AS (
  SELECT count(*) FILTER (WHERE frequency > 0)    AS in_window,
         count(*) FILTER (WHERE total_orders > 0) AS purchasers
  FROM candidates
),
scored AS (
  SELECT customer_id, total_orders, lifetime_value, days_since,
         CASE WHEN frequency > 0 THEN 1 + 5 * (rank() OVER (PARTITION BY frequency > 0 ORDER BY days_since DESC) - 1)
                                        / (SELECT in_window FROM population) END AS rfm_recency,
         CASE WHEN frequency > 0 THEN 1 + 5 * (rank() OVER (PARTITION BY frequency > 0 ORDER BY frequency) - 1)
                                        / (SELECT in_window FROM population) END AS rfm_frequency,
         CASE WHEN frequency > 0 THEN 1 + 5 * (rank() OVER (PARTITION BY frequency > 0 ORDER BY monetary_cents) - 1)
                                        / (SELECT in_window FROM population) END AS rfm_monetary,
         -- top 5 %: fewer than 5 % of the customers who ever purchased have a higher value
         COALESCE(value_cents > 0
                  AND 20 * (rank() OVER (PARTITION BY total_orders > 0 ORDER BY value_cents DESC) - 1)
                      < (SELECT purchasers FROM population), false) AS top_value
  FROM candidates
),
segmented AS (
  SELECT s.*,
         CASE WHEN rfm_recency IS NULL THEN CASE WHEN total_orders > 0 THEN 'lost' ELSE 'new' END
              ELSE ` + segmentRules + `
         END AS segment_code
  FROM scored s
),
upserted AS (
  INSERT INTO customer_segments AS cs (organization_id, customer_id, segment_code,
    rfm_recency, rfm_frequency, rfm_monetary, lifetime_value, average_order_value, total_orders,
    days_since_last_purchase, is_vip, is_at_risk, calculated_at)
  SELECT ?0, customer_id, segment_code,
         rfm_recency, rfm_frequency, rfm_monetary,
         COALESCE(lifetime_value, 0), COALESCE(round(lifetime_value / total_orders, 2), 0), COALESCE(total_orders, 0),
         days_since, segment_code = 'champions' OR top_value, segment_code = 'at_risk', ?1::timestamptz
  FROM segmented
  ORDER BY customer_id
  ON CONFLICT (customer_id) DO UPDATE SET
    segment_code = EXCLUDED.segment_code,
    rfm_recency = EXCLUDED.rfm_recency,
    rfm_frequency = EXCLUDED.rfm_frequency,
    rfm_monetary = EXCLUDED.rfm_monetary,
    lifetime_value = EXCLUDED.lifetime_value,
    average_order_value = EXCLUDED.average_order_value,
    total_orders = EXCLUDED.total_orders,
    days_since_last_purchase = EXCLUDED.days_since_last_purchase,
    is_vip = EXCLUDED.is_vip,
    is_at_risk = EXCLUDED.is_at_risk,
    calculated_at = EXCLUDED.calculated_at
  RETURNING cs.segment_code
)
SELECT ` + countsBySegment() + ` FROM upserted`

// removeStaleSQL deletes the organization's rows the recalculation did not write (?1 is its
// instant): customers that no longer qualify for any segment. A second statement rather than
// an anti-join in the first, whose plan would hinge on the statistics of a table the same
// statement rewrites.
const removeStaleSQL = `DELETE FROM customer_segments WHERE organization_id = ?0 AND calculated_at <> ?1::timestamptz`

// countsBySegment is the select list "count(*) FILTER (WHERE segment_code = 'champions') AS
// champions, …" over Codes.
func countsBySegment() string {
	var b strings.Builder
	for i, code := range Codes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "count(*) FILTER (WHERE segment_code = '%s') AS %s", code, code)
	}
	return b.String()
}

// sessionSettings tune the recalculation's transaction (SET LOCAL: they end with it): JIT
// compiling this statement costs seconds and saves less; the sorts of the ranks and the join
// with customers fit in memory for a million customers instead of spilling to disk.
const sessionSettings = `SELECT set_config('jit', 'off', true), set_config('work_mem', '256MB', true)`

// Recalculate recomputes the RFM segment of every customer of org as of now (§6), in tx,
// which must be a transaction of org (db.InOrg). It first takes a transaction-level
// advisory lock on the organization, so two recalculations of one organization run one
// after the other; the second one's statement starts after the first committed and sees its
// rows. Then it runs recalculateSQL: one statement, all the work in PostgreSQL.
func Recalculate(ctx context.Context, tx bun.Tx, org uuid.UUID, now time.Time) (*Result, error) {
	now = now.UTC().Truncate(time.Microsecond) // what PostgreSQL stores
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtext('segments:' || ?))", org.String()).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock the segments of the organization: %w", err)
	}
	if _, err := tx.NewRaw(sessionSettings).Exec(ctx); err != nil {
		return nil, fmt.Errorf("recalculate segments: %w", err)
	}
	counts := map[string]any{}
	if err := tx.NewRaw(recalculateSQL, org, now).Scan(ctx, &counts); err != nil {
		return nil, fmt.Errorf("recalculate segments: %w", err)
	}
	removed, err := tx.NewRaw(removeStaleSQL, org, now).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("remove stale segments: %w", err)
	}
	res := &Result{BySegment: make(map[models.SegmentCode]int, len(Codes)), CalculatedAt: now}
	for _, code := range Codes {
		n, _ := counts[string(code)].(int64)
		res.BySegment[code] = int(n)
		res.Scored += int(n)
	}
	if n, err := removed.RowsAffected(); err == nil {
		res.Removed = int(n)
	}
	return res, nil
}
