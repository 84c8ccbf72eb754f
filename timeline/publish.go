package timeline

import (
	"context"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"customerservice/db"
)

// The prefixes of the event ids, one per source (sources.go).
const (
	PurchasePrefix = "purchase"
	RefundPrefix   = "refund"
	PointsPrefix   = "points"
	ChargePrefix   = "charge"
	PaymentPrefix  = "payment"
	AuditPrefix    = "audit"
)

// Publish tells the subscriptions (§12, live updates) that the write transaction of ctx made
// the event of a source row: prefix and the row's uuid key. It is notified when the
// transaction commits (db.Publish), never for a rollback.
func Publish(ctx context.Context, prefix string, key uuid.UUID) {
	db.Publish(ctx, ID(prefix, key.String()))
}

// PublishRefund is Publish of a refund, whose key is its refund id.
func PublishRefund(ctx context.Context, refundID string) { db.Publish(ctx, ID(RefundPrefix, refundID)) }

// PublishAudit is Publish of an audit row when the timeline reads it as an event
// (IsAuditEvent).
func PublishAudit(ctx context.Context, action, entityType string, auditID int64) {
	if auditID > 0 && IsAuditEvent(action, entityType) {
		db.Publish(ctx, ID(AuditPrefix, strconv.FormatInt(auditID, 10)))
	}
}

// IsAuditEvent reports whether the timeline reads an audit row of action on entityType as an
// event: a row of a customer, loyalty account or credit account whose action is not a
// ledger's (the ledger row is that event, LedgerActions). Only such a row's id is published.
func IsAuditEvent(action, entityType string) bool {
	if slices.Contains(LedgerActions, action) {
		return false
	}
	switch entityType {
	case "customer", "loyalty_account", "credit_account":
		return true
	}
	return false
}
