// Package testkit holds nothing itself: its subpackages are the test harness, imported only
// by _test.go files and the test suites under internal/ (cmdtest, faulttest, jobstest,
// browsertest, httpaudit), never by the binary.
//
//   - testdb: the throwaway PostgreSQL each test binary starts (and a hot standby of it)
//   - apitest: the real HTTP handler over the test database, driven with real tokens
//   - statements: counts and watches the SQL statements a pool sends
//   - pgbouncer: a PgBouncer in transaction mode in front of the test cluster
//   - proctest: builds the binary and collects a process's output
//
// The production code under internal/ is embedded (the zero-configuration PostgreSQL of
// `serve`) and pgcluster (runs a cluster from the installed binaries, for embedded and for
// testdb).
package testkit
