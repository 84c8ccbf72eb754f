// Package models holds the bun models: one struct per table of specification §2, with tags.
// Enumerations are stored lower-case and bound to the GraphQL enums in gqlgen.yml.
//
// organization_id is part of every tenant model's primary key (pk), as it is of the table's
// (docs/decisions-tenancy-keys.md): WherePK then names the organization in SQL.
package models

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

type CustomerType string

const (
	CustomerTypeB2C CustomerType = "b2c"
	CustomerTypeB2B CustomerType = "b2b"
)

type CustomerStatus string

const (
	CustomerStatusActive   CustomerStatus = "active"
	CustomerStatusInactive CustomerStatus = "inactive"
	CustomerStatusBlocked  CustomerStatus = "blocked"
	// CustomerStatusMerged: merged into another customer (§10, MergedInto); no longer
	// written to.
	CustomerStatusMerged CustomerStatus = "merged"
)

type DocumentType string

const (
	DocumentTypeCedula   DocumentType = "cedula"
	DocumentTypeRUC      DocumentType = "ruc"
	DocumentTypePassport DocumentType = "passport"
	DocumentTypeOther    DocumentType = "other"
)

type AddressType string

const (
	AddressTypeShipping AddressType = "shipping"
	AddressTypeBilling  AddressType = "billing"
	AddressTypeBoth     AddressType = "both"
)

type Tier string

const (
	TierBronze   Tier = "bronze"
	TierSilver   Tier = "silver"
	TierGold     Tier = "gold"
	TierPlatinum Tier = "platinum"
)

type CreditStatus string

const (
	CreditStatusPending   CreditStatus = "pending"
	CreditStatusApproved  CreditStatus = "approved"
	CreditStatusSuspended CreditStatus = "suspended"
	CreditStatusCancelled CreditStatus = "cancelled"
)

type SegmentCode string

const (
	SegmentChampions         SegmentCode = "champions"
	SegmentLoyal             SegmentCode = "loyal"
	SegmentPotentialLoyalist SegmentCode = "potential_loyalist"
	SegmentNew               SegmentCode = "new"
	SegmentAtRisk            SegmentCode = "at_risk"
	SegmentLost              SegmentCode = "lost"
)

type Customer struct {
	bun.BaseModel `bun:"table:customers,alias:c"`

	ID             uuid.UUID     `bun:"customer_id,pk,type:uuid"`
	OrganizationID uuid.UUID     `bun:"organization_id,pk,type:uuid"`
	CustomerType   CustomerType  `bun:"customer_type"`
	FirstName      string        `bun:"first_name"`
	LastName       string        `bun:"last_name"`
	Email          *string       `bun:"email"`
	Phone          *string       `bun:"phone"`
	DocumentType   *DocumentType `bun:"document_type"`
	DocumentNumber *string       `bun:"document_number"`
	// DocumentCheckDigit is a RUC's check digit (DV), two digits (§10).
	DocumentCheckDigit *string        `bun:"document_check_digit"`
	BirthDate          *time.Time     `bun:"birth_date,type:date"`
	Gender             *string        `bun:"gender"`
	Status             CustomerStatus `bun:"status"`
	StatusReason       *string        `bun:"status_reason"`
	PreferredLanguage  string         `bun:"preferred_language"`
	MarketingConsent   bool           `bun:"marketing_consent"`
	Tags               []string       `bun:"tags,array"`
	Metadata           map[string]any `bun:"metadata,type:jsonb"`
	Notes              *string        `bun:"notes"`
	ErasedAt           *time.Time     `bun:"erased_at"`
	// ExternalID is the customer's key in the system a CSV import came from (§10).
	ExternalID *string `bun:"external_id"`
	// MergedInto is the survivor a merged customer was merged into (§10).
	MergedInto     *uuid.UUID `bun:"merged_into,type:uuid"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time  `bun:"updated_at,nullzero,default:now()"`
	LastPurchaseAt *time.Time `bun:"last_purchase_at"`
}

type Address struct {
	bun.BaseModel `bun:"table:addresses,alias:a"`

	ID             uuid.UUID   `bun:"address_id,pk,type:uuid"`
	OrganizationID uuid.UUID   `bun:"organization_id,pk,type:uuid"`
	CustomerID     uuid.UUID   `bun:"customer_id,type:uuid"`
	AddressType    AddressType `bun:"address_type"`
	RecipientName  *string     `bun:"recipient_name"`
	AddressLine1   string      `bun:"address_line1"`
	AddressLine2   *string     `bun:"address_line2"`
	City           string      `bun:"city"`
	State          *string     `bun:"state"`
	PostalCode     *string     `bun:"postal_code"`
	Country        string      `bun:"country"`
	Phone          *string     `bun:"phone"`
	IsDefault      bool        `bun:"is_default"`
	IsActive       bool        `bun:"is_active"`
	CreatedAt      time.Time   `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time   `bun:"updated_at,nullzero,default:now()"`
}

type LoyaltyAccount struct {
	bun.BaseModel `bun:"table:loyalty_accounts,alias:la"`

	ID             uuid.UUID       `bun:"loyalty_account_id,pk,type:uuid"`
	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CustomerID     uuid.UUID       `bun:"customer_id,type:uuid"`
	PointsBalance  int             `bun:"points_balance"`
	LifetimePoints int             `bun:"lifetime_points"`
	PointsRedeemed int             `bun:"points_redeemed"`
	Tier           Tier            `bun:"tier"`
	TierSince      time.Time       `bun:"tier_since,type:date"`
	TierExpiresAt  *time.Time      `bun:"tier_expires_at,type:date"`
	TotalPurchases int             `bun:"total_purchases"`
	TotalSpent     decimal.Decimal `bun:"total_spent,type:numeric"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time       `bun:"updated_at,nullzero,default:now()"`
}

type CreditAccount struct {
	bun.BaseModel `bun:"table:credit_accounts,alias:ca"`

	ID                 uuid.UUID       `bun:"credit_account_id,pk,type:uuid"`
	OrganizationID     uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CustomerID         uuid.UUID       `bun:"customer_id,type:uuid"`
	CreditLimit        decimal.Decimal `bun:"credit_limit,type:numeric"`
	CreditUsed         decimal.Decimal `bun:"credit_used,type:numeric"`
	CreditAvailable    decimal.Decimal `bun:"credit_available,type:numeric,scanonly"`
	PaymentTermDays    int             `bun:"payment_term_days"`
	Status             CreditStatus    `bun:"status"`
	ApprovedAt         *time.Time      `bun:"approved_at"`
	ApprovedBy         *uuid.UUID      `bun:"approved_by,type:uuid"`
	ApprovalNotes      *string         `bun:"approval_notes"`
	SuspendedAt        *time.Time      `bun:"suspended_at"`
	SuspensionReason   *string         `bun:"suspension_reason"`
	CancelledAt        *time.Time      `bun:"cancelled_at"`
	CancellationReason *string         `bun:"cancellation_reason"`
	// §14 four-eyes: who opened the account (NULL for accounts opened before it was
	// recorded) and who last asked for a limit it does not have yet (RequestedLimit, an
	// increase of an approved or suspended account waiting for a second manager).
	OpenedBy         *uuid.UUID       `bun:"opened_by,type:uuid"`
	RequestedLimit   *decimal.Decimal `bun:"requested_limit,type:numeric"`
	LimitRequestedBy *uuid.UUID       `bun:"limit_requested_by,type:uuid"`
	LimitRequestedAt *time.Time       `bun:"limit_requested_at"`
	// Whether approving the opening, and the limit asked for, needs a manager other than
	// the one who made the request: the policy when the request was made (§14), so a
	// policy turned off later does not let its maker approve it.
	OpenRequiresSecondApprover  bool      `bun:"open_requires_second_approver"`
	LimitRequiresSecondApprover bool      `bun:"limit_requires_second_approver"`
	CreatedAt                   time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt                   time.Time `bun:"updated_at,nullzero,default:now()"`
}

// CreditPolicy is an organization's credit risk settings (§14), one row per organization.
type CreditPolicy struct {
	bun.BaseModel `bun:"table:credit_policies,alias:pol"`

	OrganizationID         uuid.UUID `bun:"organization_id,pk,type:uuid"`
	BlockWhenOverdueDays   int       `bun:"block_when_overdue_days"`
	WarnUtilizationPercent int       `bun:"warn_utilization_percent"`
	RequireSecondApprover  bool      `bun:"require_second_approver"`
	CreatedAt              time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt              time.Time `bun:"updated_at,nullzero,default:now()"`
}

type CustomerSegment struct {
	bun.BaseModel `bun:"table:customer_segments,alias:s"`

	ID                    uuid.UUID       `bun:"segment_id,pk,type:uuid"`
	OrganizationID        uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CustomerID            uuid.UUID       `bun:"customer_id,type:uuid"`
	SegmentCode           SegmentCode     `bun:"segment_code"`
	RfmRecency            *int            `bun:"rfm_recency"`
	RfmFrequency          *int            `bun:"rfm_frequency"`
	RfmMonetary           *int            `bun:"rfm_monetary"`
	RfmScore              *int            `bun:"rfm_score,scanonly"`
	LifetimeValue         decimal.Decimal `bun:"lifetime_value,type:numeric"`
	AverageOrderValue     decimal.Decimal `bun:"average_order_value,type:numeric"`
	TotalOrders           int             `bun:"total_orders"`
	DaysSinceLastPurchase *int            `bun:"days_since_last_purchase"`
	IsVip                 bool            `bun:"is_vip"`
	IsAtRisk              bool            `bun:"is_at_risk"`
	CalculatedAt          time.Time       `bun:"calculated_at,nullzero,default:now()"`
}

// AuditEntry is one row of audit_log (§8): who did what to which entity, by field name only.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:al"`

	ID             int64          `bun:"audit_id,pk,autoincrement"`
	OrganizationID uuid.UUID      `bun:"organization_id,pk,type:uuid"`
	ActorID        uuid.UUID      `bun:"actor_id,type:uuid"`
	Action         string         `bun:"action"`
	EntityType     string         `bun:"entity_type"`
	EntityID       *uuid.UUID     `bun:"entity_id,type:uuid"`
	ChangedFields  []string       `bun:"changed_fields,array"`
	Details        map[string]any `bun:"details,type:jsonb"`
	CreatedAt      time.Time      `bun:"created_at,nullzero,default:now()"`
}

// FullName is the first and last name joined.
func (c *Customer) FullName() string { return c.FirstName + " " + c.LastName }

// SavedSegment is a named customer filter of an organization (§12), evaluated live. Filter
// is the versioned document package savedsegments writes.
type SavedSegment struct {
	bun.BaseModel `bun:"table:saved_segments,alias:ss"`

	ID             uuid.UUID       `bun:"saved_segment_id,pk,type:uuid"`
	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	Name           string          `bun:"name"`
	Description    *string         `bun:"description"`
	Filter         json.RawMessage `bun:"filter,type:jsonb"`
	CreatedBy      uuid.UUID       `bun:"created_by,type:uuid"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time       `bun:"updated_at,nullzero,default:now()"`
}

// ConsentPurpose is what a customer consents to (§11).
type ConsentPurpose string

const (
	ConsentMarketingEmail    ConsentPurpose = "marketing_email"
	ConsentMarketingSMS      ConsentPurpose = "marketing_sms"
	ConsentMarketingWhatsApp ConsentPurpose = "marketing_whatsapp"
	ConsentProfiling         ConsentPurpose = "profiling"
	ConsentThirdPartySharing ConsentPurpose = "third_party_sharing"
)

// ConsentChannel is where a consent was given or revoked (§11).
type ConsentChannel string

const (
	ConsentChannelPOS        ConsentChannel = "pos"
	ConsentChannelWeb        ConsentChannel = "web"
	ConsentChannelApp        ConsentChannel = "app"
	ConsentChannelCallCenter ConsentChannel = "call_center"
	ConsentChannelImport     ConsentChannel = "import"
)

// Consent is one row of a customer's consent history (§11): append-only.
type Consent struct {
	bun.BaseModel `bun:"table:customer_consents,alias:k"`

	ID             uuid.UUID       `bun:"consent_id,pk,type:uuid"`
	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	CustomerID     uuid.UUID       `bun:"customer_id,type:uuid"`
	Purpose        ConsentPurpose  `bun:"purpose"`
	Granted        bool            `bun:"granted"`
	Channel        *ConsentChannel `bun:"channel"`
	Evidence       *string         `bun:"evidence"`
	RecordedBy     uuid.UUID       `bun:"recorded_by,type:uuid"`
	RecordedAt     time.Time       `bun:"recorded_at,nullzero,default:clock_timestamp()"`
}
