// Package json360 compiles the selection of a Customer 360 query — a customer and what hangs
// off it: addresses, loyalty account and its transactions, credit account and its usages,
// segment — into one SQL expression that builds the customer's JSON exactly as the API
// answers it (response keys and aliases, scalar formats, nested pages with their cursors).
// PostgreSQL then renders the response and the server only copies it out, the approach of
// PostGraphile, for the reads that dashboards and apps make most; without it, most of a page
// of 50 customers went into decoding rows and marshaling fields one by one.
//
// What it does not know — a field that needs Go (pointsToNextTier, pointsExpiringSoon,
// aging, overdueAmount, payments, purchases) or arguments it would reject — makes Customer
// answer ok = false, and the resolvers answer the query the usual way, errors included. The
// graph tests run every compilable field both ways and compare the answers.
//
// The SQL holds no value from the request but validated ones: response keys are GraphQL
// names (letters, digits, underscores), and arguments pass the domain's own checks (page
// sizes, cursors, enum values) before they are written as literals.
package json360

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"customerservice/credit"
	"customerservice/loyalty"
	"customerservice/models"
)

// Customer compiles fields, the selection on a Customer (collected, as
// graphql.CollectFields returns it), into an SQL expression over customers AS c. ok is
// false when the selection has a field this package does not compile.
func Customer(op *graphql.OperationContext, fields []graphql.CollectedField) (sql string, ok bool) {
	c := compiler{op: op}
	sql = c.fields(fields, "Customer", c.customerField)
	return sql, !c.failed
}

type compiler struct {
	op     *graphql.OperationContext
	failed bool
}

// fieldFunc compiles one field of an object: its SQL value, or "" when it cannot.
type fieldFunc func(f graphql.CollectedField) string

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// maxPairs: json_build_object takes at most 100 arguments.
const maxPairs = 50

// object is json_build_object of the fields of sel (on typeName) in selection order, each
// under its response key.
func (c *compiler) object(sel ast.SelectionSet, typeName string, field fieldFunc) string {
	return c.fields(graphql.CollectFields(c.op, sel, []string{typeName}), typeName, field)
}

// fields is json_build_object of collected fields; __typename is the type's name.
func (c *compiler) fields(fields []graphql.CollectedField, typeName string, field fieldFunc) string {
	if c.failed {
		return ""
	}
	if len(fields) > maxPairs {
		c.failed = true
		return ""
	}
	pairs := make([]string, 0, 2*len(fields))
	for _, f := range fields {
		if !graphqlName.MatchString(f.Alias) {
			c.failed = true
			return ""
		}
		v := "'" + typeName + "'"
		if f.Name != "__typename" {
			v = field(f)
		}
		if v == "" {
			c.failed = true
			return ""
		}
		pairs = append(pairs, "'"+f.Alias+"'", v)
	}
	return "json_build_object(" + strings.Join(pairs, ", ") + ")"
}

// ---- scalars: the formats of graph/scalars, in SQL ----------------------------------------------

// dateTime is RFC 3339 in UTC with the fraction's trailing zeros dropped, as Go's
// time.RFC3339Nano writes it (scalars.MarshalDateTime).
func dateTime(col string) string {
	return `rtrim(rtrim(to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') || 'Z'`
}

func date(col string) string { return "to_char(" + col + ", 'YYYY-MM-DD')" }

// decimal is the text of a numeric(12,2): always two decimals, as scalars.MarshalDecimal.
func decimal(col string) string { return col + "::text" }

// enum is a stored lower-case value as the API's UPPER_CASE one (§8).
func enum(col string) string { return "upper(" + col + "::text)" }

// column reads a column as is: text, integers, booleans, uuids (JSON strings), arrays.
func column(col string) string { return col }

// scalarFields are the fields of a type that read one expression over its row alias.
type scalarFields map[string]func(alias string) string

func (s scalarFields) compile(alias string, extra fieldFunc) fieldFunc {
	return func(f graphql.CollectedField) string {
		if col, ok := s[f.Name]; ok {
			if len(f.Arguments) > 0 {
				return ""
			}
			return col(alias)
		}
		if extra != nil {
			return extra(f)
		}
		return ""
	}
}

func col(name string, format func(string) string) func(string) string {
	return func(alias string) string { return format(alias + "." + name) }
}

// ---- Customer -----------------------------------------------------------------------------------

var customerScalars = scalarFields{
	"id":                col("customer_id", column),
	"customerType":      col("customer_type", enum),
	"firstName":         col("first_name", column),
	"lastName":          col("last_name", column),
	"fullName":          func(a string) string { return a + ".first_name || ' ' || " + a + ".last_name" },
	"email":             col("email", column),
	"phone":             col("phone", column),
	"documentType":      col("document_type", enum),
	"documentNumber":    col("document_number", column),
	"birthDate":         col("birth_date", date),
	"gender":            col("gender", column),
	"status":            col("status", enum),
	"statusReason":      col("status_reason", column),
	"preferredLanguage": col("preferred_language", column),
	"marketingConsent":  col("marketing_consent", column),
	"tags":              col("tags", column),
	"metadata":          col("metadata", column),
	"notes":             col("notes", column),
	"createdAt":         col("created_at", dateTime),
	"updatedAt":         col("updated_at", dateTime),
	"lastPurchaseAt":    col("last_purchase_at", dateTime),
	"erasedAt":          col("erased_at", dateTime),
}

func (c *compiler) customerField(f graphql.CollectedField) string {
	return customerScalars.compile("c", func(f graphql.CollectedField) string {
		switch f.Name {
		case "addresses":
			return c.addresses(f)
		case "defaultShippingAddress":
			return c.defaultAddress(f, models.AddressTypeShipping)
		case "defaultBillingAddress":
			return c.defaultAddress(f, models.AddressTypeBilling)
		case "loyaltyAccount":
			return `(SELECT ` + c.object(f.Selections, "LoyaltyAccount", c.loyaltyField) +
				` FROM loyalty_accounts AS la WHERE la.customer_id = c.customer_id)`
		case "creditAccount":
			return `(SELECT ` + c.object(f.Selections, "CreditAccount", c.creditField) +
				` FROM credit_accounts AS ca WHERE ca.customer_id = c.customer_id)`
		case "segment":
			return `(SELECT ` + c.object(f.Selections, "CustomerSegment", segmentScalars.compile("s", nil)) +
				` FROM customer_segments AS s WHERE s.customer_id = c.customer_id)`
		}
		return ""
	})(f)
}

// ---- Address ------------------------------------------------------------------------------------

var addressScalars = scalarFields{
	"id":            col("address_id", column),
	"customerId":    col("customer_id", column),
	"addressType":   col("address_type", enum),
	"recipientName": col("recipient_name", column),
	"addressLine1":  col("address_line1", column),
	"addressLine2":  col("address_line2", column),
	"city":          col("city", column),
	"state":         col("state", column),
	"postalCode":    col("postal_code", column),
	"country":       col("country", column),
	"phone":         col("phone", column),
	"isDefault":     col("is_default", column),
	"isActive":      col("is_active", column),
	"createdAt":     col("created_at", dateTime),
	"updatedAt":     col("updated_at", dateTime),
}

// addressOrder is the order the addresses of a customer are listed in (customers' 360 read).
const addressOrder = "a.is_active DESC, a.is_default DESC, a.created_at, a.address_id"

// serving is the condition that an address serves kind (models.AddressType.Serves).
func serving(kind models.AddressType) string {
	return "a.address_type IN ('" + string(kind) + "', '" + string(models.AddressTypeBoth) + "')"
}

// addresses(type, includeInactive), as customers.FilterAddresses.
func (c *compiler) addresses(f graphql.CollectedField) string {
	args := f.ArgumentMap(c.op.Variables)
	where := []string{"a.customer_id = c.customer_id"}
	inactive, isBool := args["includeInactive"].(bool)
	if args["includeInactive"] != nil && !isBool {
		return ""
	}
	if !inactive {
		where = append(where, "a.is_active")
	}
	if t, ok := args["type"]; ok && t != nil {
		s, _ := t.(string)
		switch kind := models.AddressType(strings.ToLower(s)); kind {
		case models.AddressTypeShipping, models.AddressTypeBilling:
			where = append(where, serving(kind))
		case models.AddressTypeBoth:
			where = append(where, "a.address_type = 'both'")
		default:
			return ""
		}
	}
	return `COALESCE((SELECT json_agg(` + c.object(f.Selections, "Address", addressScalars.compile("a", nil)) +
		` ORDER BY ` + addressOrder + `) FROM addresses AS a WHERE ` + strings.Join(where, " AND ") + `), '[]')`
}

// defaultAddress is the active default address usable as kind (customers.DefaultAddress).
func (c *compiler) defaultAddress(f graphql.CollectedField, kind models.AddressType) string {
	return `(SELECT ` + c.object(f.Selections, "Address", addressScalars.compile("a", nil)) +
		` FROM addresses AS a WHERE a.customer_id = c.customer_id AND a.is_active AND a.is_default AND ` +
		serving(kind) + ` ORDER BY ` + addressOrder + ` LIMIT 1)`
}

// ---- LoyaltyAccount and its transactions --------------------------------------------------------

var loyaltyScalars = scalarFields{
	"id":             col("loyalty_account_id", column),
	"pointsBalance":  col("points_balance", column),
	"lifetimePoints": col("lifetime_points", column),
	"pointsRedeemed": col("points_redeemed", column),
	"tier":           col("tier", enum),
	"tierSince":      col("tier_since", date),
	"tierExpiresAt":  col("tier_expires_at", date),
	"totalPurchases": col("total_purchases", column),
	"totalSpent":     col("total_spent", decimal),
	"createdAt":      col("created_at", dateTime),
	"nextTier":       nextTier,
}

// nextTier is loyalty.NextTier as a CASE over the tiers (NULL after the highest).
func nextTier(alias string) string {
	var b strings.Builder
	b.WriteString("CASE " + alias + ".tier")
	for _, t := range []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum} {
		if next := loyalty.NextTier(t); next != nil {
			fmt.Fprintf(&b, " WHEN '%s' THEN '%s'", t, strings.ToUpper(string(*next)))
		}
	}
	b.WriteString(" END")
	return b.String()
}

var transactionScalars = scalarFields{
	"id":            col("transaction_id", column),
	"type":          col("transaction_type", enum),
	"points":        col("points", column),
	"balanceAfter":  col("balance_after", column),
	"referenceType": col("reference_type", column),
	"referenceId":   col("reference_id", column),
	"description":   col("description", column),
	"expiresAt":     col("expires_at", dateTime),
	"createdAt":     col("created_at", dateTime),
}

func (c *compiler) loyaltyField(f graphql.CollectedField) string {
	return loyaltyScalars.compile("la", func(f graphql.CollectedField) string {
		if f.Name != "transactions" {
			return ""
		}
		first, after, filter, ok := c.pageArgs(f, "type")
		if !ok {
			return ""
		}
		page, err := loyalty.NewPage(first, after)
		if err != nil {
			return ""
		}
		a := loyalty.TransactionsArgs{Page: page, Type: models.LoyaltyTransactionType(filter)}
		rows, count, err := loyalty.TransactionRowsSQL(a)
		if err != nil {
			return ""
		}
		return c.connection(f, connection{
			typeName: "LoyaltyTransaction", alias: "t", rows: rows, count: count, first: page.First,
			order: "t.created_at DESC, t.transaction_id DESC",
			// loyalty's cursor: base64url of {"t": RFC 3339 time, "id": uuid}
			cursor: base64URL(`'{"t":"' || ` + dateTime("t.created_at") + ` || '","id":"' || t.transaction_id || '"}'`),
			node:   transactionScalars.compile("t", nil),
		})
	})(f)
}

// ---- CreditAccount and its usages ---------------------------------------------------------------

var creditScalars = scalarFields{
	"id":                 col("credit_account_id", column),
	"creditLimit":        col("credit_limit", decimal),
	"creditUsed":         col("credit_used", decimal),
	"creditAvailable":    col("credit_available", decimal),
	"paymentTermDays":    col("payment_term_days", column),
	"status":             col("status", enum),
	"approvedAt":         col("approved_at", dateTime),
	"approvedBy":         col("approved_by", column),
	"approvalNotes":      col("approval_notes", column),
	"suspendedAt":        col("suspended_at", dateTime),
	"suspensionReason":   col("suspension_reason", column),
	"cancelledAt":        col("cancelled_at", dateTime),
	"cancellationReason": col("cancellation_reason", column),
	"createdAt":          col("created_at", dateTime),
	"outstanding":        col("credit_used", decimal), // §5: what is owed on open charges
}

var usageScalars = scalarFields{
	"id":         col("usage_id", column),
	"orderId":    col("order_id", column),
	"amount":     col("amount", decimal),
	"amountPaid": col("amount_paid", decimal),
	// credit.UsageOutstanding: amount − paid, zero once cancelled (status is the effective one)
	"outstanding": func(a string) string {
		return "CASE WHEN " + a + ".status = '" + string(models.UsageCancelled) + "' THEN 0.00 ELSE " +
			a + ".amount - " + a + ".amount_paid END::text"
	},
	"status":    col("status", enum),
	"dueDate":   col("due_date", date),
	"createdAt": col("created_at", dateTime),
}

func (c *compiler) creditField(f graphql.CollectedField) string {
	return creditScalars.compile("ca", func(f graphql.CollectedField) string {
		if f.Name != "usages" {
			return ""
		}
		first, after, filter, ok := c.pageArgs(f, "status")
		if !ok {
			return ""
		}
		page, err := credit.NewPage(first, after)
		if err != nil {
			return ""
		}
		a := credit.UsagesArgs{Page: page, Status: models.CreditUsageStatus(filter)}
		rows, count, err := credit.UsageRowsSQL(a)
		if err != nil {
			return ""
		}
		return c.connection(f, connection{
			typeName: "CreditUsage", alias: "u", rows: rows, count: count, first: page.First,
			order:       "u.created_at DESC, u.usage_id DESC",
			hasPrevious: page.After != credit.Cursor{},
			// credit's cursor: base64url of {"t": Unix microseconds, "i": uuid}
			cursor: base64URL(`'{"t":' || (extract(epoch FROM u.created_at) * 1000000)::bigint || ',"i":"' || u.usage_id || '"}'`),
			node:   usageScalars.compile("u", nil),
		})
	})(f)
}

// ---- CustomerSegment ----------------------------------------------------------------------------

var segmentScalars = scalarFields{
	"segmentCode":           col("segment_code", enum),
	"rfmRecency":            col("rfm_recency", column),
	"rfmFrequency":          col("rfm_frequency", column),
	"rfmMonetary":           col("rfm_monetary", column),
	"rfmScore":              col("rfm_score", column),
	"lifetimeValue":         col("lifetime_value", decimal),
	"averageOrderValue":     col("average_order_value", decimal),
	"totalOrders":           col("total_orders", column),
	"daysSinceLastPurchase": col("days_since_last_purchase", column),
	"isVip":                 col("is_vip", column),
	"isAtRisk":              col("is_at_risk", column),
	"calculatedAt":          col("calculated_at", dateTime),
}

// ---- nested connections -------------------------------------------------------------------------

// connection is one page of a nested list: rows (the domain's SQL: First+1 rows, newest
// first), numbered rn in order; the page is the first `first` of them.
type connection struct {
	typeName    string // of the nodes; the connection's is typeName+"Connection"
	alias       string // of the rows
	rows, count string
	first       int
	order       string
	hasPrevious bool
	cursor      string // SQL of a row's cursor
	node        fieldFunc
}

// connection compiles a connection field: edges, nodes, pageInfo, totalCount, as
// aggregates over the page's rows (one row of output even when the page is empty).
func (c *compiler) connection(f graphql.CollectedField, conn connection) string {
	inPage := fmt.Sprintf(" FILTER (WHERE %s.rn <= %d)", conn.alias, conn.first)
	byRN := " ORDER BY " + conn.alias + ".rn"
	field := func(f graphql.CollectedField) string {
		switch f.Name {
		case "nodes":
			return "COALESCE(json_agg(" + c.object(f.Selections, conn.typeName, conn.node) + byRN + ")" + inPage + ", '[]')"
		case "edges":
			edge := c.object(f.Selections, conn.typeName+"Edge", func(f graphql.CollectedField) string {
				switch f.Name {
				case "cursor":
					return conn.cursor
				case "node":
					return c.object(f.Selections, conn.typeName, conn.node)
				}
				return ""
			})
			return "COALESCE(json_agg(" + edge + byRN + ")" + inPage + ", '[]')"
		case "pageInfo":
			return c.object(f.Selections, "PageInfo", func(f graphql.CollectedField) string {
				switch f.Name {
				case "hasNextPage":
					return fmt.Sprintf("count(*) > %d", conn.first)
				case "hasPreviousPage":
					return fmt.Sprint(conn.hasPrevious)
				case "startCursor":
					return "(array_agg(" + conn.cursor + byRN + ")" + inPage + ")[1]"
				case "endCursor":
					return "(array_agg(" + conn.cursor + byRN + " DESC)" + inPage + ")[1]"
				}
				return ""
			})
		case "totalCount":
			return conn.count
		}
		return ""
	}
	return "(SELECT " + c.object(f.Selections, conn.typeName+"Connection", field) +
		" FROM (SELECT " + conn.alias + ".*, row_number() OVER (ORDER BY " + conn.order + ") AS rn FROM (" +
		conn.rows + ") AS " + conn.alias + ") AS " + conn.alias + ")"
}

// base64URL is base64url without padding of the UTF-8 of a text expression, as Go's
// base64.RawURLEncoding (PostgreSQL's encoder also breaks lines every 76 characters).
func base64URL(text string) string {
	return "translate(encode(convert_to(" + text + ", 'UTF8'), 'base64'), E'+/=\\n', '-_')"
}

// pageArgs reads the arguments of a nested connection field: first, after and the enum
// argument named filter (its value lower-cased as stored, "" when absent); ok is false for a
// value of another type (left to the resolvers to report). The domain validates the values.
func (c *compiler) pageArgs(f graphql.CollectedField, filter string) (first *int, after *string, value string, ok bool) {
	args := f.ArgumentMap(c.op.Variables)
	switch v := args["first"].(type) {
	case nil:
	case int64:
		n := int(v)
		first = &n
	case int:
		first = &v
	case json.Number:
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, nil, "", false
		}
		first = &n
	default:
		return nil, nil, "", false
	}
	switch v := args["after"].(type) {
	case nil:
	case string:
		after = &v
	default:
		return nil, nil, "", false
	}
	switch v := args[filter].(type) {
	case nil:
	case string:
		value = strings.ToLower(v)
	default:
		return nil, nil, "", false
	}
	return first, after, value, true
}
