// Package httpaudit holds the GraphQL-over-HTTP conformance test: the audits of the npm
// package graphql-http (serverAudits), installed here with `npm ci` and run by
// httpaudit_test.go against the real server on a real port.
package httpaudit
