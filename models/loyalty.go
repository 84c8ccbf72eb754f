package models

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

type LoyaltyTransactionType string

const (
	TxEarn   LoyaltyTransactionType = "earn"
	TxRedeem LoyaltyTransactionType = "redeem"
	TxExpire LoyaltyTransactionType = "expire"
	TxAdjust LoyaltyTransactionType = "adjust"
	TxBonus  LoyaltyTransactionType = "bonus"
	TxVest   LoyaltyTransactionType = "vest"
)

// LoyaltyProgram is an organization's settings (§4).
type LoyaltyProgram struct {
	bun.BaseModel `bun:"table:loyalty_programs,alias:lp"`

	OrganizationID        uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	PointsPerCurrencyUnit decimal.Decimal `bun:"points_per_currency_unit,type:numeric"`
	MultiplierBronze      decimal.Decimal `bun:"multiplier_bronze,type:numeric"`
	MultiplierSilver      decimal.Decimal `bun:"multiplier_silver,type:numeric"`
	MultiplierGold        decimal.Decimal `bun:"multiplier_gold,type:numeric"`
	MultiplierPlatinum    decimal.Decimal `bun:"multiplier_platinum,type:numeric"`
	ThresholdSilver       int             `bun:"threshold_silver"`
	ThresholdGold         int             `bun:"threshold_gold"`
	ThresholdPlatinum     int             `bun:"threshold_platinum"`
	QualificationMonths   int             `bun:"qualification_months"`
	TierDurationMonths    int             `bun:"tier_duration_months"`
	PointsLifetimeMonths  int             `bun:"points_lifetime_months"`
	AutoEnroll            bool            `bun:"auto_enroll"`
	SegmentLookbackDays   int             `bun:"segment_lookback_days"`
	PendingDays           int             `bun:"pending_days"`
	CreatedAt             time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt             time.Time       `bun:"updated_at,nullzero,default:now()"`
}

// LoyaltyTransaction is one movement of points; earn and bonus rows are also lots (§4).
type LoyaltyTransaction struct {
	bun.BaseModel `bun:"table:loyalty_transactions,alias:lt"`

	ID               uuid.UUID              `bun:"transaction_id,pk,type:uuid"`
	OrganizationID   uuid.UUID              `bun:"organization_id,pk,type:uuid"`
	LoyaltyAccountID uuid.UUID              `bun:"loyalty_account_id,type:uuid"`
	Type             LoyaltyTransactionType `bun:"transaction_type"`
	Points           int                    `bun:"points"`
	BalanceAfter     int                    `bun:"balance_after"`
	ReferenceType    *string                `bun:"reference_type"`
	ReferenceID      *string                `bun:"reference_id"`
	Description      *string                `bun:"description"`
	Metadata         map[string]any         `bun:"metadata,type:jsonb"`
	PointsRemaining  *int                   `bun:"points_remaining"`
	ExpiresAt        *time.Time             `bun:"expires_at"`
	ActorID          *uuid.UUID             `bun:"actor_id,type:uuid"` // who moved the points (§12); nil before it was kept
	// OccurredAt is when the movement counts from when it is not CreatedAt (§13: the earn of
	// a back-dated purchase counts at the purchase's time); nil means CreatedAt.
	OccurredAt *time.Time `bun:"occurred_at"`
	// VestsAt is when a pending earn's points vest (§13), and, on a refund's cancellation
	// of pending points, that of the lot it cancels; Pending the lot's state until then.
	VestsAt *time.Time `bun:"vests_at"`
	Pending bool       `bun:"pending"`
	// MergedFromAccountID is the account the movement was recorded on, when a merge (§10)
	// moved it into this one; its BalanceAfter is that account's.
	MergedFromAccountID *uuid.UUID `bun:"merged_from_account_id,type:uuid"`
	CreatedAt           time.Time  `bun:"created_at,nullzero,default:now()"`
}

// Purchase is a paid order that drives loyalty and RFM (§4, §6).
type Purchase struct {
	bun.BaseModel `bun:"table:purchases,alias:p"`

	ID             uuid.UUID       `bun:"purchase_id,pk,type:uuid"`
	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CustomerID     uuid.UUID       `bun:"customer_id,type:uuid"`
	OrderID        string          `bun:"order_id"`
	Amount         decimal.Decimal `bun:"amount,type:numeric"`
	RefundedAmount decimal.Decimal `bun:"refunded_amount,type:numeric"`
	PointsEarned   int             `bun:"points_earned"`
	PointsReversed int             `bun:"points_reversed"`
	Channel        *string         `bun:"channel"`
	OccurredAt     time.Time       `bun:"occurred_at"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	ActorID        *uuid.UUID      `bun:"actor_id,type:uuid"` // who recorded it (§12); nil before it was kept
}

// PurchaseRefund is one refund of a purchase, unique by refund id (§8 idempotency).
type PurchaseRefund struct {
	bun.BaseModel `bun:"table:purchase_refunds,alias:pr"`

	RefundID       string          `bun:"refund_id,pk"`
	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	PurchaseID     uuid.UUID       `bun:"purchase_id,type:uuid"`
	Amount         decimal.Decimal `bun:"amount,type:numeric"`
	PointsReversed int             `bun:"points_reversed"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	ActorID        *uuid.UUID      `bun:"actor_id,type:uuid"` // who recorded it (§12); nil before it was kept
}
