package graph

import (
	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/models"
)

// The GraphQL side of the customer list and stats: arguments to the domain's parameters,
// the stats to their breakdowns.

// customerListParams turns the arguments of `customers` into a list request; count: the
// selection asks for totalCount.
func customerListParams(first *int, after *string, last *int, before *string,
	filter *model.CustomerFilter, search *string, orderBy *model.CustomerOrder, count bool) customers.ListParams {
	p := customers.ListParams{
		First: first, After: after, Last: last, Before: before,
		Filter: customerFilter(filter, search),
		Order:  customers.DefaultOrder,
		Count:  count,
	}
	if orderBy != nil {
		p.Order = customers.Order{Field: customerOrderFields[orderBy.Field], Desc: orderBy.Direction == model.OrderDirectionDesc}
	}
	return p
}

var customerOrderFields = map[model.CustomerOrderField]customers.OrderField{
	model.CustomerOrderFieldCreatedAt:      customers.OrderCreatedAt,
	model.CustomerOrderFieldLastPurchaseAt: customers.OrderLastPurchaseAt,
	model.CustomerOrderFieldLastName:       customers.OrderLastName,
	model.CustomerOrderFieldPointsBalance:  customers.OrderPointsBalance,
	model.CustomerOrderFieldLifetimeValue:  customers.OrderLifetimeValue,
}

// customerFilter is the domain's filter of a CustomerFilter and a search.
func customerFilter(f *model.CustomerFilter, search *string) customers.Filter {
	var out customers.Filter
	if search != nil {
		out.Search = *search
	}
	if f == nil {
		return out
	}
	out.Statuses = f.Status.Value()
	out.Types = f.CustomerType.Value()
	out.Tiers = f.Tier.Value()
	out.Segments = f.Segment.Value()
	out.IsVip = f.IsVip.Value()
	out.IsAtRisk = f.IsAtRisk.Value()
	out.HasCreditAccount = f.HasCreditAccount.Value()
	if tags := f.Tags.Value(); tags != nil {
		out.TagsAny = tags.Any.Value()
		out.TagsAll = tags.All.Value()
	}
	out.CreatedAt = timeRange(f.CreatedAt.Value())
	out.LastPurchaseAt = timeRange(f.LastPurchaseAt.Value())
	out.Consent = f.Consent.Value()
	return out
}

func timeRange(r *model.DateTimeRange) customers.TimeRange {
	if r == nil {
		return customers.TimeRange{}
	}
	return customers.TimeRange{From: r.From.Value(), To: r.To.Value()}
}

// The breakdowns of customerStats list every value of their enum in schema order, with
// zero counts, then the null group (not enrolled, no segment): a dashboard gets the same
// shape whatever the filter.
var (
	statsStatuses = []models.CustomerStatus{models.CustomerStatusActive, models.CustomerStatusInactive, models.CustomerStatusBlocked}
	statsTypes    = []models.CustomerType{models.CustomerTypeB2C, models.CustomerTypeB2B}
	statsTiers    = []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum}
	statsSegments = []models.SegmentCode{models.SegmentChampions, models.SegmentLoyal, models.SegmentPotentialLoyalist,
		models.SegmentNew, models.SegmentAtRisk, models.SegmentLost}
)

func customerStats(st *customers.Stats) *model.CustomerStats {
	out := &model.CustomerStats{Total: st.Total}
	for _, v := range statsStatuses {
		out.ByStatus = append(out.ByStatus, model.StatusCount{Status: v, Count: st.ByStatus[v]})
	}
	for _, v := range statsTypes {
		out.ByType = append(out.ByType, model.CustomerTypeCount{CustomerType: v, Count: st.ByType[v]})
	}
	for _, v := range statsTiers {
		out.ByTier = append(out.ByTier, model.TierCount{Tier: &v, Count: st.ByTier[v]})
	}
	out.ByTier = append(out.ByTier, model.TierCount{Count: st.ByTier[""]})
	for _, v := range statsSegments {
		out.BySegment = append(out.BySegment, model.SegmentCount{Segment: &v, Count: st.BySegment[v]})
	}
	out.BySegment = append(out.BySegment, model.SegmentCount{Count: st.BySegment[""]})
	return out
}
