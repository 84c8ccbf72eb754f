package timeline

// Kinds is the one table of the timeline's kinds of event (§12): where each is read and the
// SQL of its figures over its source's row. Adding a kind is one entry here (and its value
// in the schema's TimelineEventKind); a kind of a new table adds its source (sources.go).
// A kind's `when` must hold for its rows only: the rows of one source that no kind claims
// are not events.
var Kinds = []Kind{
	// Purchases and refunds (§4).
	{Name: "PURCHASE", src: purchases, when: "true",
		amount: "p.amount", points: "p.points_earned", reference: "p.order_id"},
	{Name: "REFUND", src: refunds, when: "true",
		amount: "r.amount", points: "-r.points_reversed", reference: "r.refund_id"},

	// The points ledger (§4), each movement signed with the balance after it.
	{Name: "POINTS_EARNED", src: points, when: "t.transaction_type = 'earn'",
		points: "t.points", balanceAfter: "t.balance_after", reference: "t.reference_id"},
	{Name: "POINTS_REDEEMED", src: points, when: "t.transaction_type = 'redeem'",
		points: "t.points", balanceAfter: "t.balance_after", reference: "t.reference_id"},
	{Name: "POINTS_EXPIRED", src: points, when: "t.transaction_type = 'expire'",
		points: "t.points", balanceAfter: "t.balance_after"},
	{Name: "POINTS_ADJUSTED", src: points, when: "t.transaction_type = 'adjust'",
		points: "t.points", balanceAfter: "t.balance_after", reference: "t.reference_id"},
	{Name: "POINTS_BONUS", src: points, when: "t.transaction_type = 'bonus'",
		points: "t.points", balanceAfter: "t.balance_after", reference: "t.reference_id"},
	{Name: "POINTS_VESTED", src: points, when: "t.transaction_type = 'vest'",
		points: "t.points", balanceAfter: "t.balance_after"},

	// Credit charges and payments (§5).
	{Name: "CREDIT_CHARGE", src: charges, when: "true", amount: "cu.amount", reference: "cu.order_id"},
	{Name: "CREDIT_PAYMENT", src: payments, when: "true", amount: "cp.amount", reference: "cp.payment_reference"},

	// What only the audit trail holds: profile and status of the customer (field names, never
	// values), tiers, the credit account's lifecycle and limit, erasure.
	{Name: "CUSTOMER_CREATED", src: audits, when: "al.action = 'customer.create'", fields: "al.changed_fields"},
	{Name: "PROFILE_CHANGED", src: audits, when: "al.action = 'customer.update'", fields: "al.changed_fields"},
	{Name: "STATUS_CHANGED", src: audits, when: "al.action = 'customer.set_status'",
		from: "upper(al.details->>'from')", to: "upper(al.details->>'to')"},
	{Name: "ERASED", src: audits, when: "al.action = 'customer.erase'"},
	{Name: "LOYALTY_ENROLLED", src: audits, when: "al.action = 'loyalty.enroll'"},
	{Name: "TIER_CHANGED", src: audits, when: "al.action = 'loyalty.tier_change'",
		from: "upper(al.details->>'from')", to: "upper(al.details->>'to')"},
	{Name: "CREDIT_ACCOUNT_OPENED", src: audits, when: "al.action = 'credit.open'",
		amount: "(al.details->>'credit_limit')::numeric(12,2)", to: "'PENDING'"},
	{Name: "CREDIT_STATUS_CHANGED", src: audits,
		when: "al.action IN ('credit.approve', 'credit.suspend', 'credit.reinstate', 'credit.cancel')",
		from: "upper(al.details->>'from')", to: "upper(al.details->>'to')"},
	// A deferred increase is audited with old/new limits and deferred: true (rows written
	// before that carry credit_limit/requested_credit_limit instead).
	{Name: "CREDIT_LIMIT_REQUESTED", src: audits,
		when:   "al.action = 'credit.update_limit' AND (al.details->>'requested_credit_limit' IS NOT NULL OR al.details @> '{\"deferred\": true}')",
		amount: "COALESCE(al.details->>'requested_credit_limit', al.details->>'new_credit_limit')::numeric(12,2)",
		from:   "COALESCE(al.details->>'credit_limit', al.details->>'old_credit_limit')", to: "COALESCE(al.details->>'requested_credit_limit', al.details->>'new_credit_limit')"},
	{Name: "CREDIT_LIMIT_CHANGED", src: audits,
		when:   "al.action IN ('credit.update_limit', 'credit.approve_limit') AND al.details->>'new_credit_limit' IS NOT NULL AND NOT al.details @> '{\"deferred\": true}'",
		amount: "(al.details->>'new_credit_limit')::numeric(12,2)",
		from:   "al.details->>'old_credit_limit'", to: "al.details->>'new_credit_limit'"},
	{Name: "CREDIT_CHARGE_CANCELLED", src: audits, when: "al.action = 'credit.cancel_usage'",
		amount: "(al.details->>'released')::numeric(12,2)", reference: "al.details->>'order_id'"},
	{Name: "CREDIT_CHARGE_OVERDUE", src: audits, when: "al.action = 'credit.overdue'",
		amount: "(al.details->>'outstanding')::numeric(12,2)", reference: "al.details->>'order_id'"},

	// Consents (§11): each grant and revocation is an audit row of the customer with the
	// purpose (docs/decisions-timeline.md: why the audit row, not customer_consents).
	{Name: "CONSENT_GRANTED", src: audits, when: "al.action = 'consent.grant'",
		reference: "upper(al.details->>'purpose')"},
	{Name: "CONSENT_REVOKED", src: audits, when: "al.action = 'consent.revoke'",
		reference: "upper(al.details->>'purpose')"},

	// Merges (§10): the audit row on the survivor and on each merged customer.
	{Name: "MERGED", src: audits, when: "al.action = 'customer.merge'",
		to: "al.details->>'survivor_id'", fields: "al.changed_fields"},
}

// LedgerActions are the audit actions whose event the timeline reads from a ledger row
// instead (the row has the figures): the audit rows the timeline skips, and exactly the
// actions the partial index audit_log_timeline_idx leaves out (the timeline migration, and
// 20261217000001 for loyalty.vest).
var LedgerActions = []string{
	"loyalty.purchase", "loyalty.refund", "loyalty.redeem", "loyalty.bonus", "loyalty.adjust",
	"loyalty.expire", "credit.charge", "credit.payment", "loyalty.vest",
}

// Kind is one kind of event: its name in the API, its source, the condition over the
// source's row that makes a row this kind, and the SQL of its figures ("" is null).
type Kind struct {
	Name string
	src  *source
	when string

	amount, points, balanceAfter, reference, from, to, fields string
}

// KindNames are the names of the kinds, in the table's order.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Name
	}
	return out
}
