package customer360

import (
	"strings"

	"customerservice/db"
)

// The parts of a customer's data export (exportCustomerData, §11) that are the 360's
// types: the customer with its addresses (inactive ones too), accounts, segment and current
// consents, and every row of its purchases, loyalty transactions, credit charges, credit
// payments and consent records — each rendered by this package's table of fields, exactly
// as the API renders it, but whole (not paged) and oldest first. Package dataexport adds
// what is not a 360 type and runs the statement.

// ExportSection is one member of the export document: its key and the SQL of its JSON
// value over the customer row aliased c.
type ExportSection struct {
	Key, SQL string
}

// fields is a selection of the named fields, each under its own name.
func fields(names ...string) []Field {
	out := make([]Field, len(names))
	for i, n := range names {
		out[i] = Field{Name: n, Alias: n}
	}
	return out
}

// The fields of each type the export holds: every field without arguments or a page (a
// connection is exported whole, as its own section).
var (
	exportAddress = fields("id", "addressType", "recipientName", "addressLine1", "addressLine2", "city", "state",
		"postalCode", "country", "phone", "isDefault", "isActive", "createdAt", "updatedAt")
	exportLoyaltyAccount = fields("id", "pointsBalance", "lifetimePoints", "pendingPoints", "pointsRedeemed", "tier",
		"tierSince", "tierExpiresAt", "totalPurchases", "totalSpent", "nextTier", "pointsToNextTier", "createdAt")
	exportCreditAccount = append(fields("id", "creditLimit", "creditUsed", "creditAvailable", "paymentTermDays", "status",
		"approvedAt", "approvedBy", "approvalNotes", "suspendedAt", "suspensionReason", "cancelledAt", "cancellationReason",
		"outstanding", "overdueAmount", "createdAt"),
		Field{Name: "aging", Alias: "aging", Selection: fields("current", "days1To30", "days31To60", "days61To90", "over90")})
	exportSegment = fields("segmentCode", "rfmRecency", "rfmFrequency", "rfmMonetary", "rfmScore", "lifetimeValue",
		"averageOrderValue", "totalOrders", "daysSinceLastPurchase", "isVip", "isAtRisk", "calculatedAt")
	exportConsent  = fields("purpose", "granted", "channel", "evidence", "recordedBy", "recordedAt")
	exportCustomer = append(fields("id", "externalId", "customerType", "firstName", "lastName", "email", "phone",
		"documentType", "documentNumber", "documentCheckDigit", "birthDate", "gender", "status", "statusReason",
		"preferredLanguage", "marketingConsent", "tags", "metadata", "notes", "createdAt", "updatedAt", "lastPurchaseAt", "erasedAt", "mergedInto"),
		Field{Name: "addresses", Alias: "addresses", Args: map[string]any{"includeInactive": true}, Selection: exportAddress},
		Field{Name: "loyaltyAccount", Alias: "loyaltyAccount", Selection: exportLoyaltyAccount},
		Field{Name: "creditAccount", Alias: "creditAccount", Selection: exportCreditAccount},
		Field{Name: "segment", Alias: "segment", Selection: exportSegment},
		Field{Name: "consents", Alias: "consents", Selection: exportConsent})
	exportPurchase    = fields("id", "orderId", "amount", "refundedAmount", "pointsEarned", "channel", "occurredAt", "createdAt")
	exportTransaction = fields("id", "type", "points", "balanceAfter", "referenceType", "referenceId", "description",
		"expiresAt", "vestsAt", "occurredAt", "createdAt")
	exportUsage   = fields("id", "orderId", "amount", "amountPaid", "outstanding", "status", "dueDate", "createdAt")
	exportPayment = fields("id", "amount", "paymentReference", "paymentDate", "createdAt")
)

// ExportSections compiles the 360's sections of the export over the customer row c of the
// organization org (the SQL of a uuid, a bind parameter of args): every subquery filters on
// org itself, so on Citus the statement is routed whole to the organization's shard.
func ExportSections(args *db.Args, org string) ([]ExportSection, error) {
	c := &compiler{args: args, org: org}
	account := func(table string) string {
		return table + " AS x WHERE x.organization_id = " + org + " AND x.customer_id = c.customer_id"
	}
	sections := []ExportSection{
		{"customer", c.object(customerType, "c", exportCustomer)},
		{"purchases", purchasesList.all(c, "c", exportPurchase)},
		{"loyaltyTransactions", "COALESCE((SELECT " + transactionsList.all(c, "x", exportTransaction) + " FROM " +
			account("loyalty_accounts") + "), '[]')"},
		{"creditUsages", "COALESCE((SELECT " + usagesList.all(c, "x", exportUsage) + " FROM " +
			account("credit_accounts") + "), '[]')"},
		{"creditPayments", "COALESCE((SELECT " + paymentsList.all(c, "x", exportPayment) + " FROM " +
			account("credit_accounts") + "), '[]')"},
		{"consentHistory", consentHistoryList.all(c, "c", exportConsent)},
	}
	return sections, c.err
}

// all is every row of the list under the parent row, oldest first, as one JSON array of
// its node rendered for sel: the export's form of a list (§11), not paged.
func (l *list) all(c *compiler, row string, sel []Field) string {
	a := l.alias
	from := strings.ReplaceAll(l.from, "= {row}.organization_id", "= "+c.org)
	from = strings.ReplaceAll(from, "{row}", row)
	keyCol := a + "." + l.key[strings.Index(l.key, ".")+1:]
	idCol := a + "." + l.id[strings.Index(l.id, ".")+1:]
	return "COALESCE((SELECT json_agg(" + c.object(l.node, a, sel) + " ORDER BY " + keyCol + ", " + idCol + ") FROM (SELECT " +
		l.cols + " FROM " + from + ") AS " + a + "), '[]')"
}

// DateTimeSQL is the API's DateTime format (RFC 3339 in UTC) of a timestamptz expression,
// for the export's sections that are not 360 types.
func DateTimeSQL(col string) string { return dateTime(col) }
