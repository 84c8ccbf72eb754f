package customers

import (
	"context"

	"fmt"
	"reflect"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/models"
)

// customerType is the bun model of customers, whose fields name the columns a read may select.
var customerType = reflect.TypeFor[models.Customer]()

// Lookup says what a single-customer read fetches: only the columns asked for (nil: all;
// customer_id always) and, in the same transaction, the 360 relations to include, so a
// Customer 360 by id costs one transaction instead of one per relation.
type Lookup struct {
	Columns []string
	Include Include
}

// Get returns the customer with id, or nil when the organization has none (another
// organization's customer is indistinguishable from a missing one, §7), and the relations
// l includes.
func (s *Service) Get(ctx context.Context, id uuid.UUID, l Lookup) (*models.Customer, Related, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, Related{}, err
	}
	return s.getBy(ctx, l, []any{id.String()}, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.customer_id = $1") })
}

// ByEmail returns the customer with the email (compared normalized), or nil.
func (s *Service) ByEmail(ctx context.Context, email string, l Lookup) (*models.Customer, Related, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, Related{}, err
	}
	e, ok := NormalizeEmail(email)
	if !ok {
		return nil, Related{}, nil
	}
	return s.getBy(ctx, l, []any{e}, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.email = $1") })
}

// ByPhone returns the customer with the phone (compared in E.164), or nil.
func (s *Service) ByPhone(ctx context.Context, phone string, l Lookup) (*models.Customer, Related, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, Related{}, err
	}
	p, ok := NormalizePhone(phone, DefaultRegion)
	if !ok {
		return nil, Related{}, nil
	}
	return s.getBy(ctx, l, []any{p}, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.phone = $1") })
}

// ByDocument returns the customer with the document, or nil.
func (s *Service) ByDocument(ctx context.Context, docType models.DocumentType, number string, l Lookup) (*models.Customer, Related, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, Related{}, err
	}
	n := normalizeDocumentNumber(number)
	return s.getBy(ctx, l, []any{string(docType), n}, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("c.document_type = $1").Where("c.document_number = $2")
	})
}

// getBy reads the customer that where selects, its condition written with $n placeholders
// for args: the statement's text depends only on the selection, so it stays prepared.
func (s *Service) getBy(ctx context.Context, l Lookup, args []any, where func(*bun.SelectQuery) *bun.SelectQuery) (*models.Customer, Related, error) {
	cols, err := s.customerColumns(l.Columns)
	if err != nil {
		return nil, Related{}, err
	}
	v, err := newView360(l.Include)
	if err != nil {
		return nil, Related{}, err
	}
	q := where(s.db.NewSelect().Model((*models.Customer)(nil)).ColumnExpr(customerRow(cols))).Limit(1)
	found, rel, err := s.read360(ctx, q, args, true, cols, v, nil, nil, nil)
	if err != nil {
		return nil, Related{}, fmt.Errorf("read customer: %w", err)
	}
	if len(found) == 0 {
		return nil, Related{}, nil
	}
	return &found[0], rel, nil
}
