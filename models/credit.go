package models

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

type CreditUsageStatus string

const (
	UsagePending   CreditUsageStatus = "pending"
	UsagePaid      CreditUsageStatus = "paid"
	UsageOverdue   CreditUsageStatus = "overdue"
	UsageCancelled CreditUsageStatus = "cancelled"
)

// CreditUsage is a charge of one order against a credit account (§5).
type CreditUsage struct {
	bun.BaseModel `bun:"table:credit_usage,alias:cu"`

	ID              uuid.UUID         `bun:"usage_id,pk,type:uuid"`
	OrganizationID  uuid.UUID         `bun:"organization_id,pk,type:uuid"`
	CreditAccountID uuid.UUID         `bun:"credit_account_id,type:uuid"`
	OrderID         string            `bun:"order_id"`
	Amount          decimal.Decimal   `bun:"amount,type:numeric"`
	AmountPaid      decimal.Decimal   `bun:"amount_paid,type:numeric"`
	Status          CreditUsageStatus `bun:"status"`
	DueDate         time.Time         `bun:"due_date,type:date"`
	CancelledAt     *time.Time        `bun:"cancelled_at"` // set once, when cancelled (§13 as-of)
	CreatedAt       time.Time         `bun:"created_at,nullzero,default:now()"`
	UpdatedAt       time.Time         `bun:"updated_at,nullzero,default:now()"`
	ActorID         *uuid.UUID        `bun:"actor_id,type:uuid"` // who charged it (§12); nil before it was kept
}

// CreditAllocation is the share of a payment that went to one charge, when (§13: the
// append-only ledger the as-of reads replay; amount_paid is its running sum).
type CreditAllocation struct {
	bun.BaseModel `bun:"table:credit_allocations,alias:al"`

	ID              uuid.UUID       `bun:"allocation_id,pk,type:uuid"`
	OrganizationID  uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CreditAccountID uuid.UUID       `bun:"credit_account_id,type:uuid"`
	PaymentID       uuid.UUID       `bun:"payment_id,type:uuid"`
	UsageID         uuid.UUID       `bun:"usage_id,type:uuid"`
	Amount          decimal.Decimal `bun:"amount,type:numeric"`
	CreatedAt       time.Time       `bun:"created_at,nullzero,default:now()"`
}

// CreditLimitChange is a limit an account had from an instant on (§13: append-only; the
// first is the limit it was opened with).
type CreditLimitChange struct {
	bun.BaseModel `bun:"table:credit_limit_changes,alias:lc"`

	ID              uuid.UUID       `bun:"change_id,pk,type:uuid"`
	OrganizationID  uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CreditAccountID uuid.UUID       `bun:"credit_account_id,type:uuid"`
	CreditLimit     decimal.Decimal `bun:"credit_limit,type:numeric"`
	ChangedBy       uuid.UUID       `bun:"changed_by,type:uuid"`
	ChangedAt       time.Time       `bun:"changed_at,nullzero,default:now()"`
}

// CreditPayment is a payment against a credit account, unique by reference (§5, §8).
type CreditPayment struct {
	bun.BaseModel `bun:"table:credit_payments,alias:cp"`

	ID               uuid.UUID       `bun:"payment_id,pk,type:uuid"`
	OrganizationID   uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CreditAccountID  uuid.UUID       `bun:"credit_account_id,type:uuid"`
	Amount           decimal.Decimal `bun:"amount,type:numeric"`
	PaymentReference string          `bun:"payment_reference"`
	PaymentDate      time.Time       `bun:"payment_date,type:date"`
	CreatedAt        time.Time       `bun:"created_at,nullzero,default:now()"`
	ActorID          *uuid.UUID      `bun:"actor_id,type:uuid"` // who recorded it (§12); nil before it was kept
}
