package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"customerservice/audit"
	"customerservice/graph/model"
)

// auditFilter is the auditLog filter as package audit reads it.
func auditFilter(f *model.AuditLogFilter) audit.Filter {
	if f == nil {
		return audit.Filter{}
	}
	return audit.Filter{
		EntityType: f.EntityType.Value(), EntityID: f.EntityID.Value(), Actor: f.Actor.Value(),
		Action: f.Action.Value(), From: f.From.Value(), To: f.To.Value(),
	}
}

// auditConnection is the Relay connection of a page of the audit log.
func auditConnection(page *audit.Page) *model.AuditEntryConnection {
	conn := &model.AuditEntryConnection{
		Nodes:      page.Items,
		Edges:      make([]model.AuditEntryEdge, len(page.Items)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
		TotalCount: page.TotalCount,
	}
	if conn.Nodes == nil {
		conn.Nodes = []audit.Item{}
	}
	for i := range page.Items {
		conn.Edges[i] = model.AuditEntryEdge{Cursor: page.Cursors[i], Node: &page.Items[i]}
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn
}

// selectsTotalCount reports whether the connection being resolved asks for totalCount.
func selectsTotalCount(ctx context.Context) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}
