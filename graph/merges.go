package graph

import (
	"context"

	"github.com/google/uuid"

	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/merges"
)

// MergeCustomers is the resolver for the mergeCustomers field.
func (r *mutationResolver) MergeCustomers(ctx context.Context, input model.MergeCustomersInput) (*model.MergeCustomersPayload, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, err
	}
	m, err := r.MergeService.Merge(ctx, merges.Request{SurvivorID: input.SurvivorID, MergedIDs: input.MergedIds,
		FieldChoices: fieldChoices(input.FieldChoices.Value()), IdempotencyKey: input.IdempotencyKey})
	ue, err := userErrors(ctx, err)
	if err != nil || m == nil {
		return &model.MergeCustomersPayload{UserErrors: ue}, err
	}
	customer, err := r.payloadCustomer(ctx, &m.Plan.SurvivorID)
	return &model.MergeCustomersPayload{Customer: customer, Merge: m.Plan, UserErrors: ue}, err
}

// PreviewCustomerMerge is the resolver for the previewCustomerMerge field.
func (r *queryResolver) PreviewCustomerMerge(ctx context.Context, survivorID uuid.UUID, mergedIds []uuid.UUID, choices []model.CustomerMergeFieldChoice) (*merges.Plan, error) {
	p, err := r.MergeService.Preview(ctx, merges.Request{SurvivorID: survivorID, MergedIDs: mergedIds, FieldChoices: fieldChoices(choices)})
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return p, nil
}

func fieldChoices(in []model.CustomerMergeFieldChoice) []customers.FieldChoice {
	out := make([]customers.FieldChoice, len(in))
	for i, c := range in {
		out[i] = customers.FieldChoice{Field: c.Field, CustomerID: c.CustomerID}
	}
	return out
}
