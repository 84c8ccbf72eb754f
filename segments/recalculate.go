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
//	            in the last 90 days (new); money also in cents, to rank on integers; whether
//	            they have a row already (read before anything is written)
//	population  n: how many have a purchase in the window; and how many ever purchased
//	thresholds  where each score starts (scoreStarts): a score of §6, 1 + floor(5 × (rank − 1)
//	            / n) with RANK() worst first, is at least s exactly when at least
//	            ceil((s − 1) × n / 5) customers rank worse, that is when the value is better
//	            than the one at that position of the worst-first order; likewise the top 5 %
//	            of lifetime value starts at the ceil(P / 20)-th largest of the P purchasers'
//	scored      R, F, M and the top-5 % flag of each customer, by comparing with them
//	segmented   the ordered rules (segmentRules) and the two no-purchase cases
//	updated     the customers that have a row: one UPDATE … FROM, joined on customer_id
//	inserted    the others (recalculations of one organization are serialized, so no other
//	            writer adds a row meanwhile): one INSERT
//
// Positions rather than RANK() over every row: four sorts of one narrow column instead of
// four sorts of the whole candidate rows, the same scores (equal values still score
// equally). An UPDATE joined to the new rows rather than INSERT … ON CONFLICT DO UPDATE: the
// nightly run rewrites every row (days since the last purchase move), and the conflict
// check of each row cost a third of the statement on a million customers (BENCHMARKS.md).
//
// It returns the rows it computed, by segment: each is written, but for a customer erased
// meanwhile (the UPDATE finds its row gone). The rows of customers that no longer qualify
// are the ones it did not write: removeStaleSQL deletes them next.
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
         sum(p.amount) - sum(p.refunded_amount)   AS lifetime_value,
         max(p.occurred_at)                       AS last_purchase_at,
         count(*) FILTER (WHERE p.occurred_at >= (SELECT window_start FROM settings)) AS frequency,
         sum(p.amount) FILTER (WHERE p.occurred_at >= (SELECT window_start FROM settings))
           - sum(p.refunded_amount) FILTER (WHERE p.occurred_at >= (SELECT window_start FROM settings)) AS monetary
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
         (h.lifetime_value * 100)::bigint AS value_cents,
         cs.customer_id IS NOT NULL       AS has_row
  FROM customers c
  LEFT JOIN history h ON h.customer_id = c.customer_id
  LEFT JOIN customer_segments cs ON cs.organization_id = c.organization_id AND cs.customer_id = c.customer_id
  WHERE c.organization_id = ?0 AND c.erased_at IS NULL AND c.merged_into IS NULL
    AND (h.customer_id IS NOT NULL OR c.created_at >= (SELECT new_since FROM settings))
),
population AS MATERIALIZED (
  SELECT count(*) FILTER (WHERE frequency > 0)    AS in_window,
         count(*) FILTER (WHERE total_orders > 0) AS purchasers
  FROM candidates
),
thresholds AS MATERIALIZED (
  SELECT * FROM
    ` + scoreStarts("r", "days_since DESC") + `,
    ` + scoreStarts("f", "frequency") + `,
    ` + scoreStarts("m", "monetary_cents") + `,
    (SELECT max(x.v) FILTER (WHERE x.rn = (p.purchasers + 19) / 20) AS top
       FROM (SELECT value_cents AS v, row_number() OVER (ORDER BY value_cents DESC) AS rn
             FROM candidates WHERE total_orders > 0) AS x, population AS p) AS top
),
scored AS (
  SELECT c.customer_id, c.has_row, c.total_orders, c.lifetime_value, c.days_since,
         CASE WHEN c.frequency > 0 THEN 1 + (c.days_since < t.r2)::int + (c.days_since < t.r3)::int
                                        + (c.days_since < t.r4)::int + (c.days_since < t.r5)::int END AS rfm_recency,
         CASE WHEN c.frequency > 0 THEN 1 + (c.frequency > t.f2)::int + (c.frequency > t.f3)::int
                                        + (c.frequency > t.f4)::int + (c.frequency > t.f5)::int END AS rfm_frequency,
         CASE WHEN c.frequency > 0 THEN 1 + (c.monetary_cents > t.m2)::int + (c.monetary_cents > t.m3)::int
                                        + (c.monetary_cents > t.m4)::int + (c.monetary_cents > t.m5)::int END AS rfm_monetary,
         COALESCE(c.value_cents > 0 AND c.value_cents >= t.top, false) AS top_value
  FROM candidates AS c, thresholds AS t
),
segmented AS (
  SELECT s.customer_id, s.has_row, s.rfm_recency, s.rfm_frequency, s.rfm_monetary,
         COALESCE(s.lifetime_value, 0) AS lifetime_value,
         COALESCE(round(s.lifetime_value / s.total_orders, 2), 0) AS average_order_value,
         COALESCE(s.total_orders, 0) AS total_orders, s.days_since, s.top_value,
         CASE WHEN s.rfm_recency IS NULL THEN CASE WHEN s.total_orders > 0 THEN 'lost' ELSE 'new' END
              ELSE ` + segmentRules + `
         END AS segment_code
  FROM scored s
),
updated AS (
  UPDATE customer_segments AS cs SET
    segment_code = s.segment_code,
    rfm_recency = s.rfm_recency,
    rfm_frequency = s.rfm_frequency,
    rfm_monetary = s.rfm_monetary,
    lifetime_value = s.lifetime_value,
    average_order_value = s.average_order_value,
    total_orders = s.total_orders,
    days_since_last_purchase = s.days_since,
    is_vip = s.segment_code = 'champions' OR s.top_value,
    is_at_risk = s.segment_code = 'at_risk',
    calculated_at = ?1::timestamptz
  FROM segmented AS s
  WHERE cs.organization_id = ?0 AND s.has_row AND cs.customer_id = s.customer_id
),
inserted AS (
  INSERT INTO customer_segments (organization_id, customer_id, segment_code,
    rfm_recency, rfm_frequency, rfm_monetary, lifetime_value, average_order_value, total_orders,
    days_since_last_purchase, is_vip, is_at_risk, calculated_at)
  SELECT ?0, s.customer_id, s.segment_code, s.rfm_recency, s.rfm_frequency, s.rfm_monetary,
         s.lifetime_value, s.average_order_value, s.total_orders, s.days_since,
         s.segment_code = 'champions' OR s.top_value, s.segment_code = 'at_risk', ?1::timestamptz
  FROM segmented AS s
  WHERE NOT s.has_row
  RETURNING 1 -- unused: on Citus an INSERT … SELECT without RETURNING goes through COPY, which RLS refuses
)
SELECT ` + countsBySegment() + ` FROM segmented`

// scoreStarts is the thresholds subquery of one score (alias name): the values at positions
// ceil((s − 1) × n / 5), s = 2…5, of the customers with a purchase in the window in the
// order given (worst first), as columns name2…name5 (n: population.in_window).
func scoreStarts(name, order string) string {
	col, _, _ := strings.Cut(order, " ")
	cols := make([]string, 0, 4)
	for s := 2; s <= 5; s++ {
		cols = append(cols, fmt.Sprintf("max(x.v) FILTER (WHERE x.rn = (%d * p.in_window + 4) / 5) AS %s%d", s-1, name, s))
	}
	return fmt.Sprintf(`(SELECT %s
       FROM (SELECT %s AS v, row_number() OVER (ORDER BY %s) AS rn FROM candidates WHERE frequency > 0) AS x,
            population AS p) AS %s`, strings.Join(cols, ", "), col, order, name)
}

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
