package customers

import (
	"context"
	"database/sql"
	"errors"
	"reflect"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

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
	return s.getBy(ctx, l, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.customer_id = ?", id) })
}

// ByEmail returns the customer with the email (compared normalized), or nil.
func (s *Service) ByEmail(ctx context.Context, email string, l Lookup) (*models.Customer, Related, error) {
	e, ok := NormalizeEmail(email)
	if !ok {
		return nil, Related{}, nil
	}
	return s.getBy(ctx, l, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.email = ?", e) })
}

// ByPhone returns the customer with the phone (compared in E.164), or nil.
func (s *Service) ByPhone(ctx context.Context, phone string, l Lookup) (*models.Customer, Related, error) {
	p, ok := NormalizePhone(phone, DefaultRegion)
	if !ok {
		return nil, Related{}, nil
	}
	return s.getBy(ctx, l, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.phone = ?", p) })
}

// ByDocument returns the customer with the document, or nil.
func (s *Service) ByDocument(ctx context.Context, docType models.DocumentType, number string, l Lookup) (*models.Customer, Related, error) {
	n := normalizeDocumentNumber(number)
	return s.getBy(ctx, l, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("c.document_type = ?", docType).Where("c.document_number = ?", n)
	})
}

func (s *Service) getBy(ctx context.Context, l Lookup, where func(*bun.SelectQuery) *bun.SelectQuery) (*models.Customer, Related, error) {
	cols, err := s.customerColumns(l.Columns)
	if err != nil {
		return nil, Related{}, err
	}
	var c models.Customer
	var rel Related
	err = s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := where(tx.NewSelect().Model(&c).Column(cols...)).Limit(1).Scan(ctx); err != nil {
			return err
		}
		rel, err = related(ctx, tx, []uuid.UUID{c.ID}, l.Include)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Related{}, nil
	}
	if err != nil {
		return nil, Related{}, err
	}
	return &c, rel, nil
}
