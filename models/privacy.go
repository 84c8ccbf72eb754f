package models

import (
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// PrivacyRequestType is the right a data subject exercises (§11, Ley 81 de 2019).
type PrivacyRequestType string

const (
	PrivacyAccess        PrivacyRequestType = "access"
	PrivacyRectification PrivacyRequestType = "rectification"
	PrivacyCancellation  PrivacyRequestType = "cancellation"
	PrivacyOpposition    PrivacyRequestType = "opposition"
	PrivacyPortability   PrivacyRequestType = "portability"
)

// PrivacyRequestStatus is where a privacy request stands.
type PrivacyRequestStatus string

const (
	PrivacyRequestOpen      PrivacyRequestStatus = "open"
	PrivacyRequestCompleted PrivacyRequestStatus = "completed"
	PrivacyRequestRejected  PrivacyRequestStatus = "rejected"
)

// PrivacyRequest is one entry of the privacy requests log (§11).
type PrivacyRequest struct {
	bun.BaseModel `bun:"table:privacy_requests,alias:pr"`

	ID             uuid.UUID            `bun:"privacy_request_id,pk,type:uuid"`
	OrganizationID uuid.UUID            `bun:"organization_id,pk,type:uuid"`
	CustomerID     *uuid.UUID           `bun:"customer_id,type:uuid"`
	Type           PrivacyRequestType   `bun:"request_type"`
	Status         PrivacyRequestStatus `bun:"status"`
	ReceivedAt     time.Time            `bun:"received_at"`
	ResponseDays   int                  `bun:"response_days"`
	DueDate        time.Time            `bun:"due_date,type:date"`
	Notes          *string              `bun:"notes"`
	Outcome        *string              `bun:"outcome"`
	IdempotencyKey *string              `bun:"idempotency_key"`
	RecordedBy     uuid.UUID            `bun:"recorded_by,type:uuid"`
	RecordedAt     time.Time            `bun:"recorded_at,nullzero,default:clock_timestamp()"`
	CompletedBy    *uuid.UUID           `bun:"completed_by,type:uuid"`
	CompletedAt    *time.Time           `bun:"completed_at"`
	// Overdue is computed by the read: open past its due date (UTC).
	Overdue bool `bun:"overdue,scanonly"`
}

// PrivacySettings are an organization's privacy settings (§11): one row, created on the
// first change.
type PrivacySettings struct {
	bun.BaseModel `bun:"table:privacy_settings,alias:ps"`

	OrganizationID uuid.UUID `bun:"organization_id,pk,type:uuid"`
	ResponseDays   int       `bun:"response_days"`
	CreatedAt      time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time `bun:"updated_at,nullzero,default:now()"`
}
