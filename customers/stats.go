package customers

import (
	"context"
	"fmt"
	"reflect"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// Stats counts the customers that match a filter, for dashboards (§8). The maps hold only
// the values some customer has; the empty key counts customers not enrolled (ByTier) or
// without a segment (BySegment).
type Stats struct {
	Total     int
	ByStatus  map[models.CustomerStatus]int
	ByType    map[models.CustomerType]int
	ByTier    map[models.Tier]int
	BySegment map[models.SegmentCode]int
}

// statsRow is one group of the GROUPING SETS query; grouping has a bit set for each of
// (status, type, tier, segment) the row is NOT grouped by, so it tells a tier group whose
// tier is NULL (not enrolled) from a row of another grouping set.
type statsRow struct {
	Grouping     int     `bun:"grouping_bits"`
	Status       *string `bun:"status"`
	CustomerType *string `bun:"customer_type"`
	Tier         *string `bun:"tier"`
	Segment      *string `bun:"segment_code"`
	Count        int     `bun:"count"`
}

// The grouping bits of each grouping set (GROUPING(status, type, tier, segment)).
const (
	groupedByStatus  = 0b0111
	groupedByType    = 0b1011
	groupedByTier    = 0b1101
	groupedBySegment = 0b1110
	groupedByNothing = 0b1111
)

// Stats counts the customers matching f, every breakdown in one statement.
func (s *Service) Stats(ctx context.Context, f Filter) (*Stats, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if reflect.ValueOf(f).IsZero() {
		// The whole organization: its counters, when the database keeps them.
		st, err := s.countedStats(ctx, p.OrganizationID)
		if err != nil || st != nil {
			return st, err
		}
	}
	if err := IndexTags(ctx, s.db, p.OrganizationID, &f); err != nil {
		return nil, err
	}
	var args db.Args
	orgCond, orgParam := inOrg(p.OrganizationID, &args)
	sql := `SELECT GROUPING(c.status, c.customer_type, la.tier, s.segment_code),
  c.status, c.customer_type, la.tier, s.segment_code, count(*)
FROM ` + joinsSQL(joinLoyalty|joinSegment) + `
WHERE ` + orgCond + ` AND ` + f.where(orgParam, &args) + `
GROUP BY GROUPING SETS ((c.status), (c.customer_type), (la.tier), (s.segment_code), ())`
	var rows []statsRow
	err = db.ReadInOrg(ctx, s.db, p.OrganizationID, db.Stmt{SQL: sql, Args: args.Values(), Row: func(values [][]byte) error {
		var r statsRow
		_, err := fmt.Sscan(string(values[0]), &r.Grouping)
		if err == nil {
			_, err = fmt.Sscan(string(values[5]), &r.Count)
		}
		r.Status, r.CustomerType, r.Tier, r.Segment = text(values[1]), text(values[2]), text(values[3]), text(values[4])
		rows = append(rows, r)
		return err
	}})
	if err != nil {
		return nil, fmt.Errorf("customer stats: %w", err)
	}
	st := &Stats{
		ByStatus:  map[models.CustomerStatus]int{},
		ByType:    map[models.CustomerType]int{},
		ByTier:    map[models.Tier]int{},
		BySegment: map[models.SegmentCode]int{},
	}
	for _, r := range rows {
		switch r.Grouping {
		case groupedByNothing:
			st.Total = r.Count
		case groupedByStatus:
			st.ByStatus[models.CustomerStatus(deref(r.Status))] = r.Count
		case groupedByType:
			st.ByType[models.CustomerType(deref(r.CustomerType))] = r.Count
		case groupedByTier:
			st.ByTier[models.Tier(deref(r.Tier))] = r.Count
		case groupedBySegment:
			st.BySegment[models.SegmentCode(deref(r.Segment))] = r.Count
		}
	}
	return st, nil
}

// countedStats are the organization's figures from its counters (customer_counts, kept by
// triggers in the writing transactions: migration 20261226000002), or nil when it has none
// (on Citus, where `citus distribute` drops the triggers, and for an organization without a
// customer yet) or has merged customers. A dozen rows summed over their shards, whatever the organization's size.
func (s *Service) countedStats(ctx context.Context, org uuid.UUID) (*Stats, error) {
	counts := map[string]map[string]int{}
	err := db.ReadInOrg(ctx, s.db, org, db.Stmt{
		SQL:     `SELECT dimension, value, sum(n)::text FROM customer_counts WHERE organization_id = $1::uuid GROUP BY dimension, value`,
		Args:    []any{org.String()},
		Prepare: true,
		Row: func(values [][]byte) error {
			var n int
			if _, err := fmt.Sscan(string(values[2]), &n); err != nil {
				return err
			}
			dim := string(values[0])
			if counts[dim] == nil {
				counts[dim] = map[string]int{}
			}
			counts[dim][string(values[1])] = n
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("customer stats: %w", err)
	}
	if len(counts) == 0 || counts["status"][string(models.CustomerStatusMerged)] > 0 {
		// No counters, or merged customers (§10): those are in no stats, but their loyalty
		// accounts keep their tiers and the counters do not know whose they are. Counted.
		return nil, nil
	}
	st := &Stats{
		ByStatus:  map[models.CustomerStatus]int{},
		ByType:    map[models.CustomerType]int{},
		ByTier:    map[models.Tier]int{},
		BySegment: map[models.SegmentCode]int{},
	}
	// The maps hold only the values some customer has, as the count's groups do.
	for v, n := range counts["status"] {
		st.Total += n
		if n != 0 {
			st.ByStatus[models.CustomerStatus(v)] = n
		}
	}
	for v, n := range counts["type"] {
		if n != 0 {
			st.ByType[models.CustomerType(v)] = n
		}
	}
	// Customers without a loyalty account (or a segment) are the rest of the total.
	enrolled, segmented := 0, 0
	for v, n := range counts["tier"] {
		enrolled += n
		if n != 0 {
			st.ByTier[models.Tier(v)] = n
		}
	}
	for v, n := range counts["segment"] {
		segmented += n
		if n != 0 {
			st.BySegment[models.SegmentCode(v)] = n
		}
	}
	if st.Total > enrolled {
		st.ByTier[""] = st.Total - enrolled
	}
	if st.Total > segmented {
		st.BySegment[""] = st.Total - segmented
	}
	return st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func text(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
