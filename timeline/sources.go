package timeline

// source is a table the timeline reads events from (docs/decisions-timeline.md: the
// existing ledgers and the audit trail, UNION ALL, no event table). In its SQL, {org} is the
// organization and {customer} the customer, each a bind parameter.
type source struct {
	prefix string // of its events' ids: "<prefix>:<key>"
	// from is the FROM list; scope the condition of the customer's rows.
	from, scope string
	// key is when the event happened (timestamptz); tb a uuid that orders ties of key
	// among all the timeline's rows; id the key of the row in its event id (text).
	key, tb, id string
	actor       string // the actor column (uuid; null: not kept)
	// byID is the condition of the rows of the organization whose id key is in {ids} (a
	// text[] of keys idValid accepts); customerOf is the customer of such a row.
	byID, customerOf string
	idValid          func(key string) bool
}

var (
	purchases = &source{prefix: PurchasePrefix, idValid: isUUID,
		from:  "purchases AS p",
		scope: "p.organization_id = {org} AND p.customer_id = {customer}",
		key:   "p.occurred_at", tb: "p.purchase_id", id: "p.purchase_id::text", actor: "p.actor_id",
		byID:       "p.organization_id = {org} AND p.purchase_id = ANY({ids}::uuid[])",
		customerOf: "p.customer_id",
	}
	// A refund names its purchase, whose customer it is; its id is the caller's refundId.
	refunds = &source{prefix: RefundPrefix, idValid: func(k string) bool { return k != "" },
		from:  "purchase_refunds AS r JOIN purchases AS rp ON rp.organization_id = r.organization_id AND rp.purchase_id = r.purchase_id",
		scope: "r.organization_id = {org} AND rp.organization_id = {org} AND rp.customer_id = {customer}",
		key:   "r.created_at", tb: "md5(r.refund_id)::uuid", id: "r.refund_id", actor: "r.actor_id",
		byID:       "r.organization_id = {org} AND rp.organization_id = {org} AND r.refund_id = ANY({ids}::text[])",
		customerOf: "rp.customer_id",
	}
	points = &source{prefix: PointsPrefix, idValid: isUUID,
		from:  "loyalty_transactions AS t",
		scope: "t.organization_id = {org} AND t.loyalty_account_id = " + accountOf("loyalty_accounts", "loyalty_account_id"),
		// A back-dated purchase's earn sits at the purchase's time (occurred_at), as the
		// purchase does; every other movement at when it was written.
		key: "COALESCE(t.occurred_at, t.created_at)", tb: "t.transaction_id", id: "t.transaction_id::text", actor: "t.actor_id",
		byID:       "t.organization_id = {org} AND t.transaction_id = ANY({ids}::uuid[])",
		customerOf: customerOf("loyalty_accounts", "loyalty_account_id", "t.loyalty_account_id"),
	}
	charges = &source{prefix: ChargePrefix, idValid: isUUID,
		from:  "credit_usage AS cu",
		scope: "cu.organization_id = {org} AND cu.credit_account_id = " + accountOf("credit_accounts", "credit_account_id"),
		key:   "cu.created_at", tb: "cu.usage_id", id: "cu.usage_id::text", actor: "cu.actor_id",
		byID:       "cu.organization_id = {org} AND cu.usage_id = ANY({ids}::uuid[])",
		customerOf: customerOf("credit_accounts", "credit_account_id", "cu.credit_account_id"),
	}
	payments = &source{prefix: PaymentPrefix, idValid: isUUID,
		from:  "credit_payments AS cp",
		scope: "cp.organization_id = {org} AND cp.credit_account_id = " + accountOf("credit_accounts", "credit_account_id"),
		key:   "cp.created_at", tb: "cp.payment_id", id: "cp.payment_id::text", actor: "cp.actor_id",
		byID:       "cp.organization_id = {org} AND cp.payment_id = ANY({ids}::uuid[])",
		customerOf: customerOf("credit_accounts", "credit_account_id", "cp.credit_account_id"),
	}
	// The audit rows of the customer, its loyalty account and its credit account, except
	// those of LedgerActions (the partial index audit_log_timeline_idx holds exactly these).
	// The tie-breaker is the row's sequence number as a uuid (it sorts as the number).
	audits = &source{prefix: AuditPrefix, idValid: isSequence,
		from: "audit_log AS al",
		scope: "al.organization_id = {org} AND " + notLedger + " AND (" +
			"(al.entity_type = 'customer' AND al.entity_id = {customer})" +
			" OR (al.entity_type = 'loyalty_account' AND al.entity_id = " + accountOf("loyalty_accounts", "loyalty_account_id") + ")" +
			" OR (al.entity_type = 'credit_account' AND al.entity_id = " + accountOf("credit_accounts", "credit_account_id") + "))",
		key: "al.created_at", tb: "('00000000-0000-0000-0000-' || lpad(to_hex(al.audit_id), 12, '0'))::uuid",
		id: "al.audit_id::text", actor: "al.actor_id",
		byID: "al.organization_id = {org} AND " + notLedger + " AND al.audit_id = ANY({ids}::bigint[])" +
			" AND al.entity_type IN ('customer', 'loyalty_account', 'credit_account')",
		customerOf: "CASE al.entity_type WHEN 'customer' THEN al.entity_id" +
			" WHEN 'loyalty_account' THEN " + customerOf("loyalty_accounts", "loyalty_account_id", "al.entity_id") +
			" WHEN 'credit_account' THEN " + customerOf("credit_accounts", "credit_account_id", "al.entity_id") + " END",
	}
)

// sources are the sources of Kinds, each once, in the order of their first kind.
func sources() []*source {
	var out []*source
	seen := map[*source]bool{}
	for _, k := range Kinds {
		if !seen[k.src] {
			seen[k.src] = true
			out = append(out, k.src)
		}
	}
	return out
}

// notLedger is the condition of the audit rows the timeline reads (LedgerActions left out),
// written as the partial index's predicate is.
var notLedger = func() string {
	s := "al.action NOT IN ("
	for i, a := range LedgerActions {
		if i > 0 {
			s += ", "
		}
		s += "'" + a + "'"
	}
	return s + ")"
}()

// accountOf is the id of the customer's account (loyalty or credit): one row by the unique
// key (organization_id, customer_id), or null.
func accountOf(table, id string) string {
	return "(SELECT x." + id + " FROM " + table + " AS x WHERE x.organization_id = {org} AND x.customer_id = {customer})"
}

// customerOf is the customer of an account id.
func customerOf(table, id, account string) string {
	return "(SELECT x.customer_id FROM " + table + " AS x WHERE x.organization_id = {org} AND x." + id + " = " + account + ")"
}
