package customers

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"customerservice/apperr"
	"customerservice/paging"
)

// OrderField is what the customer list can be ordered by (§8).
type OrderField string

const (
	OrderCreatedAt      OrderField = "created_at"
	OrderLastPurchaseAt OrderField = "last_purchase_at"
	OrderLastName       OrderField = "last_name"
	OrderPointsBalance  OrderField = "points_balance"
	OrderLifetimeValue  OrderField = "lifetime_value"
)

// Order is the list's order; ties are always broken by customer id in the same direction.
type Order struct {
	Field OrderField
	Desc  bool
}

// DefaultOrder is newest first (§8).
var DefaultOrder = Order{Field: OrderCreatedAt, Desc: true}

// sortKey is how one order field sorts. Customers without a value sort as the lowest (§8),
// so nullable keys are COALESCEd to a sentinel below every real value: the row comparison
// `(key, customer_id) > (?, ?)` of keyset paging then needs no NULL handling.
type sortKey struct {
	expr   string // the key in ORDER BY and in the keyset comparison
	sqlTyp string // the SQL type a cursor's key (a string) is cast to
	joins  joins  // the tables expr reads besides customers
	// selected is what the page reads to build cursors: the key as text, or a timestamp
	// column itself (scanned as RFC 3339; NULL is the -infinity sentinel).
	selected string
	valid    func(string) bool // whether a cursor's key can be cast to sqlTyp
}

// negInfinity is the timestamp sentinel of a missing time, and its form in a cursor.
const negInfinity = "-infinity"

// lifetimeValueSentinel is below any numeric(12,2).
const lifetimeValueSentinel = "-10000000000000"

var sortKeys = map[OrderField]sortKey{
	OrderCreatedAt: {
		expr: "c.created_at", sqlTyp: "timestamptz", selected: "c.created_at", valid: validTime,
	},
	OrderLastPurchaseAt: {
		expr:   "COALESCE(c.last_purchase_at, '-infinity'::timestamptz)",
		sqlTyp: "timestamptz", selected: "c.last_purchase_at", valid: validTime,
	},
	OrderLastName: {
		expr: "c.last_name", sqlTyp: "text", selected: "c.last_name", valid: validText,
	},
	OrderPointsBalance: {
		// points_balance is never negative (§4), so -1 is below every enrolled customer.
		expr: "COALESCE(la.points_balance, -1)", sqlTyp: "integer", joins: joinLoyalty,
		selected: "COALESCE(la.points_balance, -1)::text", valid: validInt,
	},
	OrderLifetimeValue: {
		expr:   "COALESCE(s.lifetime_value, " + lifetimeValueSentinel + ")",
		sqlTyp: "numeric", joins: joinSegment,
		selected: "COALESCE(s.lifetime_value, " + lifetimeValueSentinel + ")::text", valid: validDecimal,
	},
}

func validTime(s string) bool {
	if s == negInfinity {
		return true
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func validInt(s string) bool { _, err := strconv.ParseInt(s, 10, 32); return err == nil }

var maxDecimalKey = decimal.New(1, 13)

func validDecimal(s string) bool {
	d, err := decimal.NewFromString(s)
	return err == nil && !strings.ContainsAny(s, "eE") && d.Abs().LessThanOrEqual(maxDecimalKey)
}

// name is the order as cursors record it: a cursor of one order is refused by another.
func (o Order) name() string {
	if o.Desc {
		return string(o.Field) + ":desc"
	}
	return string(o.Field)
}

// decodeCursor reads a cursor given as argument arg (nil or empty: none) and checks it was
// made for order.
func decodeCursor(arg string, s *string, order Order) (*paging.Cursor, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	key := sortKeys[order.Field]
	c, err := paging.Decode(arg, *s, order.name(), key.valid)
	if err != nil {
		// A well-formed cursor of another order says so.
		for _, other := range []bool{false, true} {
			for f, k := range sortKeys {
				o := Order{Field: f, Desc: other}
				if o != order {
					if _, e := paging.Decode(arg, *s, o.name(), k.valid); e == nil {
						return nil, apperr.OnField(apperr.Invalid, []string{arg},
							"%s was made for another orderBy; start again without it", arg)
					}
				}
			}
		}
		return nil, err
	}
	return &c, nil
}
