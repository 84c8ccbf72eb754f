package credit

import (
	"time"

	"customerservice/apperr"
)

// ParseAsOf reads the instant of CreditAccount.asOf(at): RFC 3339, years 0001–9999 (as the
// DateTime scalar), else INVALID on at; an instant later than now (the server's clock) is
// INVALID too — the future has not happened, and its answer would change until it comes
// (LoyaltyAccount.asOf refuses it alike).
func ParseAsOf(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.UTC().Year() < 1 || t.UTC().Year() > 9999 {
		return time.Time{}, apperr.OnField(apperr.Invalid, []string{"at"}, "at must be an RFC 3339 instant such as \"2026-11-30T23:59:59Z\"")
	}
	if t.After(time.Now()) {
		return time.Time{}, apperr.OnField(apperr.Invalid, []string{"at"}, "at must not be later than now")
	}
	return t.UTC(), nil
}

// AsOfSQL is a subquery aliased ao of one row — the account row (SQL alias of a
// credit_accounts row) as it stood at the instant at (SQL, a timestamptz) — or none when
// the account was opened after it (§13). Its columns: at, credit_limit, credit_used,
// credit_available, outstanding (= credit_used), overdue_amount and the aging buckets of
// §5 (current, days_1_30, days_31_60, days_61_90, over_90) counted on at's UTC date.
//
// It replays the append-only ledgers, never a mutable balance as it is now:
//   - the limit is the last entry of credit_limit_changes at or before at;
//   - a charge counts from its created_at, until its cancelled_at;
//   - what a charge owed at at is its amount less the allocations (credit_allocations) made
//     at or before at, written as amount − amount_paid + the allocations made after at, so
//     that what was paid before the ledger existed counts as paid from the start.
//
// Accounts older than the ledgers have no limit entry before their first change: their
// limit then reads as the current one (decisions-credit-risk.md).
func AsOfSQL(row, at string) string {
	org, acc := row+".organization_id", row+".credit_account_id"
	day := "(" + at + " AT TIME ZONE 'UTC')::date"
	bucket := func(cond string) string {
		return "COALESCE(sum(aoy.unpaid) FILTER (WHERE " + cond + "), 0.00)"
	}
	return "(SELECT " + at + " AS at, aol.credit_limit, aou.used AS credit_used, aol.credit_limit - aou.used AS credit_available," +
		" aou.used AS outstanding, aou.days_1_30 + aou.days_31_60 + aou.days_61_90 + aou.over_90 AS overdue_amount," +
		" aou.current, aou.days_1_30, aou.days_31_60, aou.days_61_90, aou.over_90" +
		" FROM (SELECT COALESCE((SELECT lc.credit_limit FROM credit_limit_changes AS lc WHERE lc.organization_id = " + org +
		" AND lc.credit_account_id = " + acc + " AND lc.changed_at <= " + at + " ORDER BY lc.changed_at DESC LIMIT 1), " +
		row + ".credit_limit) AS credit_limit) AS aol," +
		" (SELECT COALESCE(sum(aoy.unpaid), 0.00) AS used, " + bucket("aoy.days <= 0") + " AS current, " +
		bucket("aoy.days BETWEEN 1 AND 30") + " AS days_1_30, " + bucket("aoy.days BETWEEN 31 AND 60") + " AS days_31_60, " +
		bucket("aoy.days BETWEEN 61 AND 90") + " AS days_61_90, " + bucket("aoy.days > 90") + " AS over_90" +
		" FROM (SELECT aox.amount - aox.amount_paid + COALESCE((SELECT sum(al.amount) FROM credit_allocations AS al" +
		" WHERE al.organization_id = " + org + " AND al.usage_id = aox.usage_id AND al.created_at > " + at + "), 0) AS unpaid," +
		" " + day + " - aox.due_date AS days" +
		" FROM credit_usage AS aox WHERE aox.organization_id = " + org + " AND aox.credit_account_id = " + acc +
		" AND aox.created_at <= " + at +
		" AND (aox.status <> 'cancelled' OR COALESCE(aox.cancelled_at, aox.updated_at) > " + at + ")) AS aoy) AS aou" +
		" WHERE " + row + ".created_at <= " + at + ") AS ao"
}
