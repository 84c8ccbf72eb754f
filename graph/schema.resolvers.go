package graph

// The resolvers of schema.graphqls (gqlgen's generated interfaces say which must exist):
// each translates between GraphQL and a domain service or the Customer 360 reader.

import (
	"context"
	"customerservice/auth"
	"customerservice/credit"
	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/privacy"
	"customerservice/savedsegments"
	"customerservice/subscriptions"
	"customerservice/timeline"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Outstanding is the resolver for the outstanding field.
func (r *creditUsageResolver) Outstanding(ctx context.Context, obj *models.CreditUsage) (*decimal.Decimal, error) {
	return usageOutstanding(obj), nil
}

// Status is the resolver for the status field.
func (r *creditUsageResolver) Status(ctx context.Context, obj *models.CreditUsage) (models.CreditUsageStatus, error) {
	return obj.Status, nil // §5: the credit service reads every usage with its effective status
}

// CreateCustomer is the resolver for the createCustomer field.
func (r *mutationResolver) CreateCustomer(ctx context.Context, input model.CreateCustomerInput) (*model.CreateCustomerPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	c, err := r.CustomerService.Create(ctx, newCustomer(input))
	ue, err := userErrors(ctx, err)
	if err != nil || c == nil {
		return &model.CreateCustomerPayload{UserErrors: ue}, err
	}
	customer, err := r.payloadCustomer(ctx, &c.ID)
	return &model.CreateCustomerPayload{Customer: customer, UserErrors: ue}, err
}

// UpdateCustomer is the resolver for the updateCustomer field.
func (r *mutationResolver) UpdateCustomer(ctx context.Context, id uuid.UUID, input model.UpdateCustomerInput) (*model.UpdateCustomerPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	c, err := r.CustomerService.Update(ctx, id, customerChanges(input))
	ue, err := userErrors(ctx, err)
	if err != nil || c == nil {
		return &model.UpdateCustomerPayload{UserErrors: ue}, err
	}
	customer, err := r.payloadCustomer(ctx, &c.ID)
	return &model.UpdateCustomerPayload{Customer: customer, UserErrors: ue}, err
}

// SetCustomerStatus is the resolver for the setCustomerStatus field.
func (r *mutationResolver) SetCustomerStatus(ctx context.Context, id uuid.UUID, status models.CustomerStatus, reason *string) (*model.SetCustomerStatusPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	c, err := r.CustomerService.SetStatus(ctx, id, status, reason)
	ue, err := userErrors(ctx, err)
	if err != nil || c == nil {
		return &model.SetCustomerStatusPayload{UserErrors: ue}, err
	}
	customer, err := r.payloadCustomer(ctx, &c.ID)
	return &model.SetCustomerStatusPayload{Customer: customer, UserErrors: ue}, err
}

// GrantConsent is the resolver for the grantConsent field.
func (r *mutationResolver) GrantConsent(ctx context.Context, input model.GrantConsentInput) (*model.GrantConsentPayload, error) {
	k, customer, ue, err := r.consent(ctx, r.CustomerService.GrantConsent, customers.ConsentChange{
		CustomerID: input.CustomerID, Purpose: input.Purpose, Channel: input.Channel, Evidence: input.Evidence.Value()})
	return &model.GrantConsentPayload{Consent: k, Customer: customer, UserErrors: ue}, err
}

// RevokeConsent is the resolver for the revokeConsent field.
func (r *mutationResolver) RevokeConsent(ctx context.Context, input model.RevokeConsentInput) (*model.RevokeConsentPayload, error) {
	k, customer, ue, err := r.consent(ctx, r.CustomerService.RevokeConsent, customers.ConsentChange{
		CustomerID: input.CustomerID, Purpose: input.Purpose, Channel: input.Channel, Evidence: input.Evidence.Value()})
	return &model.RevokeConsentPayload{Consent: k, Customer: customer, UserErrors: ue}, err
}

// EraseCustomer is the resolver for the eraseCustomer field.
func (r *mutationResolver) EraseCustomer(ctx context.Context, id uuid.UUID) (*model.EraseCustomerPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	c, err := r.CustomerService.Erase(ctx, id)
	ue, err := userErrors(ctx, err)
	if err != nil || c == nil {
		return &model.EraseCustomerPayload{UserErrors: ue}, err
	}
	customer, err := r.payloadCustomer(ctx, &c.ID)
	return &model.EraseCustomerPayload{Customer: customer, UserErrors: ue}, err
}

// AddAddress is the resolver for the addAddress field.
func (r *mutationResolver) AddAddress(ctx context.Context, customerID uuid.UUID, input model.AddAddressInput) (*model.AddAddressPayload, error) {
	a, err := r.CustomerService.AddAddress(ctx, customerID, newAddress(input))
	ue, err := userErrors(ctx, err)
	return &model.AddAddressPayload{Address: a, UserErrors: ue}, err
}

// UpdateAddress is the resolver for the updateAddress field.
func (r *mutationResolver) UpdateAddress(ctx context.Context, id uuid.UUID, input model.UpdateAddressInput) (*model.UpdateAddressPayload, error) {
	a, err := r.CustomerService.UpdateAddress(ctx, id, addressChanges(input))
	ue, err := userErrors(ctx, err)
	return &model.UpdateAddressPayload{Address: a, UserErrors: ue}, err
}

// RemoveAddress is the resolver for the removeAddress field.
func (r *mutationResolver) RemoveAddress(ctx context.Context, id uuid.UUID) (*model.RemoveAddressPayload, error) {
	a, err := r.CustomerService.RemoveAddress(ctx, id)
	ue, err := userErrors(ctx, err)
	return &model.RemoveAddressPayload{Address: a, UserErrors: ue}, err
}

// SetDefaultAddress is the resolver for the setDefaultAddress field.
func (r *mutationResolver) SetDefaultAddress(ctx context.Context, id uuid.UUID) (*model.SetDefaultAddressPayload, error) {
	a, err := r.CustomerService.SetDefaultAddress(ctx, id)
	ue, err := userErrors(ctx, err)
	return &model.SetDefaultAddressPayload{Address: a, UserErrors: ue}, err
}

// EnrollLoyalty is the resolver for the enrollLoyalty field.
func (r *mutationResolver) EnrollLoyalty(ctx context.Context, customerID uuid.UUID) (*model.EnrollLoyaltyPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	acc, err := r.LoyaltyService.Enroll(ctx, customerID)
	ue, err := userErrors(ctx, err)
	if err != nil || acc == nil {
		return &model.EnrollLoyaltyPayload{UserErrors: ue}, err
	}
	account, err := r.payloadLoyaltyAccount(ctx, &acc.ID)
	return &model.EnrollLoyaltyPayload{LoyaltyAccount: account, UserErrors: ue}, err
}

// RecordPurchase is the resolver for the recordPurchase field.
func (r *mutationResolver) RecordPurchase(ctx context.Context, input model.RecordPurchaseInput) (*model.RecordPurchasePayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	res, err := r.LoyaltyService.RecordPurchase(ctx, newPurchase(input))
	ue, err := userErrors(ctx, err)
	out := &model.RecordPurchasePayload{UserErrors: ue}
	if res != nil {
		out.Purchase, out.Transaction = res.Purchase, res.Transaction
		out.LoyaltyAccount, err = r.payloadLoyaltyAccount(ctx, loyaltyAccountID(res.Account))
	}
	return out, err
}

// RecordRefund is the resolver for the recordRefund field.
func (r *mutationResolver) RecordRefund(ctx context.Context, input model.RecordRefundInput) (*model.RecordRefundPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	res, err := r.LoyaltyService.RecordRefund(ctx, loyalty.NewRefund{OrderID: input.OrderID, RefundID: input.RefundID, Amount: input.Amount})
	ue, err := userErrors(ctx, err)
	out := &model.RecordRefundPayload{UserErrors: ue}
	if res != nil {
		out.Purchase, out.Transaction = res.Purchase, res.Transaction
		out.LoyaltyAccount, err = r.payloadLoyaltyAccount(ctx, loyaltyAccountID(res.Account))
	}
	return out, err
}

// RedeemPoints is the resolver for the redeemPoints field.
func (r *mutationResolver) RedeemPoints(ctx context.Context, input model.RedeemPointsInput) (*model.RedeemPointsPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	res, err := r.LoyaltyService.Redeem(ctx, loyalty.Redemption{CustomerID: input.CustomerID, Points: input.Points,
		ReferenceType: input.ReferenceType, ReferenceID: input.ReferenceID, Description: input.Description.Value()})
	ue, err := userErrors(ctx, err)
	out := &model.RedeemPointsPayload{UserErrors: ue}
	if res != nil {
		out.Transaction = res.Transaction
		out.LoyaltyAccount, err = r.payloadLoyaltyAccount(ctx, loyaltyAccountID(res.Account))
	}
	return out, err
}

// AwardBonusPoints is the resolver for the awardBonusPoints field.
func (r *mutationResolver) AwardBonusPoints(ctx context.Context, input model.AwardBonusPointsInput) (*model.AwardBonusPointsPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	res, err := r.LoyaltyService.AwardBonus(ctx, loyalty.Bonus{CustomerID: input.CustomerID, Points: input.Points,
		Reason: input.Reason, ReferenceID: input.ReferenceID})
	ue, err := userErrors(ctx, err)
	out := &model.AwardBonusPointsPayload{UserErrors: ue}
	if res != nil {
		out.Transaction = res.Transaction
		out.LoyaltyAccount, err = r.payloadLoyaltyAccount(ctx, loyaltyAccountID(res.Account))
	}
	return out, err
}

// AdjustPoints is the resolver for the adjustPoints field.
func (r *mutationResolver) AdjustPoints(ctx context.Context, input model.AdjustPointsInput) (*model.AdjustPointsPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	res, err := r.LoyaltyService.Adjust(ctx, loyalty.Adjustment{
		CustomerID: input.CustomerID, Points: input.Points, Reason: input.Reason, IdempotencyKey: input.IdempotencyKey,
	})
	ue, err := userErrors(ctx, err)
	out := &model.AdjustPointsPayload{UserErrors: ue}
	if res != nil {
		out.Transaction = res.Transaction
		out.LoyaltyAccount, err = r.payloadLoyaltyAccount(ctx, loyaltyAccountID(res.Account))
	}
	return out, err
}

// UpdateLoyaltyProgram is the resolver for the updateLoyaltyProgram field.
func (r *mutationResolver) UpdateLoyaltyProgram(ctx context.Context, input model.UpdateLoyaltyProgramInput) (*model.UpdateLoyaltyProgramPayload, error) {
	p, err := r.LoyaltyService.UpdateProgram(ctx, programChanges(input))
	ue, err := userErrors(ctx, err)
	return &model.UpdateLoyaltyProgramPayload{LoyaltyProgram: p, UserErrors: ue}, err
}

// OpenCreditAccount is the resolver for the openCreditAccount field.
func (r *mutationResolver) OpenCreditAccount(ctx context.Context, input model.OpenCreditAccountInput) (*model.OpenCreditAccountPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.Open(ctx, openCreditAccount(input))
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.OpenCreditAccountPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.OpenCreditAccountPayload{CreditAccount: account, UserErrors: ue}, err
}

// ApproveCreditAccount is the resolver for the approveCreditAccount field.
func (r *mutationResolver) ApproveCreditAccount(ctx context.Context, id uuid.UUID, notes *string) (*model.ApproveCreditAccountPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.Approve(ctx, id, notes)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.ApproveCreditAccountPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.ApproveCreditAccountPayload{CreditAccount: account, UserErrors: ue}, err
}

// SuspendCreditAccount is the resolver for the suspendCreditAccount field.
func (r *mutationResolver) SuspendCreditAccount(ctx context.Context, id uuid.UUID, reason string) (*model.SuspendCreditAccountPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.Suspend(ctx, id, reason)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.SuspendCreditAccountPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.SuspendCreditAccountPayload{CreditAccount: account, UserErrors: ue}, err
}

// ReinstateCreditAccount is the resolver for the reinstateCreditAccount field.
func (r *mutationResolver) ReinstateCreditAccount(ctx context.Context, id uuid.UUID) (*model.ReinstateCreditAccountPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.Reinstate(ctx, id)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.ReinstateCreditAccountPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.ReinstateCreditAccountPayload{CreditAccount: account, UserErrors: ue}, err
}

// CancelCreditAccount is the resolver for the cancelCreditAccount field.
func (r *mutationResolver) CancelCreditAccount(ctx context.Context, id uuid.UUID, reason *string) (*model.CancelCreditAccountPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.Cancel(ctx, id, reason)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.CancelCreditAccountPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.CancelCreditAccountPayload{CreditAccount: account, UserErrors: ue}, err
}

// UpdateCreditLimit is the resolver for the updateCreditLimit field.
func (r *mutationResolver) UpdateCreditLimit(ctx context.Context, id uuid.UUID, creditLimit decimal.Decimal) (*model.UpdateCreditLimitPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, deferred, err := r.CreditService.UpdateLimit(ctx, id, creditLimit)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.UpdateCreditLimitPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.UpdateCreditLimitPayload{CreditAccount: account, PendingApproval: deferred, UserErrors: ue}, err
}

// UpdateCreditPolicy is the resolver for the updateCreditPolicy field.
func (r *mutationResolver) UpdateCreditPolicy(ctx context.Context, input model.UpdateCreditPolicyInput) (*model.UpdateCreditPolicyPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	p, err := r.CreditService.UpdatePolicy(ctx, creditPolicyChanges(input))
	ue, err := userErrors(ctx, err)
	return &model.UpdateCreditPolicyPayload{CreditPolicy: creditPolicy(p), UserErrors: ue}, err
}

// ApproveCreditLimit is the resolver for the approveCreditLimit field.
func (r *mutationResolver) ApproveCreditLimit(ctx context.Context, id uuid.UUID) (*model.ApproveCreditLimitPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, err := r.CreditService.ApproveLimit(ctx, id)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.ApproveCreditLimitPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.ApproveCreditLimitPayload{CreditAccount: account, UserErrors: ue}, err
}

// ChargeCredit is the resolver for the chargeCredit field.
func (r *mutationResolver) ChargeCredit(ctx context.Context, input model.ChargeCreditInput) (*model.ChargeCreditPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, u, err := r.CreditService.Charge(ctx, creditCharge(input))
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.ChargeCreditPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.ChargeCreditPayload{CreditAccount: account, Usage: u, UserErrors: ue}, err
}

// RecordCreditPayment is the resolver for the recordCreditPayment field.
func (r *mutationResolver) RecordCreditPayment(ctx context.Context, input model.RecordCreditPaymentInput) (*model.RecordCreditPaymentPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, p, err := r.CreditService.RecordPayment(ctx, creditPayment(input))
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.RecordCreditPaymentPayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.RecordCreditPaymentPayload{CreditAccount: account, Payment: p, UserErrors: ue}, err
}

// CancelCreditUsage is the resolver for the cancelCreditUsage field.
func (r *mutationResolver) CancelCreditUsage(ctx context.Context, id uuid.UUID) (*model.CancelCreditUsagePayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	a, u, err := r.CreditService.CancelUsage(ctx, id)
	ue, err := userErrors(ctx, err)
	if err != nil || a == nil {
		return &model.CancelCreditUsagePayload{UserErrors: ue}, err
	}
	account, err := r.payloadCreditAccount(ctx, &a.ID)
	return &model.CancelCreditUsagePayload{CreditAccount: account, Usage: u, UserErrors: ue}, err
}

// RecalculateSegments is the resolver for the recalculateSegments field.
func (r *mutationResolver) RecalculateSegments(ctx context.Context) (*model.RecalculateSegmentsPayload, error) {
	res, err := r.SegmentService.Recalculate(ctx)
	if err != nil {
		ue, err := userErrors(ctx, err)
		return &model.RecalculateSegmentsPayload{BySegment: []model.SegmentCount{}, UserErrors: ue}, err
	}
	return recalculateSegmentsPayload(res), nil
}

// Me is the resolver for the me field.
func (r *queryResolver) Me(ctx context.Context) (*model.Me, error) {
	p, _ := auth.FromContext(ctx)
	return &model.Me{UserID: p.UserID, OrganizationID: p.OrganizationID, Roles: p.Roles}, nil
}

// Customer is the resolver for the customer field.
func (r *queryResolver) Customer(ctx context.Context, id uuid.UUID) (model.Object, error) {
	return r.lookup(ctx, customers.ByID(id))
}

// CustomerByEmail is the resolver for the customerByEmail field.
func (r *queryResolver) CustomerByEmail(ctx context.Context, email string) (model.Object, error) {
	return r.lookup(ctx, customers.ByEmail(email))
}

// CustomerByPhone is the resolver for the customerByPhone field.
func (r *queryResolver) CustomerByPhone(ctx context.Context, phone string) (model.Object, error) {
	return r.lookup(ctx, customers.ByPhone(phone))
}

// CustomerByDocument is the resolver for the customerByDocument field.
func (r *queryResolver) CustomerByDocument(ctx context.Context, documentType models.DocumentType, documentNumber string) (model.Object, error) {
	return r.lookup(ctx, customers.ByDocument(documentType, documentNumber))
}

// CustomerByExternalID is the resolver for the customerByExternalId field.
func (r *queryResolver) CustomerByExternalID(ctx context.Context, externalID string) (model.Object, error) {
	return r.lookup(ctx, customers.ByExternalID(externalID))
}

// Customers is the resolver for the customers field.
func (r *queryResolver) Customers(ctx context.Context, first *int, after *string, last *int, before *string, filter *model.CustomerFilter, search *string, orderBy *model.CustomerOrder) (*model.CustomerConnection, error) {
	shape := connectionSelections(ctx)
	params := customerListParams(first, after, last, before, filter, search, orderBy, shape.count)
	live, err := r.withSavedSegment(ctx, filter, params.Filter)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	params.Filter = live
	page, err := r.View.Customers(ctx, shape.sel, params)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return customerConnection(page, shape), nil
}

// DataQualityIssues is the resolver for the dataQualityIssues field.
func (r *queryResolver) DataQualityIssues(ctx context.Context, first *int, after *string, kind *customers.DataIssue) (*model.CustomerConnection, error) {
	shape := connectionSelections(ctx)
	p := customers.ListParams{First: first, After: after, Count: shape.count, Filter: customers.Filter{DataIssue: customers.DataIssueAny}}
	if kind != nil {
		p.Filter.DataIssue = *kind
	}
	page, err := r.View.Customers(ctx, shape.sel, p)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return customerConnection(page, shape), nil
}

// DuplicateCandidates is the resolver for the duplicateCandidates field.
func (r *queryResolver) DuplicateCandidates(ctx context.Context, first *int, after *string, minScore *int) (*model.DuplicateCandidateConnection, error) {
	sides := duplicateSelections(ctx)
	page, err := r.View.DuplicateCandidates(ctx, sides["customer"], sides["duplicate"],
		customers.DuplicateParams{First: first, After: after, MinScore: minScore})
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return duplicateConnection(page), nil
}

// CustomerStats is the resolver for the customerStats field.
func (r *queryResolver) CustomerStats(ctx context.Context, filter *model.CustomerFilter, search *string) (*model.CustomerStats, error) {
	live, err := r.withSavedSegment(ctx, filter, customerFilter(filter, search))
	if err != nil {
		return nil, queryError(ctx, err)
	}
	st, err := r.CustomerService.Stats(ctx, live)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return customerStats(st), nil
}

// LoyaltyProgram is the resolver for the loyaltyProgram field.
func (r *queryResolver) LoyaltyProgram(ctx context.Context) (*models.LoyaltyProgram, error) {
	p, err := r.LoyaltyService.Program(ctx)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return p, nil
}

// CreditPolicy is the resolver for the creditPolicy field.
func (r *queryResolver) CreditPolicy(ctx context.Context) (*model.CreditPolicy, error) {
	p, err := r.CreditService.Policy(ctx)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return creditPolicy(p), nil
}

// CreditCheck is the resolver for the creditCheck field.
func (r *queryResolver) CreditCheck(ctx context.Context, customerID uuid.UUID, amount decimal.Decimal) (*credit.Decision, error) {
	d, err := r.CreditService.Check(ctx, customerID, amount)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return d, nil
}

// ScheduledJobs is the resolver for the scheduledJobs field.
func (r *queryResolver) ScheduledJobs(ctx context.Context) ([]model.ScheduledJob, error) {
	states, err := r.JobService.Jobs(ctx)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return scheduledJobs(states), nil
}

// CreditAccount, Customer and LoyaltyAccount have no field resolvers: their values are
// model.Object, which gqlgen writes as the JSON PostgreSQL rendered (customer360), so it
// never resolves their fields one by one.
func (r *Resolver) CreditAccount() CreditAccountResolver { return nil }

// CreditUsage returns CreditUsageResolver implementation.
func (r *Resolver) CreditUsage() CreditUsageResolver { return &creditUsageResolver{r} }

// Customer: see CreditAccount.
func (r *Resolver) Customer() CustomerResolver { return nil }

// LoyaltyAccount: see CreditAccount.
func (r *Resolver) LoyaltyAccount() LoyaltyAccountResolver { return nil }

// Mutation returns MutationResolver implementation.
func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

// Query returns QueryResolver implementation.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

type (
	creditUsageResolver struct{ *Resolver }
	mutationResolver    struct{ *Resolver }
	queryResolver       struct{ *Resolver }
)

// AuditLog is the resolver for the auditLog field.
func (r *queryResolver) AuditLog(ctx context.Context, filter *model.AuditLogFilter, first *int, after *string) (*model.AuditEntryConnection, error) {
	page, err := r.Audit.List(ctx, auditFilter(filter), first, after, selectsTotalCount(ctx))
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return auditConnection(page), nil
}

// RecordPrivacyRequest is the resolver for the recordPrivacyRequest field.
func (r *mutationResolver) RecordPrivacyRequest(ctx context.Context, input model.RecordPrivacyRequestInput) (*model.RecordPrivacyRequestPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	req, err := r.PrivacyService.Record(ctx, privacy.NewRequest{CustomerID: input.CustomerID.Value(), Type: input.Type,
		ReceivedAt: input.ReceivedAt, Notes: input.Notes.Value(), IdempotencyKey: input.IdempotencyKey.Value()})
	ue, err := userErrors(ctx, err)
	return &model.RecordPrivacyRequestPayload{PrivacyRequest: req, UserErrors: ue}, err
}

// CompletePrivacyRequest is the resolver for the completePrivacyRequest field.
func (r *mutationResolver) CompletePrivacyRequest(ctx context.Context, input model.CompletePrivacyRequestInput) (*model.CompletePrivacyRequestPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	status := models.PrivacyRequestCompleted
	if v := input.Status.Value(); v != nil {
		status = *v
	}
	req, err := r.PrivacyService.Complete(ctx, privacy.Completion{ID: input.ID, Status: status, Outcome: input.Outcome.Value()})
	ue, err := userErrors(ctx, err)
	return &model.CompletePrivacyRequestPayload{PrivacyRequest: req, UserErrors: ue}, err
}

// UpdatePrivacySettings is the resolver for the updatePrivacySettings field.
func (r *mutationResolver) UpdatePrivacySettings(ctx context.Context, input model.UpdatePrivacySettingsInput) (*model.UpdatePrivacySettingsPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	st, err := r.PrivacyService.UpdateSettings(ctx, input.ResponseDays.Value())
	ue, err := userErrors(ctx, err)
	return &model.UpdatePrivacySettingsPayload{PrivacySettings: privacySettings(st), UserErrors: ue}, err
}

// ExportCustomerData is the resolver for the exportCustomerData field.
func (r *queryResolver) ExportCustomerData(ctx context.Context, customerID uuid.UUID) (map[string]any, error) {
	doc, err := r.ExportService.Export(ctx, customerID)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return exportDocument(doc)
}

// PrivacyRequests is the resolver for the privacyRequests field.
func (r *queryResolver) PrivacyRequests(ctx context.Context, first *int, after *string, status *models.PrivacyRequestStatus, overdue *bool, customerID *uuid.UUID) (*model.PrivacyRequestConnection, error) {
	page, err := r.PrivacyService.List(ctx, privacy.Filter{Status: status, Overdue: overdue, CustomerID: customerID}, first, after, selectsTotalCount(ctx))
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return privacyConnection(page), nil
}

// PrivacySettings is the resolver for the privacySettings field.
func (r *queryResolver) PrivacySettings(ctx context.Context) (*model.PrivacySettings, error) {
	st, err := r.PrivacyService.Settings(ctx)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return privacySettings(st), nil
}

// CreateSavedSegment is the resolver for the createSavedSegment field.
func (r *mutationResolver) CreateSavedSegment(ctx context.Context, input model.CreateSavedSegmentInput) (*model.CreateSavedSegmentPayload, error) {
	seg, err := r.SavedSegmentService.Create(ctx, savedSegmentInput(&input.Name, input.Description, input.Filter, input.Search))
	ue, err := userErrors(ctx, err)
	return &model.CreateSavedSegmentPayload{SavedSegment: seg, UserErrors: ue}, err
}

// UpdateSavedSegment is the resolver for the updateSavedSegment field.
func (r *mutationResolver) UpdateSavedSegment(ctx context.Context, id uuid.UUID, input model.UpdateSavedSegmentInput) (*model.UpdateSavedSegmentPayload, error) {
	seg, err := r.SavedSegmentService.Update(ctx, id, savedSegmentInput(input.Name.Value(), input.Description, input.Filter, input.Search))
	ue, err := userErrors(ctx, err)
	return &model.UpdateSavedSegmentPayload{SavedSegment: seg, UserErrors: ue}, err
}

// DeleteSavedSegment is the resolver for the deleteSavedSegment field.
func (r *mutationResolver) DeleteSavedSegment(ctx context.Context, id uuid.UUID) (*model.DeleteSavedSegmentPayload, error) {
	err := r.SavedSegmentService.Delete(ctx, id)
	ue, err := userErrors(ctx, err)
	if err != nil || len(ue) > 0 {
		return &model.DeleteSavedSegmentPayload{UserErrors: ue}, err
	}
	return &model.DeleteSavedSegmentPayload{DeletedSavedSegmentID: &id, UserErrors: ue}, nil
}

// SavedSegments is the resolver for the savedSegments field.
func (r *queryResolver) SavedSegments(ctx context.Context, first *int, after *string) (*model.SavedSegmentConnection, error) {
	page, err := r.SavedSegmentService.List(ctx, first, after)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return savedSegmentConnection(page), nil
}

// SavedSegment is the resolver for the savedSegment field.
func (r *queryResolver) SavedSegment(ctx context.Context, id uuid.UUID) (*savedsegments.Segment, error) {
	seg, err := r.SavedSegmentService.Get(ctx, id)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return seg, nil
}

// CustomerCount is the resolver for the customerCount field: the segment evaluated now.
func (r *savedSegmentResolver) CustomerCount(ctx context.Context, obj *savedsegments.Segment) (int, error) {
	st, err := r.CustomerService.Stats(ctx, customers.Filter{And: &obj.Live})
	if err != nil {
		return 0, queryError(ctx, err)
	}
	return st.Total, nil
}

// Customers is the resolver for the customers field: the segment evaluated now.
func (r *savedSegmentResolver) Customers(ctx context.Context, obj *savedsegments.Segment, first *int, after *string, orderBy *model.CustomerOrder) (*model.CustomerConnection, error) {
	shape := connectionSelections(ctx)
	params := customerListParams(first, after, nil, nil, nil, nil, orderBy, shape.count)
	params.Filter.And = &obj.Live
	page, err := r.View.Customers(ctx, shape.sel, params)
	if err != nil {
		return nil, renderError(ctx, err)
	}
	return customerConnection(page, shape), nil
}

// SavedSegment returns SavedSegmentResolver implementation.
func (r *Resolver) SavedSegment() SavedSegmentResolver { return &savedSegmentResolver{r} }

// Subscription returns SubscriptionResolver implementation.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

type savedSegmentResolver struct{ *Resolver }
type subscriptionResolver struct{ *Resolver }

// CustomerEvents is the resolver for the customerEvents field.
func (r *subscriptionResolver) CustomerEvents(ctx context.Context, customerID uuid.UUID) (<-chan *timeline.Event, error) {
	return r.subscribe(ctx, subscriptions.Filter{Customer: customerID})
}

// OrganizationEvents is the resolver for the organizationEvents field.
func (r *subscriptionResolver) OrganizationEvents(ctx context.Context, kinds []string) (<-chan *timeline.Event, error) {
	return r.subscribe(ctx, subscriptions.Filter{Kinds: kinds})
}
