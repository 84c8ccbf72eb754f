// Package faulttest holds the fault tests of the service: PostgreSQL stopped and started
// under load, and the server killed mid-write and restarted. They run on a PostgreSQL
// cluster of their own (they stop it) and check that every acknowledged write survives and
// that no mutation is half applied.
package faulttest
