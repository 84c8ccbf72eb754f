package graph

import (
	"context"

	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/models"
)

// consent records a grant or a revocation (record) and renders its payload: the record and
// the customer, or the user errors.
func (r *mutationResolver) consent(ctx context.Context, record func(context.Context, customers.ConsentChange) (*models.Consent, error),
	in customers.ConsentChange) (*models.Consent, model.Object, []model.UserError, error) {
	if err := checkPayload(ctx); err != nil {
		return nil, nil, nil, err
	}
	k, err := record(ctx, in)
	ue, err := userErrors(ctx, err)
	if err != nil || k == nil {
		return nil, nil, ue, err
	}
	customer, err := r.payloadCustomer(ctx, &k.CustomerID)
	return k, customer, ue, err
}
