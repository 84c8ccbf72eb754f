package graph

import (
	"github.com/google/uuid"

	"customerservice/graph/model"
	"customerservice/loyalty"
	"customerservice/models"
)

// The GraphQL side of loyalty (§4): inputs to the domain's. The rules are in package loyalty.

func newPurchase(in model.RecordPurchaseInput) loyalty.NewPurchase {
	return loyalty.NewPurchase{
		CustomerID: in.CustomerID,
		OrderID:    in.OrderID,
		Amount:     in.Amount,
		OccurredAt: in.OccurredAt.Value(),
		Channel:    in.Channel.Value(),
	}
}

// programChanges: an omitted setting keeps its value, and so does a null one (settings are
// never null).
func programChanges(in model.UpdateLoyaltyProgramInput) loyalty.ProgramChanges {
	return loyalty.ProgramChanges{
		PointsPerCurrencyUnit: in.PointsPerCurrencyUnit.Value(),
		MultiplierBronze:      in.MultiplierBronze.Value(),
		MultiplierSilver:      in.MultiplierSilver.Value(),
		MultiplierGold:        in.MultiplierGold.Value(),
		MultiplierPlatinum:    in.MultiplierPlatinum.Value(),
		ThresholdSilver:       in.ThresholdSilver.Value(),
		ThresholdGold:         in.ThresholdGold.Value(),
		ThresholdPlatinum:     in.ThresholdPlatinum.Value(),
		QualificationMonths:   in.QualificationMonths.Value(),
		TierDurationMonths:    in.TierDurationMonths.Value(),
		PointsLifetimeMonths:  in.PointsLifetimeMonths.Value(),
		AutoEnroll:            in.AutoEnroll.Value(),
		SegmentLookbackDays:   in.SegmentLookbackDays.Value(),
		PendingDays:           in.PendingDays.Value(),
	}
}

// loyaltyAccountID is the id of an account a mutation returned, nil for none (a purchase of
// a customer not enrolled).
func loyaltyAccountID(a *models.LoyaltyAccount) *uuid.UUID {
	if a == nil {
		return nil
	}
	return &a.ID
}
