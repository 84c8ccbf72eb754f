package graph

import (
	"encoding/json"

	"customerservice/graph/model"
	"customerservice/models"
	"customerservice/privacy"
)

// privacyConnection is a page of the privacy requests log as its connection.
func privacyConnection(page *privacy.Page) *model.PrivacyRequestConnection {
	conn := &model.PrivacyRequestConnection{
		Nodes:      page.Requests,
		Edges:      make([]model.PrivacyRequestEdge, len(page.Requests)),
		PageInfo:   &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
		TotalCount: page.TotalCount,
	}
	for i := range page.Requests {
		conn.Edges[i] = model.PrivacyRequestEdge{Cursor: page.Cursors[i], Node: &page.Requests[i]}
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn
}

// privacySettings is the organization's settings as the API shows them (updatedAt null
// while they are the defaults, never stored).
func privacySettings(st *models.PrivacySettings) *model.PrivacySettings {
	if st == nil {
		return nil
	}
	out := &model.PrivacySettings{ResponseDays: st.ResponseDays}
	if !st.UpdatedAt.IsZero() {
		at := st.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

// exportDocument is the export as the JSON scalar's object: each top-level member kept as
// the text PostgreSQL wrote (exact numbers, members in the document's order), only the
// top level is re-ordered by the scalar (by name).
func exportDocument(doc json.RawMessage) (map[string]any, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(doc, &members); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(members))
	for k, v := range members {
		out[k] = v
	}
	return out, nil
}
