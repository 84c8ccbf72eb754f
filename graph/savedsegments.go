package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/savedsegments"
)

// The GraphQL side of saved segments (§12): inputs to the domain's, the connection, and the
// live filter of customers(filter: {savedSegment}).

// savedSegmentInput is a create or update input as the domain reads it: the filter and the
// search are given (and replaced) together.
func savedSegmentInput(name *string, description graphql.Omittable[*string], filter graphql.Omittable[*model.CustomerFilter],
	search graphql.Omittable[*string]) savedsegments.Input {
	in := savedsegments.Input{Name: name}
	if description.IsSet() {
		d := ""
		if v := description.Value(); v != nil {
			d = *v
		}
		in.Description = &d
	}
	if filter.IsSet() || search.IsSet() {
		f := customerFilter(filter.Value(), search.Value())
		in.Filter = &f
		in.RefersToSegment = filter.Value() != nil && filter.Value().SavedSegment.Value() != nil
	}
	return in
}

// withSavedSegment adds to a live filter the saved segment it names (NOT_FOUND when the
// organization has none of that id).
func (r *Resolver) withSavedSegment(ctx context.Context, f *model.CustomerFilter, live customers.Filter) (customers.Filter, error) {
	if f == nil || f.SavedSegment.Value() == nil {
		return live, nil
	}
	saved, err := r.SavedSegmentService.FilterOf(ctx, *f.SavedSegment.Value(), []string{"filter", "savedSegment"})
	if err != nil {
		return live, err
	}
	live.And = &saved
	return live, nil
}

// savedSegmentConnection is the Relay connection of a page of saved segments.
func savedSegmentConnection(page *savedsegments.Page) *model.SavedSegmentConnection {
	conn := &model.SavedSegmentConnection{
		Nodes:      make([]savedsegments.Segment, len(page.Segments)),
		Edges:      make([]model.SavedSegmentEdge, len(page.Segments)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
		TotalCount: page.TotalCount,
	}
	for i, s := range page.Segments {
		conn.Nodes[i] = *s
		conn.Edges[i] = model.SavedSegmentEdge{Cursor: page.Cursors[i], Node: s}
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn
}
