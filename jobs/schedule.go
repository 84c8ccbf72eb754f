package jobs

import "time"

// Schedule is when the daily jobs run: every day at a time of day in UTC. A slot is one
// such time: each job runs once per slot across every replica.
type Schedule struct {
	At time.Duration // from midnight UTC, in [0, 24h)
}

// Slot is the latest scheduled time at or before now: the slot a run at now is for. A
// replica that starts after today's time still finds today's slot due (if no replica ran
// it); it never goes back further, since the jobs catch up on everything as of now.
func (s Schedule) Slot(now time.Time) time.Time {
	now = now.UTC()
	slot := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(s.At)
	if slot.After(now) {
		slot = slot.AddDate(0, 0, -1) // UTC has no daylight saving: a day is 24 h
	}
	return slot
}

// Next is the first scheduled time after now.
func (s Schedule) Next(now time.Time) time.Time { return s.Slot(now).AddDate(0, 0, 1) }
