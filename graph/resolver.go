// Package graph is the GraphQL edge: the gqlgen-generated executor, thin resolvers that
// translate between GraphQL and the domain services, the per-request loaders and the
// directives. Resolvers hold no SQL and no business rules.
package graph

import (
	"github.com/uptrace/bun"

	"customerservice/customers"
)

//go:generate go run github.com/99designs/gqlgen generate

// Resolver holds the domain services the resolvers call.
type Resolver struct {
	CustomerService *customers.Service
}

// NewResolver wires the domain services over the pool.
func NewResolver(pool *bun.DB) *Resolver {
	return &Resolver{CustomerService: customers.NewService(pool)}
}
