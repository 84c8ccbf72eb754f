package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/loyalty"
)

// PurchaseColumns are the columns of a purchases file, in the order the README lists them.
// A row names its customer by exactly one of customerExternalId and customerId.
var PurchaseColumns = []column{
	{name: "orderId", required: true},
	{name: "customerExternalId"},
	{name: "customerId"},
	{name: "amount", required: true},
	{name: "occurredAt"},
	{name: "channel"},
}

// Purchases imports the purchases file of in into org: each row is recordPurchase's input,
// with its customer by externalId or id, so the loyalty rules apply to it as to the API's
// (points, tiers, back-dated purchases). A row whose orderId org already has is left as
// it is (Existing); the same orderId with another customer, amount, channel or date is
// IDEMPOTENCY_CONFLICT, as recordPurchase answers it.
func Purchases(ctx context.Context, h *db.Handle, org uuid.UUID, in io.Reader, opts Options) (Summary, error) {
	svc := loyalty.NewService(h)
	return run(ctx, h, org, in, PurchaseColumns, opts, func(ctx context.Context, tx bun.Tx, r row) (outcome, *Rejection, error) {
		bad := func(col, format string, args ...any) (outcome, *Rejection, error) {
			return rejected, &Rejection{Line: r.line, Column: col, Code: apperr.Invalid, Message: fmt.Sprintf(format, args...)}, nil
		}
		p := loyalty.NewPurchase{OrderID: r.values["orderId"], Channel: r.opt("channel")}
		ext, id := r.get("customerExternalId"), r.get("customerId")
		switch {
		case ext != "" && id != "":
			return bad("customerId", "give customerExternalId or customerId, not both")
		case ext != "":
			c, err := customerByExternalID(ctx, tx, ext)
			if errors.Is(err, sql.ErrNoRows) {
				return rejected, &Rejection{Line: r.line, Column: "customerExternalId", Code: apperr.NotFound,
					Message: "no customer with this externalId"}, nil
			}
			if err != nil {
				return 0, nil, err
			}
			p.CustomerID = c
		case id != "":
			c, err := uuid.Parse(id)
			if err != nil {
				return bad("customerId", "customerId must be a customer's id (a UUID)")
			}
			p.CustomerID = c
		default:
			return bad("customerExternalId", "give customerExternalId or customerId")
		}
		amount, err := decimal.NewFromString(r.get("amount"))
		if err != nil {
			return bad("amount", "amount must be a decimal number such as 125.50")
		}
		p.Amount = amount
		if v := r.get("occurredAt"); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				if t, err = time.Parse(time.DateOnly, v); err != nil {
					return bad("occurredAt", "occurredAt must be a date-time (2026-03-01T15:04:05Z) or a date (2026-03-01, midnight UTC)")
				}
			}
			p.OccurredAt = &t
		}
		exists, err := tx.NewSelect().Table("purchases").
			Where("organization_id = ?", db.Org(ctx)).Where("order_id = ?", p.OrderID).Exists(ctx)
		if err != nil {
			return 0, nil, fmt.Errorf("read purchase: %w", err)
		}
		if _, err := svc.RecordPurchase(ctx, p); err != nil {
			rej, err := refusal(r.line, err, func(field []string) string {
				if c := firstField(field); c != "customerId" || ext == "" {
					return c
				}
				return "customerExternalId"
			})
			return rejected, rej, err
		}
		if exists {
			return existing, nil, nil
		}
		return created, nil, nil
	})
}
