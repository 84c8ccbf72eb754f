package audit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
	"customerservice/paging"
)

// The read side of the trail (§12): auditLog, a manager's, newest first.

// Log reads the trail.
type Log struct{ db *db.Handle }

// NewLog returns the reader over the database handle.
func NewLog(h *db.Handle) *Log { return &Log{db: h} }

// Order is the name of the audit log's order in its cursors.
const Order = "audit:created_at:desc"

// Filter selects entries; every condition given must hold.
type Filter struct {
	EntityType *string
	EntityID   *uuid.UUID
	Actor      *string // a user id or SYSTEM
	Action     *string
	From, To   *time.Time // [From, To)
}

// Item is one entry as the API shows it.
type Item struct {
	ID            string
	OccurredAt    time.Time
	Actor         string // a user id or SYSTEM
	Action        string
	EntityType    string
	EntityID      *uuid.UUID
	ChangedFields []string
	Details       map[string]any
}

// Page is one page of the log.
type Page struct {
	Items       []Item
	Cursors     []string
	HasNext     bool
	HasPrevious bool
	TotalCount  int // when asked for
}

// SystemActor is the API's name of auth.System.
const SystemActor = "SYSTEM"

// Limits of the filter's strings: the columns' sizes (init migration).
const (
	maxEntityType = 30
	maxAction     = 50
)

// List reads one page of the caller's organization's trail (manager). Each filter runs on an
// index of (organization_id, <column>, created_at DESC, audit_id DESC), or on the entity
// index, so a page reads its rows and not the organization's trail. count asks for the
// total too (a second statement, in the same read).
func (l *Log) List(ctx context.Context, f Filter, first *int, after *string, count bool) (*Page, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	page, err := paging.NewPage(first, after, Order, validKey)
	if err != nil {
		return nil, err
	}
	var afterSeq int64
	if page.After != nil {
		var ok bool
		if afterSeq, ok = sequenceOf(page.After.ID); !ok {
			return nil, apperr.OnField(apperr.Invalid, []string{"after"}, "after is not a cursor of this list")
		}
	}
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	out := &Page{HasPrevious: page.After != nil}
	err = db.Read(ctx, l.db, func(ctx context.Context, tx bun.Tx) error {
		where := func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("al.organization_id = ?", db.Org(ctx))
			if f.EntityType != nil {
				q = q.Where("al.entity_type = ?", *f.EntityType)
			}
			if f.EntityID != nil {
				q = q.Where("al.entity_id = ?", *f.EntityID)
			}
			if f.Actor != nil {
				q = q.Where("al.actor_id = ?", actorID(*f.Actor))
			}
			if f.Action != nil {
				q = q.Where("al.action = ?", *f.Action)
			}
			if f.From != nil {
				q = q.Where("al.created_at >= ?", *f.From)
			}
			if f.To != nil {
				q = q.Where("al.created_at < ?", *f.To)
			}
			return q
		}
		var rows []models.AuditEntry
		q := where(tx.NewSelect().Model(&rows))
		if page.After != nil {
			// created_at <= the cursor's bounds the index scan; the pair decides ties.
			q = q.Where("al.created_at <= ?::timestamptz", page.After.Key).
				Where("(al.created_at, al.audit_id) < (?::timestamptz, ?)", page.After.Key, afterSeq)
		}
		if err := q.OrderExpr("al.created_at DESC, al.audit_id DESC").Limit(int64(page.First + 1)).Scan(ctx); err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		if len(rows) > page.First {
			out.HasNext, rows = true, rows[:page.First]
		}
		for _, r := range rows {
			out.Items = append(out.Items, item(r))
			out.Cursors = append(out.Cursors, paging.Cursor{Order: Order, Key: r.CreatedAt.UTC().Format(time.RFC3339Nano), ID: SequenceUUID(r.ID)}.String())
		}
		if count {
			n, err := where(tx.NewSelect().Model((*models.AuditEntry)(nil))).Count(ctx)
			if err != nil {
				return fmt.Errorf("count audit log: %w", err)
			}
			out.TotalCount = int(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkFilter(f Filter) error {
	var errs []error
	if f.EntityType != nil && (len(*f.EntityType) == 0 || len(*f.EntityType) > maxEntityType) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"entityType"}, "entityType must be 1–%d characters", maxEntityType))
	}
	if f.Action != nil && (len(*f.Action) == 0 || len(*f.Action) > maxAction) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"action"}, "action must be 1–%d characters", maxAction))
	}
	if f.Actor != nil && actorID(*f.Actor) == nil {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"actor"}, "actor must be a user id (UUID) or %s", SystemActor))
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"to"}, "to must be after from"))
	}
	return errors.Join(errs...)
}

// actorID is the stored actor of a filter's actor, nil when it is neither a uuid nor SYSTEM.
func actorID(s string) *uuid.UUID {
	if s == SystemActor {
		id := auth.System
		return &id
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 || id == auth.System {
		return nil
	}
	return &id
}

func item(r models.AuditEntry) Item {
	actor := r.ActorID.String()
	if r.ActorID == auth.System {
		actor = SystemActor
	}
	return Item{
		ID: strconv.FormatInt(r.ID, 10), OccurredAt: r.CreatedAt, Actor: actor, Action: r.Action,
		EntityType: r.EntityType, EntityID: r.EntityID, ChangedFields: r.ChangedFields, Details: r.Details,
	}
}

func validKey(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// SequenceUUID writes an entry's sequence number as the uuid of a cursor (and of the
// timeline's tie-breaker): ten zero bytes and the number in the last six, so uuids sort as
// the numbers.
func SequenceUUID(n int64) uuid.UUID {
	var u uuid.UUID
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	copy(u[10:], b[2:])
	return u
}

// sequenceOf reads SequenceUUID back; false when u is not one.
func sequenceOf(u uuid.UUID) (int64, bool) {
	for _, b := range u[:10] {
		if b != 0 {
			return 0, false
		}
	}
	var b [8]byte
	copy(b[2:], u[10:])
	n := int64(binary.BigEndian.Uint64(b[:]))
	return n, n > 0
}
