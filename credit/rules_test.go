package credit

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/apperr"
	"customerservice/models"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestAllocate_PaysTheOldestDueDateFirst(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	open := []OpenUsage{ // given newest due first: the order given is not the order paid
		{ID: a, DueDate: day("2026-03-30"), CreatedAt: day("2026-02-28"), Unpaid: dec("100.00")},
		{ID: b, DueDate: day("2026-02-28"), CreatedAt: day("2026-01-29"), Unpaid: dec("40.00")},
		{ID: c, DueDate: day("2026-03-15"), CreatedAt: day("2026-02-13"), Unpaid: dec("25.50")},
	}
	tests := []struct {
		name   string
		amount string
		shares []string // in the order given
		left   string
	}{
		{"part of the oldest", "10.00", []string{"0", "10.00", "0"}, "0"},
		{"exactly the oldest", "40.00", []string{"0", "40.00", "0"}, "0"},
		{"the oldest then part of the next", "50.00", []string{"0", "40.00", "10.00"}, "0"},
		{"to the cent into the last", "65.51", []string{"0.01", "40.00", "25.50"}, "0"},
		{"everything owed", "165.50", []string{"100.00", "40.00", "25.50"}, "0"},
		{"more than owed leaves the rest", "170.00", []string{"100.00", "40.00", "25.50"}, "4.50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			shares, left := Allocate(dec(tc.amount), open)
			for i, want := range tc.shares {
				if !shares[i].Equal(dec(want)) {
					t.Errorf("share of usage %d = %s, want %s", i, shares[i], want)
				}
			}
			if !left.Equal(dec(tc.left)) {
				t.Errorf("left = %s, want %s", left, tc.left)
			}
		})
	}
}

func TestAllocate_SameDueDatePaysTheOldestChargeFirst(t *testing.T) {
	due := day("2026-04-01")
	open := []OpenUsage{
		{ID: uuid.New(), DueDate: due, CreatedAt: day("2026-03-02").Add(time.Hour), Unpaid: dec("30.00")},
		{ID: uuid.New(), DueDate: due, CreatedAt: day("2026-03-02"), Unpaid: dec("30.00")},
	}
	shares, _ := Allocate(dec("40.00"), open)
	if !shares[1].Equal(dec("30.00")) || !shares[0].Equal(dec("10.00")) {
		t.Fatalf("shares = %v, want the earlier charge paid first: [10.00 30.00]", shares)
	}
}

func TestAllocate_NothingOpenLeavesTheWholeAmount(t *testing.T) {
	shares, left := Allocate(dec("12.34"), nil)
	if len(shares) != 0 || !left.Equal(dec("12.34")) {
		t.Fatalf("Allocate over nothing = %v, %s", shares, left)
	}
}

func TestCheckAmount_PositiveTwoDecimalsBelowTenBillion(t *testing.T) {
	tests := []struct {
		amount string
		ok     bool
	}{
		{"0.01", true}, {"1", true}, {"10.10", true}, {"10.100", true}, {"9999999999.99", true},
		{"0", false}, {"-0.01", false}, {"10.001", false}, {"10000000000", false},
	}
	for _, tc := range tests {
		err := checkAmount(dec(tc.amount), []string{"amount"})
		if (err == nil) != tc.ok {
			t.Errorf("checkAmount(%s) = %v, want ok=%v", tc.amount, err, tc.ok)
		}
		if err != nil && (err.Code != apperr.Invalid || len(err.Field) != 1 || err.Field[0] != "amount") {
			t.Errorf("checkAmount(%s) = %+v, want INVALID on [amount]", tc.amount, err)
		}
	}
}

func TestCheckLimit_ZeroAllowedNegativeNot(t *testing.T) {
	tests := []struct {
		limit string
		ok    bool
	}{{"0", true}, {"0.00", true}, {"5000.50", true}, {"-0.01", false}, {"1.005", false}, {"10000000000.00", false}}
	for _, tc := range tests {
		if err := checkLimit(dec(tc.limit), []string{"creditLimit"}); (err == nil) != tc.ok {
			t.Errorf("checkLimit(%s) = %v, want ok=%v", tc.limit, err, tc.ok)
		}
	}
}

func TestChargeRefusal_OnlyAnApprovedAccountOfAnActiveCustomerUpToTheAvailable(t *testing.T) {
	approved := func(available string) Facts {
		return Facts{CustomerStatus: models.CustomerStatusActive, AccountStatus: models.CreditStatusApproved,
			Limit: dec(available), Used: decimal.Zero}
	}
	with := func(f Facts, c models.CustomerStatus, a models.CreditStatus) Facts {
		f.CustomerStatus, f.AccountStatus = c, a
		return f
	}
	tests := []struct {
		name   string
		facts  Facts
		amount string
		want   apperr.Code // "" when accepted
		field  string
	}{
		{"exactly the available", approved("100.00"), "100.00", "", ""},
		{"one cent over", approved("100.00"), "100.01", apperr.CreditLimitExceeded, "amount"},
		{"blocked customer", with(approved("100.00"), models.CustomerStatusBlocked, models.CreditStatusApproved), "1.00", apperr.CustomerBlocked, "customerId"},
		{"inactive customer", with(approved("100.00"), models.CustomerStatusInactive, models.CreditStatusApproved), "1.00", apperr.InvalidState, "customerId"},
		{"pending account", with(approved("0"), models.CustomerStatusActive, models.CreditStatusPending), "1.00", apperr.InvalidState, "customerId"},
		{"suspended account", with(approved("100"), models.CustomerStatusActive, models.CreditStatusSuspended), "1.00", apperr.InvalidState, "customerId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectRefusal(t, Evaluate(tc.facts, defaultPolicy(), dec(tc.amount)).Refusal(), tc.want, tc.field)
		})
	}
}

func TestPaymentRefusal_UpToWhatIsOutstandingOnApprovedOrSuspended(t *testing.T) {
	acc := func(status models.CreditStatus, used string) *models.CreditAccount {
		return &models.CreditAccount{Status: status, CreditUsed: dec(used)}
	}
	tests := []struct {
		name   string
		acc    *models.CreditAccount
		amount string
		want   apperr.Code
		field  string
	}{
		{"exactly what is outstanding", acc(models.CreditStatusApproved, "250.00"), "250.00", "", ""},
		{"on a suspended account", acc(models.CreditStatusSuspended, "250.00"), "10.00", "", ""},
		{"one cent more than outstanding", acc(models.CreditStatusApproved, "250.00"), "250.01", apperr.Invalid, "amount"},
		{"pending owes nothing", acc(models.CreditStatusPending, "0"), "1.00", apperr.InvalidState, "customerId"},
		{"cancelled owes nothing", acc(models.CreditStatusCancelled, "0"), "1.00", apperr.InvalidState, "customerId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectRefusal(t, paymentRefusal(tc.acc, dec(tc.amount)), tc.want, tc.field)
		})
	}
}

func TestCheckPaymentDate_FromTheOpeningDayToToday(t *testing.T) {
	acc := &customerAccount{OpenedOn: day("2026-01-10"), Today: day("2026-02-20")}
	tests := []struct {
		date string
		ok   bool
	}{{"2026-01-09", false}, {"2026-01-10", true}, {"2026-02-01", true}, {"2026-02-20", true}, {"2026-02-21", false}}
	for _, tc := range tests {
		if err := checkPaymentDate(day(tc.date), acc); (err == nil) != tc.ok {
			t.Errorf("checkPaymentDate(%s) = %v, want ok=%v", tc.date, err, tc.ok)
		}
	}
}

func expectRefusal(t *testing.T, err error, want apperr.Code, field string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	errs, ok := apperr.Of(err)
	if !ok || len(errs) != 1 || errs[0].Code != want || len(errs[0].Field) != 1 || errs[0].Field[0] != field {
		t.Fatalf("got %v, want %s on [%s]", err, want, field)
	}
}

// §14: each rule of Evaluate at its boundary, under the default policy unless said.
func TestEvaluate_EachRuleAtItsBoundary(t *testing.T) {
	active := func(limit, used string, pastDue int) Facts {
		return Facts{CustomerStatus: models.CustomerStatusActive, AccountStatus: models.CreditStatusApproved,
			Limit: dec(limit), Used: dec(used), DaysPastDue: pastDue}
	}
	pol := func(overdue, warn int) models.CreditPolicy {
		return models.CreditPolicy{BlockWhenOverdueDays: overdue, WarnUtilizationPercent: warn, RequireSecondApprover: true}
	}
	tests := []struct {
		name     string
		facts    Facts
		policy   models.CreditPolicy
		amount   string
		first    RuleCode // the first blocking rule; "" approved
		warning  bool
		after    string
		refusal  apperr.Code
		refField string
	}{
		{"30 days past due, policy 30", active("1000", "0", 30), defaultPolicy(), "10", "", false, "990", "", ""},
		{"31 days past due, policy 30", active("1000", "0", 31), defaultPolicy(), "10", RuleOverdueBeyondPolicy, false, "1000", apperr.OverdueBeyondPolicy, "customerId"},
		{"nothing past due, policy 0", active("1000", "0", 0), pol(0, 90), "10", "", false, "990", "", ""},
		{"1 day past due, policy 0", active("1000", "0", 1), pol(0, 90), "10", RuleOverdueBeyondPolicy, false, "1000", apperr.OverdueBeyondPolicy, "customerId"},
		{"amount = available", active("1000", "400", 0), defaultPolicy(), "600.00", "", true, "0", "", ""},
		{"amount = available + 0.01", active("1000", "400", 0), defaultPolicy(), "600.01", RuleOverLimit, true, "600", apperr.CreditLimitExceeded, "amount"},
		{"utilization 89.99 %", active("1000", "0", 0), defaultPolicy(), "899.90", "", false, "100.10", "", ""},
		{"utilization 89.999 %", active("1000", "0", 0), defaultPolicy(), "899.99", "", false, "100.01", "", ""},
		{"utilization 90 %", active("1000", "0", 0), defaultPolicy(), "900.00", "", true, "100", "", ""},
		{"utilization 90 %, warn at 91", active("1000", "0", 0), pol(30, 91), "900.00", "", false, "100", "", ""},
		{"zero limit", active("0", "0", 0), defaultPolicy(), "0.01", RuleOverLimit, true, "0", apperr.CreditLimitExceeded, "amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.facts, tc.policy, dec(tc.amount))
			first := RuleCode("")
			warning := false
			for i, r := range d.Rules {
				if r.Code != Rules[i] {
					t.Fatalf("rule %d is %s, want %s", i, r.Code, Rules[i])
				}
				if r.Blocks && first == "" {
					first = r.Code
				}
				if r.Code == RuleHighUtilization {
					warning = !r.Passed
				}
			}
			if first != tc.first || d.Approved != (tc.first == "") || warning != tc.warning || !d.AvailableAfter.Equal(dec(tc.after)) {
				t.Fatalf("decision = %+v, want first %q warning %v after %s", d, tc.first, tc.warning, tc.after)
			}
			expectRefusal(t, d.Refusal(), tc.refusal, tc.refField)
		})
	}
}
