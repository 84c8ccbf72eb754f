// Command customer-service is the Customer Service of docs/specification.md: one binary whose
// subcommands serve the GraphQL API, migrate the database, load sample data and mint
// development tokens (§9).
//
// This file is the composition root: it hands the command line to package cli, which runs
// the subcommands and the process's lifetime, and it wires the API that `serve` runs — the
// domain services behind the GraphQL resolver, the token verifier, the limits and the HTTP
// stack — over the database, metrics and tracing that cli has started. The work itself lives
// in those packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"

	"customerservice/auth"
	"customerservice/cli"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/migrations"
	"customerservice/subscriptions"
)

func main() {
	if err := cli.Run(os.Args[1:], wireAPI); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "customer-service:", err)
			os.Exit(1)
		}
	}
}

// wireAPI builds the HTTP API of `serve` over what cli started for it: the database handle
// (the primary and its read replica, if any, both checked), the metrics, the tracer and
// this replica's schedule of the daily jobs.
func wireAPI(ctx context.Context, rt cli.Runtime) (http.Handler, error) {
	cfg := rt.Config
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: rt.Secret, JWKSURL: cfg.JWTJWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
	if err != nil {
		return nil, err
	}
	limits := graph.Limits{
		MaxBodyBytes: cfg.MaxBodyBytes, Introspection: cfg.Introspection,
		MaxComplexity: cfg.MaxComplexity, MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases,
		PersistedOnly: cfg.PersistedQueriesOnly,
		Live:          graph.Live{PingInterval: cfg.SubscriptionPingInterval, IdleTimeout: cfg.SubscriptionIdleTimeout},
	}
	if cfg.PersistedQueriesFile != "" {
		if limits.PersistedQueries, err = graph.LoadPersistedQueries(cfg.PersistedQueriesFile); err != nil {
			return nil, err
		}
	}
	database := rt.Database
	resolver := graph.NewResolver(database, graph.ResolverOptions{
		JobSchedule: rt.Schedule,
		Subscriptions: subscriptions.Config{
			PerConnection: cfg.SubscriptionsPerConnection, PerOrganization: cfg.SubscriptionsPerOrganization,
			QueueSize: cfg.SubscriptionQueueSize, Connections: cfg.SubscriptionDBConnections,
		},
		SubscriptionObserver: rt.Metrics.Subscriptions(),
		Log:                  &rt.Log,
	})
	context.AfterFunc(ctx, resolver.Hub.Close) // the listener and its pool end with the server
	if hubDB := resolver.Hub.DB(); hubDB != nil {
		if err := rt.Metrics.ObservePool("subscriptions", hubDB); err != nil {
			return nil, err
		}
	}
	return httpapi.New(httpapi.Deps{
		Log:      rt.Log,
		Verifier: verifier,
		Resolver: resolver,
		Limits:   limits,
		RateLimit: httpapi.RateLimit{
			OrgRPS: cfg.RateLimitOrgRPS, OrgBurst: cfg.RateLimitOrgBurst,
			SubjectRPS: cfg.RateLimitSubjectRPS, SubjectBurst: cfg.RateLimitSubjectBurst,
		},
		RequestTimeout: cfg.RequestTimeout,
		// Ready when the primary and the replica (if any) answer with the code's schema.
		Ready:              func(ctx context.Context) error { return database.EachPool(ctx, migrations.Current) },
		Metrics:            rt.Metrics,
		MetricsOwnListener: cfg.MetricsAddr != "",
		Tracer:             rt.Tracer,
	}), nil
}
