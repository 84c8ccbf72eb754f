package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
	"customerservice/paging"
)

// Limits of a request's texts (the columns' lengths).
const (
	MaxNotesLen          = 10_000
	MaxIdempotencyKeyLen = 255
)

// earliestReceivedAt bounds receivedAt in the past: Ley 81 is of 2019.
var earliestReceivedAt = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// NewRequest is the input of Record.
type NewRequest struct {
	CustomerID     *uuid.UUID // nil: a request not (yet) tied to a customer of the organization
	Type           models.PrivacyRequestType
	ReceivedAt     time.Time
	Notes          *string // trimmed; blank is none
	IdempotencyKey *string // as given; nil: every call records a request
}

func (in *NewRequest) validate(now time.Time) error {
	var errs apperr.List
	switch in.Type {
	case models.PrivacyAccess, models.PrivacyRectification, models.PrivacyCancellation, models.PrivacyOpposition, models.PrivacyPortability:
	default:
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"type"}, "type must be ACCESS, RECTIFICATION, CANCELLATION, OPPOSITION or PORTABILITY"))
	}
	switch {
	case in.ReceivedAt.After(now):
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"receivedAt"}, "receivedAt cannot be in the future"))
	case in.ReceivedAt.Before(earliestReceivedAt):
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"receivedAt"}, "receivedAt must be in 2019 or later"))
	}
	in.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond) // what PostgreSQL stores
	var err *apperr.Error
	if in.Notes, err = text("notes", in.Notes); err != nil {
		errs = append(errs, err)
	}
	if k := in.IdempotencyKey; k != nil {
		if n := utf8.RuneCountInString(*k); n < 1 || n > MaxIdempotencyKeyLen {
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{"idempotencyKey"}, "idempotencyKey must be 1–%d characters", MaxIdempotencyKeyLen))
		}
	}
	return errs.Err()
}

// text trims a free-text field: blank is none, longer than MaxNotesLen is INVALID.
func text(field string, p *string) (*string, *apperr.Error) {
	if p == nil {
		return nil, nil
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(s); n > MaxNotesLen {
		return nil, apperr.OnField(apperr.Invalid, []string{field}, "%s must be at most %d characters (got %d)", field, MaxNotesLen, n)
	}
	return &s, nil
}

// requestColumns are a request's columns and whether it is overdue now, over alias pr.
const requestColumns = "pr.*, (pr.status = 'open' AND pr.due_date < " + TodaySQL + ") AS overdue"

// Record logs a privacy request (admin): its due date is the organization's response days
// (business days, fixed now) after the day it was received. With an idempotency key, a
// replay of the same request answers the original and writes nothing; the key with another
// request is IDEMPOTENCY_CONFLICT. Audited.
func (s *Service) Record(ctx context.Context, in NewRequest) (*models.PrivacyRequest, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	if err := in.validate(time.Now()); err != nil {
		return nil, err
	}
	var row models.PrivacyRequest
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if in.CustomerID != nil {
			var exists bool
			if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM customers WHERE organization_id = ? AND customer_id = ?)",
				db.Org(ctx), *in.CustomerID).Scan(ctx, &exists); err != nil {
				return fmt.Errorf("read customer: %w", err)
			}
			if !exists {
				return apperr.OnField(apperr.NotFound, []string{"customerId"}, "no customer with this id")
			}
		}
		st, _, err := settingsOf(ctx, tx, false)
		if err != nil {
			return err
		}
		row = models.PrivacyRequest{
			ID: uuid.New(), OrganizationID: p.OrganizationID, CustomerID: in.CustomerID, Type: in.Type,
			Status: models.PrivacyRequestOpen, ReceivedAt: in.ReceivedAt, ResponseDays: st.ResponseDays,
			DueDate: DueDate(in.ReceivedAt, st.ResponseDays), Notes: in.Notes, IdempotencyKey: in.IdempotencyKey,
			RecordedBy: p.UserID,
		}
		// A key already stored (or stored by a concurrent request, whose commit ON CONFLICT
		// waits for) makes this a replay: no row, no audit.
		res, err := tx.NewInsert().Model(&row).
			On("CONFLICT (organization_id, idempotency_key) DO NOTHING").Returning("recorded_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record privacy request: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return replay(ctx, tx, in, &row)
		}
		details := map[string]any{"type": row.Type, "due_date": row.DueDate.Format(time.DateOnly), "response_days": row.ResponseDays}
		if row.CustomerID != nil {
			details["customer_id"] = row.CustomerID.String()
		}
		return audit.Record(ctx, tx, p, audit.Entry{Action: "privacy_request.record", EntityType: "privacy_request", EntityID: row.ID,
			ChangedFields: []string{}, Details: details})
	})
	if errors.Is(err, errReplay) {
		return &row, nil
	}
	if err != nil {
		return nil, err
	}
	row.Overdue = row.Status == models.PrivacyRequestOpen && row.DueDate.Before(today())
	return &row, nil
}

func today() time.Time {
	n := time.Now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// errReplay rolls back the transaction of a replay: it writes nothing.
var errReplay = errors.New("privacy request replayed")

// replay answers a request whose idempotency key is stored: the original (as it is now)
// when it is the same request (customer, type, receivedAt, notes), else
// IDEMPOTENCY_CONFLICT.
func replay(ctx context.Context, tx bun.Tx, in NewRequest, row *models.PrivacyRequest) error {
	*row = models.PrivacyRequest{}
	if err := tx.NewSelect().Model(row).ColumnExpr(requestColumns).
		Where("pr.organization_id = ?", db.Org(ctx)).Where("pr.idempotency_key = ?", *in.IdempotencyKey).Scan(ctx); err != nil {
		return fmt.Errorf("read privacy request: %w", err)
	}
	if row.Type != in.Type || !row.ReceivedAt.Equal(in.ReceivedAt) || !eqUUID(row.CustomerID, in.CustomerID) || !eqText(row.Notes, in.Notes) {
		return apperr.OnField(apperr.IdempotencyConflict, []string{"idempotencyKey"},
			"another privacy request was recorded with this idempotencyKey")
	}
	return errReplay
}

func eqUUID(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqText(a, b *string) bool    { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Completion is the input of Complete: the request, how it ends (COMPLETED or REJECTED),
// and the outcome text (required for a rejection: the reason).
type Completion struct {
	ID      uuid.UUID
	Status  models.PrivacyRequestStatus
	Outcome *string
}

// Complete closes an open request (admin) as completed or rejected, recording who and
// when. A request that is no longer open is INVALID_STATE: completing twice is refused,
// also when two admins complete it at once (one wins). Audited.
func (s *Service) Complete(ctx context.Context, in Completion) (*models.PrivacyRequest, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	var errs apperr.List
	if in.Status != models.PrivacyRequestCompleted && in.Status != models.PrivacyRequestRejected {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"status"}, "status must be COMPLETED or REJECTED"))
	}
	outcome, terr := text("outcome", in.Outcome)
	if terr != nil {
		errs = append(errs, terr)
	} else if outcome == nil && in.Status == models.PrivacyRequestRejected {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"outcome"}, "a rejection needs its reason in outcome"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var row models.PrivacyRequest
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := tx.NewSelect().Model(&row).ColumnExpr(requestColumns).Where("pr.organization_id = ?", db.Org(ctx)).
			Where("pr.privacy_request_id = ?", in.ID).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.OnField(apperr.NotFound, []string{"id"}, "no privacy request with this id")
			}
			return fmt.Errorf("read privacy request: %w", err)
		}
		if row.Status != models.PrivacyRequestOpen {
			return apperr.OnField(apperr.InvalidState, []string{"id"}, "the request is already %s", strings.ToUpper(string(row.Status)))
		}
		row.Status, row.Outcome, row.CompletedBy = in.Status, outcome, &p.UserID
		if _, err := tx.NewUpdate().Model(&row).Set("status = ?", row.Status).Set("outcome = ?", row.Outcome).
			Set("completed_by = ?", p.UserID).Set("completed_at = now()").
			Where("pr.organization_id = ?", db.Org(ctx)).Where("pr.privacy_request_id = ?", row.ID).
			Returning("completed_at").Exec(ctx, &row.CompletedAt); err != nil {
			return fmt.Errorf("complete privacy request: %w", err)
		}
		row.Overdue = false
		late := row.CompletedAt.UTC().Format(time.DateOnly) > row.DueDate.Format(time.DateOnly)
		return audit.Record(ctx, tx, p, audit.Entry{Action: "privacy_request.complete", EntityType: "privacy_request", EntityID: row.ID,
			ChangedFields: []string{"status", "outcome", "completed_by", "completed_at"},
			Details:       map[string]any{"from": "open", "to": row.Status, "type": row.Type, "late": late}})
	})
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// Order is the order of the requests log: newest received first.
const Order = "privacy_requests:received_at:desc"

// Filter selects requests of the log; nil fields select all.
type Filter struct {
	Status     *models.PrivacyRequestStatus
	Overdue    *bool
	CustomerID *uuid.UUID
}

// Page is one page of the log.
type Page struct {
	Requests    []models.PrivacyRequest
	Cursors     []string
	HasNext     bool
	HasPrevious bool
	TotalCount  int
}

// List reads a page of the organization's privacy requests (admin), newest received first,
// with the total count of the filter. overdue true selects the open requests past their
// due date, false the others.
func (s *Service) List(ctx context.Context, f Filter, first *int, after *string, withCount bool) (*Page, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	page, err := paging.NewPage(first, after, Order, validTime)
	if err != nil {
		return nil, err
	}
	out := &Page{HasPrevious: page.After != nil}
	err = db.Read(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		where := func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("pr.organization_id = ?", db.Org(ctx))
			if f.Status != nil {
				q = q.Where("pr.status = ?", *f.Status)
			}
			if f.CustomerID != nil {
				q = q.Where("pr.customer_id = ?", *f.CustomerID)
			}
			if f.Overdue != nil {
				if *f.Overdue {
					q = q.Where("pr.status = 'open' AND pr.due_date < " + TodaySQL)
				} else {
					q = q.Where("NOT (pr.status = 'open' AND pr.due_date < " + TodaySQL + ")")
				}
			}
			return q
		}
		q := where(tx.NewSelect().Model(&out.Requests).ColumnExpr(requestColumns))
		if page.After != nil {
			q = q.Where("(pr.received_at, pr.privacy_request_id) < (?::timestamptz, ?::uuid)", page.After.Key, page.After.ID)
		}
		if err := q.OrderExpr("pr.received_at DESC, pr.privacy_request_id DESC").Limit(int64(page.First + 1)).Scan(ctx); err != nil {
			return fmt.Errorf("list privacy requests: %w", err)
		}
		if withCount {
			n, err := where(tx.NewSelect().Model((*models.PrivacyRequest)(nil))).Count(ctx)
			if err != nil {
				return fmt.Errorf("count privacy requests: %w", err)
			}
			out.TotalCount = int(n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.Requests) > page.First {
		out.HasNext, out.Requests = true, out.Requests[:page.First]
	}
	for _, r := range out.Requests {
		out.Cursors = append(out.Cursors, paging.Cursor{Order: Order, Key: r.ReceivedAt.UTC().Format(time.RFC3339Nano), ID: r.ID}.String())
	}
	return out, nil
}

func validTime(key string) bool {
	_, err := time.Parse(time.RFC3339Nano, key)
	return err == nil
}

// ForgetText is erasure's part of the log (§11): the notes and outcomes of the customer's
// requests, in which the customer could be named, are cleared in the erasure's transaction;
// the requests themselves (type, dates, status, who) stay as the record that they were
// answered. It returns how many requests it changed.
func ForgetText(ctx context.Context, tx bun.Tx, org, customerID uuid.UUID) (int64, error) {
	res, err := tx.NewRaw(`UPDATE privacy_requests SET notes = NULL, outcome = NULL
		WHERE organization_id = ? AND customer_id = ? AND (notes IS NOT NULL OR outcome IS NOT NULL)`, org, customerID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("clear privacy request text: %w", err)
	}
	return res.RowsAffected()
}
