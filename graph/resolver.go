// Package graph is the GraphQL edge: the gqlgen-generated executor, thin resolvers that
// translate between GraphQL and the domain services or the Customer 360 reader, and the
// directives. Resolvers hold no SQL and no business rules.
package graph

import (
	"customerservice/credit"
	"customerservice/customer360"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/jobs"
	"customerservice/loyalty"
	"customerservice/segments"
)

//go:generate go run github.com/99designs/gqlgen generate

// Resolver holds the domain services the resolvers call.
type Resolver struct {
	CustomerService *customers.Service
	LoyaltyService  *loyalty.Service
	CreditService   *credit.Service
	SegmentService  *segments.Service
	JobService      *jobs.Service
	// View renders the Customer 360's objects (customer360).
	View *customer360.Reader
}

// NewResolver wires the domain services over the database handle (its read replica, if
// any, serves the reads of query operations: see NewHandler).
func NewResolver(h *db.Handle) *Resolver {
	return &Resolver{
		CustomerService: customers.NewService(h),
		LoyaltyService:  loyalty.NewService(h),
		CreditService:   credit.NewService(h),
		SegmentService:  segments.NewService(h),
		// Without a schedule (nextRunAt null); `serve` sets this replica's.
		JobService: jobs.NewService(h, nil),
		View:       customer360.NewReader(h),
	}
}
