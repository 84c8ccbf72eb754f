// Package graph is the GraphQL edge: the gqlgen-generated executor, thin resolvers that
// translate between GraphQL and the domain services or the Customer 360 reader, and the
// directives. Resolvers hold no SQL and no business rules.
package graph

import (
	"github.com/rs/zerolog"

	"customerservice/audit"
	"customerservice/credit"
	"customerservice/customer360"
	"customerservice/customers"
	"customerservice/dataexport"
	"customerservice/db"
	"customerservice/jobs"
	"customerservice/loyalty"
	"customerservice/merges"
	"customerservice/privacy"
	"customerservice/savedsegments"
	"customerservice/segments"
	"customerservice/subscriptions"
)

//go:generate go run github.com/99designs/gqlgen generate

// Resolver holds the domain services the resolvers call.
type Resolver struct {
	CustomerService *customers.Service
	LoyaltyService  *loyalty.Service
	CreditService   *credit.Service
	SegmentService  *segments.Service
	JobService      *jobs.Service
	Audit           *audit.Log
	// SavedSegmentService is the saved segments' (§12).
	SavedSegmentService *savedsegments.Service
	// MergeService merges duplicate customers (§10).
	MergeService *merges.Service
	// PrivacyService is the privacy requests log and settings (§11); ExportService answers
	// exportCustomerData.
	PrivacyService *privacy.Service
	ExportService  *dataexport.Service
	// View renders the Customer 360's objects (customer360).
	View *customer360.Reader
	// Hub delivers the live timeline events of the subscriptions (§12).
	Hub *subscriptions.Hub
}

// ResolverOptions are what a resolver needs besides the database. The zero value is a
// replica that runs no scheduled jobs.
type ResolverOptions struct {
	// JobSchedule is when this replica runs the daily jobs (nil: it runs none, and the
	// jobs' nextRunAt is null).
	JobSchedule *jobs.Schedule
	// Subscriptions bounds the live subscriptions; SubscriptionObserver counts them (nil:
	// not counted); Log is where the hub logs (nil: nowhere).
	Subscriptions        subscriptions.Config
	SubscriptionObserver subscriptions.Observer
	Log                  *zerolog.Logger
}

// NewResolver wires the domain services over the database handle (its read replica, if
// any, serves the reads of query operations: see NewHandler).
func NewResolver(h *db.Handle, opts ResolverOptions) *Resolver {
	log := zerolog.Nop()
	if opts.Log != nil {
		log = *opts.Log
	}
	return &Resolver{
		CustomerService:     customers.NewService(h),
		LoyaltyService:      loyalty.NewService(h),
		CreditService:       credit.NewService(h),
		SegmentService:      segments.NewService(h),
		JobService:          jobs.NewService(h, opts.JobSchedule),
		Audit:               audit.NewLog(h),
		SavedSegmentService: savedsegments.NewService(h),
		MergeService:        merges.NewService(h),
		PrivacyService:      privacy.NewService(h),
		ExportService:       dataexport.NewService(h),
		View:                customer360.NewReader(h),
		Hub:                 subscriptions.New(h, opts.Subscriptions, opts.SubscriptionObserver, log),
	}
}
