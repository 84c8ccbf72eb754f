// Package dataexport answers exportCustomerData (§11, access and portability): everything
// the organization holds about one customer as one versioned JSON document, read in one
// snapshot and audited. The document's shape is docs/export-v1.md; the parts that are
// Customer 360 types are rendered by package customer360, the rest here.
package dataexport

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/customer360"
	"customerservice/db"
	"customerservice/timeline"
)

// Version is the version of the document's shape (its "version" member). A change that
// removes or renames a member, or changes a member's type, is a new version; adding a
// member is not (docs/export-v1.md).
const Version = 1

// Service answers exports over the database.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// Export is the document of the customer (admin): read in one read-only REPEATABLE READ
// transaction on the primary (one statement: every section a json_agg of one set-based
// subquery), then audited (customer.export) in a transaction of its own — the document is
// answered only once its audit row has committed, and does not contain it. An erased
// customer's document holds what erasure left. Another organization's customer, like a
// missing one, is NOT_FOUND.
func (s *Service) Export(ctx context.Context, customerID uuid.UUID) (json.RawMessage, error) {
	if err := auth.Require(ctx, auth.Admin); err != nil {
		return nil, err
	}
	var doc json.RawMessage
	err := db.Snapshot(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		query, args, err := statement(db.Org(ctx), customerID)
		if err != nil {
			return err
		}
		var text string
		// $n parameters: the statement goes to the driver as it is (bun would read '?').
		if err := tx.Tx.QueryRowContext(ctx, query, args...).Scan(&text); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.OnField(apperr.NotFound, []string{"customerId"}, "no customer with this id")
			}
			return fmt.Errorf("export customer data: %w", err)
		}
		doc = json.RawMessage(text)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		return audit.Record(ctx, tx, p, audit.Entry{Action: "customer.export", EntityType: "customer", EntityID: customerID,
			ChangedFields: []string{}, Details: map[string]any{"version": Version, "bytes": len(doc)}})
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// statement is the one statement of the document of customer in org, and its parameters.
func statement(org, customer uuid.UUID) (string, []any, error) {
	var args db.Args
	o := args.Add(org.String()) + "::uuid"
	id := args.Add(customer.String()) + "::uuid"
	sections, err := customer360.ExportSections(&args, o)
	if err != nil {
		return "", nil, err
	}
	ts := customer360.DateTimeSQL
	pairs := "'version', " + fmt.Sprint(Version) + ", 'exportedAt', " + ts("now()") + ", 'organizationId', c.organization_id"
	add := func(key, sql string) { pairs += ", '" + key + "', " + sql }
	for _, s := range sections {
		add(s.Key, s.SQL)
		if s.Key == "purchases" {
			add("refunds", refunds(o, ts))
		}
		if s.Key == "loyaltyTransactions" {
			add("loyaltyLots", lots(o, ts))
		}
	}
	add("privacyRequests", privacyRequests(o, ts))
	add("auditEntries", auditEntries(o, ts))
	return "SELECT json_build_object(" + pairs + ")::text FROM customers AS c WHERE c.organization_id = " + o +
		" AND c.customer_id = " + id, args.Values(), nil
}

// refunds are the refunds of the customer's purchases, oldest first.
func refunds(o string, ts func(string) string) string {
	return `COALESCE((SELECT json_agg(json_build_object('refundId', r.refund_id, 'purchaseId', p.purchase_id, 'orderId', p.order_id,
  'amount', r.amount::text, 'pointsReversed', r.points_reversed, 'createdAt', ` + ts("r.created_at") + `) ORDER BY r.created_at, r.refund_id)
  FROM purchase_refunds AS r JOIN purchases AS p ON p.organization_id = r.organization_id AND p.purchase_id = r.purchase_id
  WHERE r.organization_id = ` + o + ` AND p.organization_id = ` + o + ` AND p.customer_id = c.customer_id), '[]')`
}

// lots are the point lots of the customer's loyalty account (§4: earns, bonuses and
// positive adjustments, with what remains of each and when it expires), oldest first.
func lots(o string, ts func(string) string) string {
	return `COALESCE((SELECT json_agg(json_build_object('transactionId', t.transaction_id, 'type', upper(t.transaction_type),
  'points', t.points, 'pointsRemaining', t.points_remaining, 'expiresAt', ` + ts("t.expires_at") + `,
  'pending', COALESCE(t.pending AND t.vests_at > now(), false), 'vestsAt', ` + ts("t.vests_at") + `) ORDER BY t.created_at, t.transaction_id)
  FROM loyalty_accounts AS la JOIN loyalty_transactions AS t ON t.organization_id = la.organization_id AND t.loyalty_account_id = la.loyalty_account_id
  WHERE la.organization_id = ` + o + ` AND t.organization_id = ` + o + ` AND la.customer_id = c.customer_id AND t.points_remaining IS NOT NULL), '[]')`
}

// privacyRequests are the customer's entries of the privacy requests log, oldest first.
func privacyRequests(o string, ts func(string) string) string {
	return `COALESCE((SELECT json_agg(json_build_object('id', pr.privacy_request_id, 'type', upper(pr.request_type),
  'status', upper(pr.status), 'receivedAt', ` + ts("pr.received_at") + `, 'dueDate', to_char(pr.due_date, 'YYYY-MM-DD'),
  'responseDays', pr.response_days, 'notes', pr.notes, 'outcome', pr.outcome, 'recordedBy', pr.recorded_by,
  'recordedAt', ` + ts("pr.recorded_at") + `, 'completedBy', pr.completed_by, 'completedAt', ` + ts("pr.completed_at") + `)
  ORDER BY pr.received_at, pr.privacy_request_id)
  FROM privacy_requests AS pr WHERE pr.organization_id = ` + o + ` AND pr.customer_id = c.customer_id), '[]')`
}

// auditEntries are the audit rows about the customer, oldest first: of the customer, its
// addresses, purchases, loyalty and credit accounts and privacy requests (each an entity
// of the index audit_log_entity_time_idx). They hold ids, amounts and field names, never
// personal values (§8).
func auditEntries(o string, ts func(string) string) string {
	mine := func(table, id string) string {
		return "SELECT x." + id + " FROM " + table + " AS x WHERE x.organization_id = " + o + " AND x.customer_id = c.customer_id"
	}
	return `COALESCE((SELECT json_agg(json_build_object('id', al.audit_id, 'at', ` + ts("al.created_at") + `,
  'actor', ` + timeline.ActorSQL("al.actor_id") + `, 'action', al.action, 'entityType', al.entity_type, 'entityId', al.entity_id,
  'changedFields', al.changed_fields, 'details', al.details) ORDER BY al.created_at, al.audit_id)
  FROM audit_log AS al WHERE al.organization_id = ` + o + `
  AND al.entity_type IN ('customer', 'address', 'purchase', 'loyalty_account', 'credit_account', 'privacy_request')
  AND al.entity_id IN (SELECT c.customer_id UNION ALL ` + mine("addresses", "address_id") + ` UNION ALL ` + mine("purchases", "purchase_id") +
		` UNION ALL ` + mine("loyalty_accounts", "loyalty_account_id") + ` UNION ALL ` + mine("credit_accounts", "credit_account_id") +
		` UNION ALL ` + mine("privacy_requests", "privacy_request_id") + `)), '[]')`
}
