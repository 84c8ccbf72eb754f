package customers

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/models"
)

// Get returns the customer with id, or nil when the organization has none (another
// organization's customer is indistinguishable from a missing one, §7).
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*models.Customer, error) {
	return s.getBy(ctx, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.customer_id = ?", id) })
}

// ByEmail returns the customer with the email (compared normalized), or nil.
func (s *Service) ByEmail(ctx context.Context, email string) (*models.Customer, error) {
	e, ok := NormalizeEmail(email)
	if !ok {
		return nil, nil
	}
	return s.getBy(ctx, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.email = ?", e) })
}

// ByPhone returns the customer with the phone (compared in E.164), or nil.
func (s *Service) ByPhone(ctx context.Context, phone string) (*models.Customer, error) {
	p, ok := NormalizePhone(phone, DefaultRegion)
	if !ok {
		return nil, nil
	}
	return s.getBy(ctx, func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("c.phone = ?", p) })
}

// ByDocument returns the customer with the document, or nil.
func (s *Service) ByDocument(ctx context.Context, docType models.DocumentType, number string) (*models.Customer, error) {
	n := normalizeDocumentNumber(number)
	return s.getBy(ctx, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("c.document_type = ?", docType).Where("c.document_number = ?", n)
	})
}

func (s *Service) getBy(ctx context.Context, where func(*bun.SelectQuery) *bun.SelectQuery) (*models.Customer, error) {
	var c models.Customer
	err := s.read(ctx, func(ctx context.Context, tx bun.Tx) error {
		return where(tx.NewSelect().Model(&c)).Limit(1).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}
