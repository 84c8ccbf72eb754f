// Package cmdtest tests the binary itself (§9): its subcommands (token, migrate) and what
// serve exposes besides GraphQL (/healthz, GraphiQL), its refusal of an unsafe database
// role and its graceful drain on SIGTERM — each as a built process, against this package's
// own PostgreSQL.
package cmdtest
