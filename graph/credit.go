package graph

import (
	"github.com/shopspring/decimal"

	"customerservice/credit"
	"customerservice/graph/model"
	"customerservice/models"
)

// The GraphQL side of B2B credit (§5): inputs to the credit service's. The resolvers in
// schema.resolvers.go call these and stay a few lines each; the account itself is rendered
// by customer360.

// defaultPaymentTermDays is the schema's default; an explicit null means the same.
const defaultPaymentTermDays = 30

func openCreditAccount(in model.OpenCreditAccountInput) credit.OpenAccount {
	term := defaultPaymentTermDays
	if v, ok := in.PaymentTermDays.ValueOK(); ok && v != nil {
		term = *v
	}
	return credit.OpenAccount{CustomerID: in.CustomerID, CreditLimit: in.CreditLimit, PaymentTermDays: term}
}

func creditCharge(in model.ChargeCreditInput) credit.Charge {
	return credit.Charge{CustomerID: in.CustomerID, OrderID: in.OrderID, Amount: in.Amount}
}

func creditPayment(in model.RecordCreditPaymentInput) credit.Payment {
	p := credit.Payment{CustomerID: in.CustomerID, Amount: in.Amount, PaymentReference: in.PaymentReference}
	if v, ok := in.PaymentDate.ValueOK(); ok && v != nil {
		p.PaymentDate = v
	}
	return p
}

// usageOutstanding is what a usage still owes (zero once cancelled).
func usageOutstanding(u *models.CreditUsage) *decimal.Decimal {
	d := credit.UsageOutstanding(u)
	return &d
}

func creditPolicyChanges(in model.UpdateCreditPolicyInput) credit.PolicyChanges {
	return credit.PolicyChanges{
		BlockWhenOverdueDays:   in.BlockWhenOverdueDays.Value(),
		WarnUtilizationPercent: in.WarnUtilizationPercent.Value(),
		RequireSecondApprover:  in.RequireSecondApprover.Value(),
	}
}

// creditPolicy is the policy as the API shows it: updatedAt null while it is the defaults.
func creditPolicy(p *models.CreditPolicy) *model.CreditPolicy {
	if p == nil {
		return nil
	}
	out := &model.CreditPolicy{BlockWhenOverdueDays: p.BlockWhenOverdueDays,
		WarnUtilizationPercent: p.WarnUtilizationPercent, RequireSecondApprover: p.RequireSecondApprover}
	if !p.UpdatedAt.IsZero() {
		at := p.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}
