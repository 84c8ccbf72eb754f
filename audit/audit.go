// Package audit writes the audit_log row every mutation leaves (specification §8): organization,
// actor, action, entity, id, changed field names and time. Values of personal fields are
// never recorded; non-personal values (a credit limit's old and new value) go in Details.
package audit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/models"
	"customerservice/timeline"
)

// Entry is what one mutation did.
type Entry struct {
	Action        string    // e.g. "customer.create"
	EntityType    string    // e.g. "customer"
	EntityID      uuid.UUID // uuid.Nil when there is none
	ChangedFields []string  // column names
	Details       map[string]any
}

// Record writes the entry in the mutation's own transaction, so it commits or rolls back
// with the change it describes.
func Record(ctx context.Context, tx bun.Tx, p auth.Principal, e Entry) error {
	row := &models.AuditEntry{
		OrganizationID: p.OrganizationID,
		ActorID:        p.UserID,
		Action:         e.Action,
		EntityType:     e.EntityType,
		ChangedFields:  e.ChangedFields,
		Details:        e.Details,
	}
	if row.ChangedFields == nil {
		row.ChangedFields = []string{}
	}
	if row.Details == nil {
		row.Details = map[string]any{}
	}
	if e.EntityID != uuid.Nil {
		id := e.EntityID
		row.EntityID = &id
	}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	timeline.PublishAudit(ctx, e.Action, e.EntityType, row.ID)
	return nil
}
