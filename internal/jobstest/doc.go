// Package jobstest runs the built server binary as several replicas on one database and
// checks that the scheduled jobs of §9 run once per slot across them: one replica runs each
// job, the others skip it, a restart in the same slot runs nothing, and SIGTERM stops a
// replica cleanly.
package jobstest
