package graph

import (
	"customerservice/graph/model"
	"customerservice/segments"
)

// recalculateSegmentsPayload lists every segment, in the API's order, with its count (zeros
// included, so dashboards get a stable shape).
func recalculateSegmentsPayload(res *segments.Result) *model.RecalculateSegmentsPayload {
	out := &model.RecalculateSegmentsPayload{
		Scored:       res.Scored,
		BySegment:    make([]model.SegmentCount, 0, len(segments.Codes)),
		CalculatedAt: res.CalculatedAt,
		UserErrors:   []model.UserError{},
	}
	for _, code := range segments.Codes {
		out.BySegment = append(out.BySegment, model.SegmentCount{Segment: &code, Count: res.BySegment[code]})
	}
	return out
}
