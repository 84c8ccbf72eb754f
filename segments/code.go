package segments

import "customerservice/models"

// segmentRules is the ordered rule list of §6 for a customer with purchases in the window,
// as the SQL CASE the recalculation runs (the first match wins). It reads the columns
// rfm_recency, rfm_frequency, rfm_monetary (scores 1–5) and total_orders (all-time
// purchases, see Code). The last branch is the catch-all: every one of the 125 (R, F, M)
// combinations gets a segment. TestSegmentRules_SQLAgreesWithCode runs this very text over
// all of them and compares it with Code.
const segmentRules = `CASE
    WHEN rfm_recency >= 4 AND rfm_frequency >= 4 AND rfm_monetary >= 4 THEN 'champions'
    WHEN rfm_frequency >= 4 AND rfm_recency >= 3 THEN 'loyal'
    WHEN total_orders = 1 AND rfm_recency >= 4 THEN 'new'
    WHEN rfm_recency >= 4 THEN 'potential_loyalist'
    WHEN rfm_recency <= 2 AND rfm_frequency >= 3 THEN 'at_risk'
    WHEN rfm_recency <= 2 THEN 'lost'
    ELSE 'potential_loyalist'
  END`

// Code is the segment of §6 for the scores r, f, m (1–5) of a customer with purchases in the
// window, whose all-time purchase count is totalPurchases. It is the Go statement of
// segmentRules, kept only so a test can prove the SQL follows the list (the recalculation
// itself runs in SQL).
//
// "total purchases = 1" in rule 3 is the all-time count (total_orders): `new` is a
// first-time buyer, not an old customer who came back once within the window.
func Code(r, f, m, totalPurchases int) models.SegmentCode {
	switch {
	case r >= 4 && f >= 4 && m >= 4: // 1
		return models.SegmentChampions
	case f >= 4 && r >= 3: // 2
		return models.SegmentLoyal
	case totalPurchases == 1 && r >= 4: // 3: before potential_loyalist, or it is unreachable
		return models.SegmentNew
	case r >= 4: // 4
		return models.SegmentPotentialLoyalist
	case r <= 2 && f >= 3: // 5
		return models.SegmentAtRisk
	case r <= 2: // 6
		return models.SegmentLost
	default: // 7: R = 3
		return models.SegmentPotentialLoyalist
	}
}
