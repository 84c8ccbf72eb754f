package customer360

import (
	"fmt"
	"strings"
	"time"

	"customerservice/apperr"
	"customerservice/credit"
	"customerservice/customers"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/paging"
	"customerservice/timeline"
)

// The table of every field of the Customer 360: for each type, the SQL of each field over
// the type's row alias (customers c, addresses a, loyalty_accounts la, loyalty_transactions t,
// purchases p, credit_accounts ca, credit_usage u, credit_payments pm, customer_segments s).
// A field added to one of these types in the schema is added here, once; the graph tests
// fail while one is missing.

var customerType = &objectType{name: "Customer", fields: map[string]fieldSQL{
	"id":                 column("customer_id", asIs),
	"customerType":       column("customer_type", enum),
	"firstName":          column("first_name", asIs),
	"lastName":           column("last_name", asIs),
	"fullName":           expr(func(r string) string { return r + ".first_name || ' ' || " + r + ".last_name" }),
	"email":              column("email", asIs),
	"phone":              column("phone", asIs),
	"documentType":       column("document_type", enum),
	"documentNumber":     column("document_number", asIs),
	"documentCheckDigit": column("document_check_digit", asIs),
	"dataQualityIssues":  expr(customers.DataIssuesSQL),
	"consents":           consents,
	"consentHistory": (&list{node: consentType, alias: "k", order: "consents:recorded_at:desc", key: "k.recorded_at", id: "k.consent_id",
		cols: "k.*", from: "customer_consents AS k WHERE k.organization_id = {row}.organization_id AND k.customer_id = {row}.customer_id"}).connection(),
	"birthDate":         column("birth_date", date),
	"gender":            column("gender", asIs),
	"status":            column("status", enum),
	"statusReason":      column("status_reason", asIs),
	"preferredLanguage": column("preferred_language", asIs),
	"marketingConsent":  column("marketing_consent", asIs),
	"tags":              column("tags", asIs),
	"metadata":          column("metadata", asIs),
	"notes":             column("notes", asIs),
	"createdAt":         column("created_at", dateTime),
	"updatedAt":         column("updated_at", dateTime),
	"lastPurchaseAt":    column("last_purchase_at", dateTime),
	"erasedAt":          column("erased_at", dateTime),
	"mergedInto":        column("merged_into", asIs),
	"addresses":         addresses,
	"defaultShippingAddress": one(addressType, "a", "addresses AS a WHERE a.organization_id = {row}.organization_id AND a.customer_id = {row}.customer_id "+
		"AND a.is_active AND a.is_default AND a.address_type IN ('shipping', 'both') ORDER BY "+addressOrder+" LIMIT 1"),
	"defaultBillingAddress": one(addressType, "a", "addresses AS a WHERE a.organization_id = {row}.organization_id AND a.customer_id = {row}.customer_id "+
		"AND a.is_active AND a.is_default AND a.address_type IN ('billing', 'both') ORDER BY "+addressOrder+" LIMIT 1"),
	"loyaltyAccount": one(loyaltyAccountType, "la", "loyalty_accounts AS la WHERE la.organization_id = {row}.organization_id AND la.customer_id = {row}.customer_id"),
	"creditAccount":  one(creditAccountType, "ca", "credit_accounts AS ca WHERE ca.organization_id = {row}.organization_id AND ca.customer_id = {row}.customer_id"),
	"segment":        one(segmentType, "s", "customer_segments AS s WHERE s.organization_id = {row}.organization_id AND s.customer_id = {row}.customer_id"),
	"purchases": (&list{node: purchaseType, alias: "p", order: "purchases:occurred_at:desc", key: "p.occurred_at", id: "p.purchase_id",
		cols: "p.*", from: "purchases AS p WHERE p.organization_id = {row}.organization_id AND p.customer_id = {row}.customer_id"}).connection(),
	"timeline": (&list{node: timelineEventType, alias: "ev", order: timeline.Order, key: "ev.occurred_at", id: "ev.tb",
		rows: timelineRows}).connection(),
}}

// timelineRows are a page of the customer's timeline (§12) and its count, in the SQL of
// package timeline: one branch per source, each by its index.
func timelineRows(c *compiler, row string, f Field, after *paging.Cursor, limit string) (rows, count string) {
	var kinds []string
	if list, ok := f.Args["kinds"].([]any); ok {
		kinds = []string{}
		for _, k := range list {
			if s, ok := k.(string); ok {
				kinds = append(kinds, s)
			}
		}
		if err := timeline.ValidKinds(kinds); err != nil {
			return c.argFail(err), "NULL"
		}
	}
	s := timeline.Scope{Org: row + ".organization_id", Customer: row + ".customer_id"}
	return timeline.SQL(c.args, s, kinds, after, limit)
}

var timelineEventType = &objectType{name: "TimelineEvent", fields: map[string]fieldSQL{
	"id":           column("event_id", asIs),
	"customerId":   column("customer_id", asIs),
	"occurredAt":   column("occurred_at", dateTime),
	"kind":         column("kind", asIs),
	"actor":        column("actor_id", timeline.ActorSQL),
	"amount":       column("amount", decimal),
	"points":       column("points", asIs),
	"balanceAfter": column("balance_after", asIs),
	"reference":    column("reference", asIs),
	"from":         column("from_value", asIs),
	"to":           column("to_value", asIs),
	"fields":       column("fields", asIs),
}}

var consentType = &objectType{name: "Consent", fields: map[string]fieldSQL{
	"purpose":    column("purpose", enum),
	"granted":    column("granted", asIs),
	"channel":    column("channel", enum),
	"evidence":   column("evidence", asIs),
	"recordedBy": column("recorded_by", asIs),
	"recordedAt": column("recorded_at", dateTime),
}}

// consents is the latest record of each purpose (§11), by purpose; a customer whose
// marketing_consent was set before the history existed (no MARKETING_EMAIL record) shows
// that purpose granted, undated.
func consents(c *compiler, row string, f Field) string {
	mine := "k.organization_id = " + row + ".organization_id AND k.customer_id = " + row + ".customer_id"
	latest := "(SELECT DISTINCT ON (k.purpose) k.* FROM customer_consents AS k WHERE " + mine +
		" ORDER BY k.purpose, k.recorded_at DESC, k.consent_id DESC)"
	legacy := "SELECT NULL::uuid, NULL::uuid, NULL::uuid, 'marketing_email'::varchar, true, NULL::varchar, NULL::varchar, NULL::uuid, NULL::timestamptz" +
		" WHERE " + row + ".marketing_consent AND NOT EXISTS (SELECT 1 FROM customer_consents AS k WHERE " + mine + " AND k.purpose = 'marketing_email')"
	return "COALESCE((SELECT json_agg(" + c.object(consentType, "k", f.Selection) + " ORDER BY k.purpose) FROM (" +
		latest + " UNION ALL " + legacy + ") AS k), '[]')"
}

// addressOrder is the order of a customer's addresses: active first, the default first,
// then oldest first.
const addressOrder = "a.is_active DESC, a.is_default DESC, a.created_at, a.address_id"

// addresses(type, includeInactive): SHIPPING and BILLING include BOTH addresses, BOTH only
// those; inactive addresses only when asked for.
func addresses(c *compiler, row string, f Field) string {
	kind := "NULL::text"
	if t := stringArg(f, "type"); t != nil {
		kind = c.args.Add(strings.ToLower(*t)) + "::text"
	}
	inactive := c.args.Add(boolArg(f, "includeInactive")) + "::boolean"
	return "COALESCE((SELECT json_agg(" + c.object(addressType, "a", f.Selection) + " ORDER BY " + addressOrder + ")" +
		" FROM addresses AS a WHERE a.organization_id = " + row + ".organization_id AND a.customer_id = " + row + ".customer_id AND (" + inactive + " OR a.is_active)" +
		" AND (" + kind + " IS NULL OR a.address_type = " + kind + " OR (" + kind + " <> 'both' AND a.address_type = 'both'))), '[]')"
}

var addressType = &objectType{name: "Address", fields: map[string]fieldSQL{
	"id":            column("address_id", asIs),
	"customerId":    column("customer_id", asIs),
	"addressType":   column("address_type", enum),
	"recipientName": column("recipient_name", asIs),
	"addressLine1":  column("address_line1", asIs),
	"addressLine2":  column("address_line2", asIs),
	"city":          column("city", asIs),
	"state":         column("state", asIs),
	"postalCode":    column("postal_code", asIs),
	"country":       column("country", asIs),
	"phone":         column("phone", asIs),
	"isDefault":     column("is_default", asIs),
	"isActive":      column("is_active", asIs),
	"createdAt":     column("created_at", dateTime),
	"updatedAt":     column("updated_at", dateTime),
}}

var loyaltyAccountType = &objectType{name: "LoyaltyAccount", fields: map[string]fieldSQL{
	"id":             column("loyalty_account_id", asIs),
	"pointsBalance":  expr(func(r string) string { return r + ".points_balance + " + vestedNotMoved(r) }),
	"lifetimePoints": expr(func(r string) string { return r + ".lifetime_points + " + vestedNotMoved(r) }),
	"pendingPoints": expr(func(r string) string {
		return "(SELECT COALESCE(sum(x.points_remaining), 0)::int FROM " + pendingLots(r) + ")"
	}),
	"asOf": loyaltyAsOf,
	"pendingLots": func(c *compiler, row string, f Field) string {
		return "COALESCE((SELECT json_agg(" + c.object(pendingLotType, "x", f.Selection) + " ORDER BY x.vests_at, x.transaction_id)" +
			" FROM " + pendingLots(row) + "), '[]')"
	},
	"pointsRedeemed":     column("points_redeemed", asIs),
	"tier":               column("tier", enum),
	"tierSince":          column("tier_since", date),
	"tierExpiresAt":      column("tier_expires_at", date),
	"totalPurchases":     column("total_purchases", asIs),
	"totalSpent":         column("total_spent", decimal),
	"createdAt":          column("created_at", dateTime),
	"nextTier":           expr(func(r string) string { return "upper(" + nextTier(r) + ")" }),
	"pointsToNextTier":   expr(pointsToNextTier),
	"pointsExpiringSoon": pointsExpiringSoon,
	"transactions": (&list{node: transactionType, alias: "t", order: "transactions:created_at:desc", key: "t.created_at", id: "t.transaction_id",
		cols: "t.*", from: "loyalty_transactions AS t WHERE t.organization_id = {row}.organization_id AND t.loyalty_account_id = {row}.loyalty_account_id",
		filter: func(c *compiler, f Field) string {
			if t := stringArg(f, "type"); t != nil {
				return "t.transaction_type = " + c.args.Add(strings.ToLower(*t))
			}
			return ""
		}}).connection(),
}}

// pendingLots is the account's lots still pending now, as x (§13): pending and not yet
// vested, whatever the job has done.
func pendingLots(row string) string { return lotsPending(row, "> now()") }

// lotsPending is the account's lots with points still pending whose vests_at is cond, as x.
func lotsPending(row, cond string) string {
	return "loyalty_transactions AS x WHERE x.organization_id = " + row + ".organization_id AND x.loyalty_account_id = " + row + ".loyalty_account_id" +
		" AND x.points_remaining > 0 AND x.pending AND x.vests_at " + cond
}

// vestedNotMoved is what the account's pending lots whose date has come still hold: vested
// (§13) though the job or the account's next change has not yet moved it into the stored
// balance, so the balance read is never late.
func vestedNotMoved(row string) string {
	return "(SELECT COALESCE(sum(x.points_remaining), 0)::int FROM " + lotsPending(row, "<= now()") + ")"
}

var pendingLotType = &objectType{name: "PendingLot", fields: map[string]fieldSQL{
	"points":      column("points_remaining", asIs),
	"vestsAt":     column("vests_at", dateTime),
	"expiresAt":   column("expires_at", dateTime),
	"referenceId": column("reference_id", asIs),
}}

// loyaltyAsOf: asOf(at) is the account at an instant T, from its ledger (§13) — the transactions
// recorded by T:
//   - balance: Σ points of the vested ones — a pending earn (and a refund's cancellation
//     of it) from its vests_at, VEST transactions left out (they record the move later) —
//     less what lots had lost to expiry by T though the EXPIRE transaction that recorded it
//     came after T (its metadata lists each lot's points and date);
//   - pending: Σ points of those whose vests_at is after T;
//   - lifetime: Σ earn, bonus and refund reversals, vested by T;
//   - tier: the latest change of loyalty_tier_changes by T, bronze before any.
func loyaltyAsOf(c *compiler, row string, f Field) string {
	s, _ := f.Args["at"].(string)
	at, err := loyalty.ValidInstant(s)
	if err != nil {
		return c.argFail(err)
	}
	t := c.args.Add(at) + "::timestamptz"
	account := "organization_id = " + row + ".organization_id AND %[1]s.loyalty_account_id = " + row + ".loyalty_account_id"
	of := func(alias string) string { return alias + "." + fmt.Sprintf(account, alias) }
	vested := "((x.vests_at IS NULL AND x.transaction_type <> 'vest') OR x.vests_at <= " + t + ")"
	return "(SELECT " + c.object(loyaltyAsOfType, "ao", f.Selection) + " FROM (SELECT " + t + " AS at," +
		" COALESCE(sum(x.points) FILTER (WHERE " + vested + "), 0)::int - (SELECT COALESCE(sum((e->>'points')::int), 0)::int" +
		" FROM loyalty_transactions AS y CROSS JOIN LATERAL jsonb_array_elements(y.metadata->'expired') AS e" +
		" WHERE " + of("y") + " AND y.transaction_type = 'expire' AND y.created_at > " + t +
		" AND (e->>'at')::timestamptz <= " + t + ") AS balance," +
		" COALESCE(sum(x.points) FILTER (WHERE x.vests_at > " + t + "), 0)::int AS pending," +
		" COALESCE(sum(x.points) FILTER (WHERE " + vested + " AND (x.transaction_type IN ('earn', 'bonus')" +
		" OR (x.transaction_type = 'adjust' AND x.reference_type = 'refund'))), 0)::int AS lifetime," +
		" COALESCE((SELECT tc.tier FROM loyalty_tier_changes AS tc WHERE " + of("tc") + " AND tc.changed_at <= " + t +
		" ORDER BY tc.changed_at DESC, tc.tier_change_id DESC LIMIT 1), 'bronze') AS tier" +
		" FROM loyalty_transactions AS x WHERE " + of("x") + " AND x.created_at <= " + t + ") AS ao)"
}

var loyaltyAsOfType = &objectType{name: "LoyaltyAccountAsOf", fields: map[string]fieldSQL{
	"at":       column("at", dateTime),
	"balance":  column("balance", asIs),
	"pending":  column("pending", asIs),
	"lifetime": column("lifetime", asIs),
	"tier":     column("tier", enum),
}}

// nextTier is loyalty.NextTier as a CASE over the stored tiers (NULL after the highest).
func nextTier(row string) string {
	var b strings.Builder
	b.WriteString("CASE " + row + ".tier")
	for _, t := range []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum} {
		if next := loyalty.NextTier(t); next != nil {
			fmt.Fprintf(&b, " WHEN '%s' THEN '%s'", t, *next)
		}
	}
	b.WriteString(" END")
	return b.String()
}

// pointsToNextTier is the next tier's threshold less the qualifying points of the
// program's window (§4), never below zero; NULL at the highest tier.
func pointsToNextTier(row string) string {
	threshold := "CASE " + nextTier(row) + " WHEN 'silver' THEN g.threshold_silver WHEN 'gold' THEN g.threshold_gold" +
		" WHEN 'platinum' THEN g.threshold_platinum END"
	return "(SELECT CASE WHEN (" + nextTier(row) + ") IS NOT NULL THEN GREATEST(0, " + threshold + " - " +
		loyalty.QualifyingSQL(row+".organization_id", row+".loyalty_account_id", "now() - make_interval(months => g.qualification_months)", "now()") +
		") END FROM " + program(row) + " ORDER BY g.defaults LIMIT 1)"
}

// program is the loyalty settings of the organization of the account row as g: its row, or
// before it has one (it is created on first use) the defaults that row will have (the
// loyalty_programs migration).
func program(row string) string {
	return `(SELECT false AS defaults, lp.threshold_silver, lp.threshold_gold, lp.threshold_platinum, lp.qualification_months
  FROM loyalty_programs AS lp WHERE lp.organization_id = ` + row + `.organization_id
  UNION ALL SELECT true, 1000, 5000, 15000, 12) AS g`
}

// pointsExpiringSoon(days): what remains in the account's lots expiring within the days
// from now, lots already past their date that the job has not expired yet included.
func pointsExpiringSoon(c *compiler, row string, f Field) string {
	days := 30
	if d := intArg(f, "days"); d != nil {
		days = *d
	}
	if err := loyalty.ValidDays(days); err != nil {
		return c.argFail(err)
	}
	return "(SELECT COALESCE(sum(x.points_remaining), 0)::int FROM loyalty_transactions AS x" +
		" WHERE x.organization_id = " + row + ".organization_id AND x.loyalty_account_id = " + row + ".loyalty_account_id" +
		" AND x.points_remaining > 0 AND NOT (x.pending AND x.vests_at > now())" +
		" AND x.expires_at <= now() + make_interval(days => " + c.args.Add(days) + "::int))"
}

var transactionType = &objectType{name: "LoyaltyTransaction", fields: map[string]fieldSQL{
	"id":            column("transaction_id", asIs),
	"type":          column("transaction_type", enum),
	"points":        column("points", asIs),
	"balanceAfter":  column("balance_after", asIs),
	"referenceType": column("reference_type", asIs),
	"referenceId":   column("reference_id", asIs),
	"description":   column("description", asIs),
	"expiresAt":     column("expires_at", dateTime),
	"vestsAt":       column("vests_at", dateTime),
	"occurredAt":    column("occurred_at", dateTime),
	"createdAt":     column("created_at", dateTime),
}}

var purchaseType = &objectType{name: "Purchase", fields: map[string]fieldSQL{
	"id":             column("purchase_id", asIs),
	"customerId":     column("customer_id", asIs),
	"orderId":        column("order_id", asIs),
	"amount":         column("amount", decimal),
	"refundedAmount": column("refunded_amount", decimal),
	"pointsEarned":   column("points_earned", asIs),
	"channel":        column("channel", asIs),
	"occurredAt":     column("occurred_at", dateTime),
	"createdAt":      column("created_at", dateTime),
}}

var creditAccountType = &objectType{name: "CreditAccount", fields: map[string]fieldSQL{
	"id":                 column("credit_account_id", asIs),
	"creditLimit":        column("credit_limit", decimal),
	"creditUsed":         column("credit_used", decimal),
	"creditAvailable":    column("credit_available", decimal),
	"paymentTermDays":    column("payment_term_days", asIs),
	"status":             column("status", enum),
	"approvedAt":         column("approved_at", dateTime),
	"approvedBy":         column("approved_by", asIs),
	"approvalNotes":      column("approval_notes", asIs),
	"suspendedAt":        column("suspended_at", dateTime),
	"suspensionReason":   column("suspension_reason", asIs),
	"cancelledAt":        column("cancelled_at", dateTime),
	"cancellationReason": column("cancellation_reason", asIs),
	"createdAt":          column("created_at", dateTime),
	"outstanding":        column("credit_used", decimal), // §5: what is owed on open charges
	"overdueAmount": func(_ *compiler, row string, _ Field) string {
		return "(SELECT " + decimal("(ag.days_1_30 + ag.days_31_60 + ag.days_61_90 + ag.over_90)") + " FROM " + aging(row) + ")"
	},
	"aging": func(c *compiler, row string, f Field) string {
		return "(SELECT " + c.object(agingType, "ag", f.Selection) + " FROM " + aging(row) + ")"
	},
	"usages": (&list{node: usageType, alias: "u", order: "usages:created_at:desc", key: "cu.created_at", id: "cu.usage_id",
		cols: "cu.usage_id, cu.order_id, cu.amount, cu.amount_paid, " + credit.EffectiveStatusSQL + " AS status, cu.due_date, cu.created_at",
		from: "credit_usage AS cu WHERE cu.organization_id = {row}.organization_id AND cu.credit_account_id = {row}.credit_account_id",
		filter: func(c *compiler, f Field) string {
			if s := stringArg(f, "status"); s != nil {
				return "(" + credit.EffectiveStatusSQL + ") = " + c.args.Add(strings.ToLower(*s))
			}
			return ""
		}}).connection(),
	"payments": (&list{node: paymentType, alias: "pm", order: "payments:created_at:desc", key: "cp.created_at", id: "cp.payment_id",
		cols: "cp.*", from: "credit_payments AS cp WHERE cp.organization_id = {row}.organization_id AND cp.credit_account_id = {row}.credit_account_id"}).connection(),
	"openedBy":             column("opened_by", asIs),
	"requestedCreditLimit": column("requested_limit", decimal),
	"limitRequestedBy":     column("limit_requested_by", asIs),
	"limitRequestedAt":     column("limit_requested_at", dateTime),
	// §13: the account as it stood at an instant, replayed from the ledgers (credit.AsOfSQL)
	"asOf": func(c *compiler, row string, f Field) string {
		s := stringArg(f, "at")
		if s == nil {
			return c.argFail(apperr.OnField(apperr.Invalid, []string{"at"}, "at is required"))
		}
		at, err := credit.ParseAsOf(*s)
		if err != nil {
			return c.argFail(err)
		}
		return "(SELECT " + c.object(asOfType, "ao", f.Selection) + " FROM " + credit.AsOfSQL(row, c.args.Add(at)+"::timestamptz") + ")"
	},
	// §14: the policy rules the account breaks now (credit.PolicyWarningsSQL), in creditCheck's order
	"policyWarnings": func(c *compiler, row string, f Field) string {
		return "COALESCE((SELECT json_agg(" + c.object(policyWarningType, "w", f.Selection) + " ORDER BY w.ord) FROM " +
			credit.PolicyWarningsSQL(row) + "), '[]')"
	},
}}

var asOfType = &objectType{name: "CreditAccountAsOf", fields: map[string]fieldSQL{
	"at":              column("at", dateTime),
	"creditLimit":     column("credit_limit", decimal),
	"creditUsed":      column("credit_used", decimal),
	"creditAvailable": column("credit_available", decimal),
	"outstanding":     column("outstanding", decimal),
	"overdueAmount":   column("overdue_amount", decimal),
	"aging": func(c *compiler, row string, f Field) string {
		return c.object(agingType, row, f.Selection) // the buckets are columns of the as-of row
	},
}}

var policyWarningType = &objectType{name: "CreditPolicyWarning", fields: map[string]fieldSQL{
	"code":    column("code", asIs),
	"message": column("message", asIs),
}}

// aging is a one-row subquery aliased ag of what the account owes on its open usages by
// days past due (§5): today − due date ≤ 0 is current, then 1–30, 31–60, 61–90, over 90.
func aging(row string) string {
	bucket := func(cond string) string {
		return "COALESCE(sum(cu.amount - cu.amount_paid) FILTER (WHERE " + cond + "), 0.00)"
	}
	days := credit.TodaySQL + " - cu.due_date"
	return "(SELECT " + bucket(days+" <= 0") + " AS current, " +
		bucket(days+" BETWEEN 1 AND 30") + " AS days_1_30, " +
		bucket(days+" BETWEEN 31 AND 60") + " AS days_31_60, " +
		bucket(days+" BETWEEN 61 AND 90") + " AS days_61_90, " +
		bucket(days+" > 90") + " AS over_90" +
		" FROM credit_usage AS cu WHERE cu.organization_id = " + row + ".organization_id AND cu.credit_account_id = " + row + ".credit_account_id" +
		" AND cu.status IN ('pending', 'overdue')) AS ag"
}

var agingType = &objectType{name: "CreditAging", fields: map[string]fieldSQL{
	"current":    column("current", decimal),
	"days1To30":  column("days_1_30", decimal),
	"days31To60": column("days_31_60", decimal),
	"days61To90": column("days_61_90", decimal),
	"over90":     column("over_90", decimal),
}}

var usageType = &objectType{name: "CreditUsage", fields: map[string]fieldSQL{
	"id":         column("usage_id", asIs),
	"orderId":    column("order_id", asIs),
	"amount":     column("amount", decimal),
	"amountPaid": column("amount_paid", decimal),
	// what the usage still owes: amount − paid, nothing once cancelled (status is the effective one)
	"outstanding": expr(func(r string) string {
		return decimal("(CASE WHEN " + r + ".status = 'cancelled' THEN 0.00 ELSE " + r + ".amount - " + r + ".amount_paid END)")
	}),
	"status":    column("status", enum),
	"dueDate":   column("due_date", date),
	"createdAt": column("created_at", dateTime),
}}

var paymentType = &objectType{name: "CreditPayment", fields: map[string]fieldSQL{
	"id":               column("payment_id", asIs),
	"amount":           column("amount", decimal),
	"paymentReference": column("payment_reference", asIs),
	"paymentDate":      column("payment_date", date),
	"createdAt":        column("created_at", dateTime),
}}

var segmentType = &objectType{name: "CustomerSegment", fields: map[string]fieldSQL{
	"segmentCode":           column("segment_code", enum),
	"rfmRecency":            column("rfm_recency", asIs),
	"rfmFrequency":          column("rfm_frequency", asIs),
	"rfmMonetary":           column("rfm_monetary", asIs),
	"rfmScore":              column("rfm_score", asIs),
	"lifetimeValue":         column("lifetime_value", decimal),
	"averageOrderValue":     column("average_order_value", decimal),
	"totalOrders":           column("total_orders", asIs),
	"daysSinceLastPurchase": column("days_since_last_purchase", asIs),
	"isVip":                 column("is_vip", asIs),
	"isAtRisk":              column("is_at_risk", asIs),
	"calculatedAt":          column("calculated_at", dateTime),
}}

// validTime accepts a cursor key of the nested lists: an RFC 3339 instant.
func validTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// fieldTable lists the type of every compiled object by name, with its fields: what the
// tests compare with the schema.
func fieldTable() map[string][]string {
	out := map[string][]string{}
	for _, t := range []*objectType{customerType, addressType, loyaltyAccountType, pendingLotType, loyaltyAsOfType, transactionType, purchaseType,
		creditAccountType, agingType, usageType, paymentType, policyWarningType, asOfType, segmentType, timelineEventType} {
		for name := range t.fields {
			out[t.name] = append(out[t.name], name)
		}
	}
	return out
}
