// Package savedsegments owns the saved customer segments of §12: a named customer filter
// (and search) of an organization, stored as a versioned document (filter.go), evaluated
// live by the customer list whenever it is read. Managers create, change and delete them;
// every role reads them.
package savedsegments

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/models"
	"customerservice/paging"
)

// Service reads and writes the saved segments of the caller's organization.
type Service struct{ db *db.Handle }

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// Segment is a saved segment as the API shows it.
type Segment struct {
	ID          uuid.UUID
	Name        string
	Description *string
	Filter      map[string]any // the stored CustomerFilter (its version's shape)
	Search      *string
	Version     int
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Live is the filter the segment means now, for its customers and count.
	Live customers.Filter
}

// Input is what a create or update sets; nil keeps (update) or is none (create). A
// description set to "" is cleared.
type Input struct {
	Name        *string
	Description *string
	// Filter is the live filter with its search (nil: unchanged on update, everyone on
	// create). RefersToSegment: the filter named a saved segment, which a saved one may not.
	Filter          *customers.Filter
	RefersToSegment bool
}

// Limits of the fields (the table's columns).
const (
	maxName        = 100
	maxDescription = 1000
	maxTag         = 255 // customers.tags varchar(255)[]
)

// Create saves a new segment (manager). Its name is unique in the organization (TAKEN).
func (s *Service) Create(ctx context.Context, in Input) (*Segment, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	if in.Name == nil {
		in.Name = new(string)
	}
	if in.Filter == nil {
		in.Filter = &customers.Filter{}
	}
	row, err := check(in)
	if err != nil {
		return nil, err
	}
	err = db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		row.ID, row.OrganizationID, row.CreatedBy = uuid.New(), p.OrganizationID, p.UserID
		if _, err := tx.NewInsert().Model(row).Returning("*").Exec(ctx); err != nil {
			return taken(err)
		}
		return audit.Record(ctx, tx, p, audit.Entry{Action: "saved_segment.create", EntityType: "saved_segment",
			EntityID: row.ID, ChangedFields: []string{"name", "description", "filter"}})
	})
	if err != nil {
		return nil, err
	}
	return segment(row)
}

// Update changes what the input sets (manager); NOT_FOUND for a segment not in the
// organization.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in Input) (*Segment, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	set, err := check(in)
	if err != nil {
		return nil, err
	}
	row := new(models.SavedSegment)
	err = db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		q := tx.NewUpdate().Model(row).Where("ss.organization_id = ?", p.OrganizationID).Where("ss.saved_segment_id = ?", id)
		changed := []string{}
		if in.Name != nil {
			q, changed = q.Set("name = ?", set.Name), append(changed, "name")
		}
		if in.Description != nil {
			q, changed = q.Set("description = ?", set.Description), append(changed, "description")
		}
		if in.Filter != nil {
			q, changed = q.Set("filter = ?", string(set.Filter)), append(changed, "filter")
		}
		if len(changed) == 0 {
			q = q.Set("name = ss.name")
		}
		res, err := q.Returning("*").Exec(ctx)
		if err != nil {
			return taken(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("id")
		}
		return audit.Record(ctx, tx, p, audit.Entry{Action: "saved_segment.update", EntityType: "saved_segment",
			EntityID: id, ChangedFields: changed})
	})
	if err != nil {
		return nil, err
	}
	return segment(row)
}

// Delete removes a segment (manager); NOT_FOUND for one not in the organization.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return err
	}
	return db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		res, err := tx.NewDelete().Model((*models.SavedSegment)(nil)).
			Where("ss.organization_id = ?", p.OrganizationID).Where("ss.saved_segment_id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete saved segment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("id")
		}
		return audit.Record(ctx, tx, p, audit.Entry{Action: "saved_segment.delete", EntityType: "saved_segment", EntityID: id})
	})
}

// Get reads one segment of the organization; nil when there is none.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Segment, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	row := new(models.SavedSegment)
	err := db.Read(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().Model(row).Where("ss.organization_id = ?", db.Org(ctx)).Where("ss.saved_segment_id = ?", id).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read saved segment: %w", err)
	}
	return segment(row)
}

// FilterOf is the live filter of a segment, for customers(filter: {savedSegment}):
// NOT_FOUND on field when the organization has none of that id.
func (s *Service) FilterOf(ctx context.Context, id uuid.UUID, field []string) (customers.Filter, error) {
	seg, err := s.Get(ctx, id)
	if err != nil {
		return customers.Filter{}, err
	}
	if seg == nil {
		return customers.Filter{}, apperr.OnField(apperr.NotFound, field, "no saved segment has this id")
	}
	return seg.Live, nil
}

// Order is the name of the list's order in its cursors: by name.
const Order = "saved_segments:name:asc"

// Page is one page of the organization's segments, by name.
type Page struct {
	Segments    []*Segment
	Cursors     []string
	HasNext     bool
	HasPrevious bool
	TotalCount  int
}

// List reads a page of the organization's segments by name (every role).
func (s *Service) List(ctx context.Context, first *int, after *string) (*Page, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	page, err := paging.NewPage(first, after, Order, func(string) bool { return true })
	if err != nil {
		return nil, err
	}
	var rows []models.SavedSegment
	out := &Page{HasPrevious: page.After != nil}
	err = db.Read(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model(&rows).Where("ss.organization_id = ?", db.Org(ctx))
		if page.After != nil {
			q = q.Where("(ss.name, ss.saved_segment_id) > (?, ?)", page.After.Key, page.After.ID)
		}
		if err := q.OrderExpr("ss.name, ss.saved_segment_id").Limit(int64(page.First + 1)).Scan(ctx); err != nil {
			return fmt.Errorf("list saved segments: %w", err)
		}
		n, err := tx.NewSelect().Model((*models.SavedSegment)(nil)).Where("ss.organization_id = ?", db.Org(ctx)).Count(ctx)
		out.TotalCount = int(n)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(rows) > page.First {
		out.HasNext, rows = true, rows[:page.First]
	}
	for i := range rows {
		seg, err := segment(&rows[i])
		if err != nil {
			return nil, err
		}
		out.Segments = append(out.Segments, seg)
		out.Cursors = append(out.Cursors, paging.Cursor{Order: Order, Key: rows[i].Name, ID: rows[i].ID}.String())
	}
	return out, nil
}

// check validates an input as the row to write (set fields only): the name, the
// description, the filter as the live filter is checked.
func check(in Input) (*models.SavedSegment, error) {
	row := &models.SavedSegment{}
	var errs apperr.List
	if in.Name != nil {
		row.Name = strings.TrimSpace(*in.Name)
		if n := utf8.RuneCountInString(row.Name); n == 0 || n > maxName {
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{"name"}, "name must be 1–%d characters", maxName))
		}
	}
	if in.Description != nil {
		if d := strings.TrimSpace(*in.Description); d != "" {
			row.Description = &d
			if utf8.RuneCountInString(d) > maxDescription {
				errs = append(errs, apperr.OnField(apperr.Invalid, []string{"description"}, "description must be at most %d characters", maxDescription))
			}
		}
	}
	if in.RefersToSegment {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"filter", "savedSegment"}, "a saved segment cannot name another one"))
	}
	if in.Filter != nil {
		for _, tags := range []struct {
			name string
			list []string
		}{{"any", in.Filter.TagsAny}, {"all", in.Filter.TagsAll}} {
			for i, tag := range tags.list {
				if utf8.RuneCountInString(strings.TrimSpace(tag)) > maxTag {
					errs = append(errs, apperr.OnField(apperr.Invalid, []string{"filter", "tags", tags.name, strconv.Itoa(i)},
						"a tag is at most %d characters", maxTag))
				}
			}
		}
		if err := in.Filter.Validate(); err != nil {
			if es, ok := apperr.Of(err); ok {
				errs = append(errs, es...)
			} else {
				return nil, err
			}
		}
		doc, err := json.Marshal(document(*in.Filter))
		if err != nil {
			return nil, err
		}
		row.Filter = doc
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return row, nil
}

// segment is the row as the API shows it.
func segment(row *models.SavedSegment) (*Segment, error) {
	doc, live, err := decode(row.Filter)
	if err != nil {
		return nil, err
	}
	var filter map[string]any
	raw, _ := json.Marshal(doc.Filter)
	if err := json.Unmarshal(raw, &filter); err != nil {
		return nil, err
	}
	return &Segment{ID: row.ID, Name: row.Name, Description: row.Description, Filter: filter, Search: doc.Search,
		Version: doc.Version, CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Live: live}, nil
}

func taken(err error) error {
	if c, ok := db.IsUniqueViolation(err); ok && c == "saved_segments_name_key" {
		return apperr.OnField(apperr.Taken, []string{"name"}, "another saved segment of the organization has this name")
	}
	return fmt.Errorf("write saved segment: %w", err)
}

func notFound(field string) error {
	return apperr.OnField(apperr.NotFound, []string{field}, "no saved segment has this id")
}
