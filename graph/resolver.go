// Package graph is the GraphQL edge: the gqlgen-generated executor, thin resolvers that
// translate between GraphQL and the domain services, the per-request loaders and the
// directives. Resolvers hold no SQL and no business rules.
package graph

import (
	"customerservice/credit"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/graph/loaders"
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
	// RenderInSQL lets the customer root fields of queries answer with JSON that PostgreSQL
	// builds when their whole selection compiles (rendered.go); off, every field resolves
	// the usual way (tests compare the two).
	RenderInSQL bool
}

// ResolverOptions are what a resolver needs besides the database. The zero value is a
// replica that runs no scheduled jobs, with its customer root fields rendered in SQL.
type ResolverOptions struct {
	// JobSchedule is when this replica runs the daily jobs (nil: it runs none, and the
	// jobs' nextRunAt is null).
	JobSchedule *jobs.Schedule
	// NoRenderInSQL answers every field through the resolvers (RenderInSQL off).
	NoRenderInSQL bool
}

// NewResolver wires the domain services over the database handle (its read replica, if
// any, serves the reads of query operations: see NewHandler).
func NewResolver(h *db.Handle, opts ResolverOptions) *Resolver {
	return &Resolver{
		CustomerService: customers.NewService(h),
		LoyaltyService:  loyalty.NewService(h),
		CreditService:   credit.NewService(h),
		SegmentService:  segments.NewService(h),
		JobService:      jobs.NewService(h, opts.JobSchedule),
		RenderInSQL:     !opts.NoRenderInSQL,
	}
}

// LoaderSources are the services the per-request loaders batch reads from.
func (r *Resolver) LoaderSources() loaders.Sources {
	return loaders.Sources{Customers: r.CustomerService, Loyalty: r.LoyaltyService, Credit: r.CreditService}
}
