package privacy

import "time"

// TodaySQL is today's date in UTC, the calendar of the requests' due dates (as of credit's
// due dates, decisions-credit.md): the same on every replica whatever the session's zone.
const TodaySQL = "(now() AT TIME ZONE 'UTC')::date"

// DueDate is the last day to answer a request received at receivedAt with days business days
// to answer: days weekdays (Monday to Friday) after the day it was received (in UTC). Public
// holidays are not counted as such (docs/decisions-privacy.md).
func DueDate(receivedAt time.Time, days int) time.Time {
	r := receivedAt.UTC()
	d := time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, time.UTC)
	for n := 0; n < days; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d
}
