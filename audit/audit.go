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
	"customerservice/db"
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
// with the change it describes. The row is queued (db.Later) and sent with the transaction's
// other trailing writes just before it commits, in one round trip — unless the timeline
// publishes its id (timeline.IsAuditEvent), which only its INSERT … RETURNING tells: that row
// is inserted at once. Nothing in a write reads the audit log after recording in it.
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
	q := tx.NewInsert().Model(row)
	if !timeline.IsAuditEvent(e.Action, e.EntityType) {
		if err := db.Later(ctx, tx, q.ExcludeColumn("audit_id", "created_at").Returning("NULL")); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
		return nil
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	timeline.PublishAudit(ctx, e.Action, e.EntityType, row.ID)
	return nil
}

// RecordAll writes the entries of one set-based change (a job's) in one multi-row INSERT in
// the change's transaction. Its rows come from the change's RETURNING, read in Go: on Citus
// an INSERT … SELECT from a modifying CTE runs as a COPY, which row-level security refuses.
func RecordAll(ctx context.Context, tx bun.Tx, p auth.Principal, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]models.AuditEntry, len(entries))
	for i, e := range entries {
		rows[i] = models.AuditEntry{OrganizationID: p.OrganizationID, ActorID: p.UserID, Action: e.Action,
			EntityType: e.EntityType, ChangedFields: e.ChangedFields, Details: e.Details}
		if rows[i].ChangedFields == nil {
			rows[i].ChangedFields = []string{}
		}
		if rows[i].Details == nil {
			rows[i].Details = map[string]any{}
		}
		if e.EntityID != uuid.Nil {
			id := e.EntityID
			rows[i].EntityID = &id
		}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", entries[0].Action, err)
	}
	for _, r := range rows {
		timeline.PublishAudit(ctx, r.Action, r.EntityType, r.ID)
	}
	return nil
}
