// Package livetest runs the built server binary twice on one database and checks the live
// events of §12 across them: a points change made through one server reaches a
// subscription held on the other within a second (the delay printed with -v).
package livetest
