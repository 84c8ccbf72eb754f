package credit

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// RuleCode names one rule of a credit decision (§14).
type RuleCode string

// The rules of a charge, in the order they are evaluated and reported. The first failed
// rule that blocks is the one chargeCredit refuses with.
const (
	RuleCustomerBlocked     RuleCode = "CUSTOMER_BLOCKED"
	RuleCustomerInactive    RuleCode = "CUSTOMER_INACTIVE"
	RuleAccountNotApproved  RuleCode = "ACCOUNT_NOT_APPROVED"
	RuleOverdueBeyondPolicy RuleCode = "OVERDUE_BEYOND_POLICY"
	RuleOverLimit           RuleCode = "OVER_LIMIT"
	RuleHighUtilization     RuleCode = "HIGH_UTILIZATION" // a warning: it never blocks
)

// Rules lists every rule code in evaluation order.
var Rules = []RuleCode{RuleCustomerBlocked, RuleCustomerInactive, RuleAccountNotApproved,
	RuleOverdueBeyondPolicy, RuleOverLimit, RuleHighUtilization}

// Facts are what the rules of a charge read of an account and its customer.
type Facts struct {
	CustomerStatus models.CustomerStatus
	AccountStatus  models.CreditStatus
	Limit          decimal.Decimal
	Used           decimal.Decimal
	// DaysPastDue is how many days the oldest open (unpaid) charge is past its due date;
	// 0 when none is past due (§5: due yesterday is 1 day past due).
	DaysPastDue int
}

// RuleResult is one rule evaluated: whether it passed and, when it failed, whether that
// blocks the charge (every rule but HIGH_UTILIZATION), with a message saying why.
type RuleResult struct {
	Code    RuleCode
	Passed  bool
	Blocks  bool // failed, and the rule refuses the charge
	Message string
}

// Decision is what a charge of an amount would do: approved when no rule blocks, the credit
// available after it (the current available when refused: nothing would change) and
// every rule evaluated, in order.
type Decision struct {
	Approved       bool
	Available      decimal.Decimal
	AvailableAfter decimal.Decimal
	Rules          []RuleResult
}

// StatusErased is the status the charge rules read for an erased customer (§11: it cannot
// be charged): accountOfCustomer reads it so.
const StatusErased models.CustomerStatus = "erased"

// Evaluate applies the rules of §14 to a charge of amount against the facts under the
// policy. It is the one implementation of those rules: creditCheck reports it and
// chargeCredit refuses with its first blocking rule (Decision.Refusal).
//
//   - CUSTOMER_BLOCKED, CUSTOMER_INACTIVE: only an active customer is charged (§3, §5).
//   - ACCOUNT_NOT_APPROVED: only an approved account is charged.
//   - OVERDUE_BEYOND_POLICY: blocks while a charge is more than blockWhenOverdueDays past
//     due (30: exactly 30 days passes, 31 blocks; 0: any overdue charge blocks).
//   - OVER_LIMIT: amount ≤ limit − used (exactly the available passes, a cent more blocks).
//   - HIGH_UTILIZATION: a warning when (used + amount) reaches warnUtilizationPercent of
//     the limit (90: 89.99 % passes, 90.00 % warns).
func Evaluate(f Facts, pol models.CreditPolicy, amount decimal.Decimal) Decision {
	available := f.Limit.Sub(f.Used)
	usedAfter := f.Used.Add(amount)
	rules := make([]RuleResult, 0, len(Rules))
	add := func(code RuleCode, passed, blocking bool, format string, args ...any) {
		rules = append(rules, RuleResult{Code: code, Passed: passed, Blocks: !passed && blocking, Message: fmt.Sprintf(format, args...)})
	}

	if f.CustomerStatus == models.CustomerStatusBlocked {
		add(RuleCustomerBlocked, false, true, "the customer is BLOCKED and cannot be charged")
	} else {
		add(RuleCustomerBlocked, true, true, "the customer is not blocked")
	}
	switch f.CustomerStatus {
	case models.CustomerStatusInactive:
		add(RuleCustomerInactive, false, true, "the customer is INACTIVE; only an ACTIVE customer can be charged")
	case StatusErased: // §11
		add(RuleCustomerInactive, false, true, "the customer was erased; it cannot be charged")
	default:
		add(RuleCustomerInactive, true, true, "the customer is not inactive")
	}
	if f.AccountStatus != models.CreditStatusApproved {
		add(RuleAccountNotApproved, false, true, "the credit account is %s; only an APPROVED account can be charged", upper(f.AccountStatus))
	} else {
		add(RuleAccountNotApproved, true, true, "the credit account is APPROVED")
	}
	if f.DaysPastDue > pol.BlockWhenOverdueDays {
		add(RuleOverdueBeyondPolicy, false, true, "a charge is %d days past due; the policy allows no new charge beyond %d",
			f.DaysPastDue, pol.BlockWhenOverdueDays)
	} else {
		add(RuleOverdueBeyondPolicy, true, true, "no charge is more than %d days past due (the oldest: %d)",
			pol.BlockWhenOverdueDays, f.DaysPastDue)
	}
	if amount.GreaterThan(available) {
		add(RuleOverLimit, false, true, "the charge of %s exceeds the credit available (%s)", money(amount), money(available))
	} else {
		add(RuleOverLimit, true, true, "the charge of %s fits the credit available (%s)", money(amount), money(available))
	}
	if high, pct := highUtilization(f.Limit, usedAfter, pol.WarnUtilizationPercent); high {
		add(RuleHighUtilization, false, false, "the charge takes utilization to %s %% of the limit; the policy warns at %d %%",
			pct, pol.WarnUtilizationPercent)
	} else {
		add(RuleHighUtilization, true, false, "the charge takes utilization to %s %% of the limit, below the warning at %d %%",
			pct, pol.WarnUtilizationPercent)
	}

	d := Decision{Approved: true, Available: available, AvailableAfter: available.Sub(amount), Rules: rules}
	for _, r := range rules {
		if r.Blocks {
			d.Approved, d.AvailableAfter = false, available
			break
		}
	}
	return d
}

// highUtilization says whether used reaches warnPercent of limit, with the utilization
// (two decimals, rounded down so 89.999 % never reads as 90.00 %). A zero limit with
// nothing used is 0 % utilized; with something used it is fully utilized.
func highUtilization(limit, used decimal.Decimal, warnPercent int) (bool, string) {
	if !used.IsPositive() {
		return false, "0.00"
	}
	pct := "100.00"
	if limit.IsPositive() {
		pct = used.Mul(decimal.NewFromInt(100)).Div(limit).Truncate(2).StringFixed(2)
	}
	return used.Mul(decimal.NewFromInt(100)).GreaterThanOrEqual(limit.Mul(decimal.NewFromInt(int64(warnPercent)))), pct
}

// Refusal is the error chargeCredit answers for the decision's first blocking rule, nil
// when approved. Each rule keeps the code a charge was refused with before §14 (a blocked
// customer CUSTOMER_BLOCKED, an inactive customer or an account not approved
// INVALID_STATE, over the limit CREDIT_LIMIT_EXCEEDED); OVERDUE_BEYOND_POLICY is its own.
func (d Decision) Refusal() error {
	for _, r := range d.Rules {
		if !r.Blocks {
			continue
		}
		code, field := apperr.InvalidState, []string{"customerId"}
		switch r.Code {
		case RuleCustomerBlocked:
			code = apperr.CustomerBlocked
		case RuleOverdueBeyondPolicy:
			code = apperr.OverdueBeyondPolicy
		case RuleOverLimit:
			code, field = apperr.CreditLimitExceeded, []string{"amount"}
		}
		return apperr.OnField(code, field, "%s", r.Message)
	}
	return nil
}

// DaysPastDueSQL is the SQL of Facts.DaysPastDue of the account account (SQL) of the
// organization org (SQL): the days the oldest open charge is past due, 0 when none.
func DaysPastDueSQL(org, account string) string {
	return "(SELECT COALESCE(max(" + today + " - od.due_date), 0) FROM credit_usage AS od" +
		" WHERE od.organization_id = " + org + " AND od.credit_account_id = " + account +
		" AND od.status IN ('pending', 'overdue') AND od.due_date < " + today + ")"
}

// Check answers what a charge of amount to the customer's account would do now (§14,
// creditCheck), writing nothing: the same rules by the same code as Charge (Evaluate). The
// amount follows the charge's rule (INVALID); a customer without an account, like a missing
// one or another organization's, is NOT_FOUND. Agents and up, as charges.
func (s *Service) Check(ctx context.Context, customerID uuid.UUID, amount decimal.Decimal) (*Decision, error) {
	if err := auth.Require(ctx, auth.Agent); err != nil {
		return nil, err
	}
	if err := checkAmount(amount, []string{"amount"}); err != nil {
		return nil, err
	}
	var d Decision
	// On the primary even in a query: the answer is what a charge would do now, and a
	// replica that has not replayed the last charge or payment would promise otherwise.
	err := db.Read(db.OnPrimary(ctx), s.db, func(ctx context.Context, tx bun.Tx) error {
		target, err := accountOfCustomer(ctx, tx, customerID, "", nil)
		if err != nil {
			return err
		}
		pol, _, err := policyOf(ctx, tx, false)
		if err != nil {
			return err
		}
		d = Evaluate(target.facts(), pol, amount)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// PolicyWarningsSQL is the rows (aliased w: ord, code, message) of the policy rules the
// account row (SQL alias, a credit_accounts row) breaks now (§14), for the Customer 360's
// policyWarnings: OVERDUE_BEYOND_POLICY as Evaluate words it, and HIGH_UTILIZATION of what
// is used now (highUtilization's rule: something used, and used × 100 ≥ percent × limit).
func PolicyWarningsSQL(row string) string {
	org, acc := row+".organization_id", row+".credit_account_id"
	used, limit := row+".credit_used", row+".credit_limit"
	pct := "CASE WHEN " + limit + " > 0 THEN to_char(trunc(" + used + " * 100 / " + limit + ", 2), 'FM9999999990.00') ELSE '100.00' END"
	return "(SELECT v.ord, v.code, v.message FROM " + PolicySQL(org) + ", (SELECT " + DaysPastDueSQL(org, acc) + " AS days) AS d," +
		" LATERAL (VALUES (1, '" + string(RuleOverdueBeyondPolicy) + "', d.days > pol.block_when_overdue_days," +
		" format('a charge is %s days past due; the policy allows no new charge beyond %s', d.days, pol.block_when_overdue_days))," +
		" (2, '" + string(RuleHighUtilization) + "', " + used + " > 0 AND " + used + " * 100 >= " + limit + " * pol.warn_utilization_percent," +
		" format('utilization is %s %% of the limit; the policy warns at %s %%', " + pct + ", pol.warn_utilization_percent))" +
		") AS v(ord, code, hit, message) WHERE v.hit) AS w"
}
