package privacy

import (
	"testing"
	"time"
)

// §11: due = received + the organization's response days, counted in business days.
func TestDueDate_CountsBusinessDays(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		received string
		days     int
		want     string
	}{
		{"2026-12-07T10:00:00Z", 10, "2026-12-21"}, // Monday + 10 business days: Monday two weeks on
		{"2026-12-07T10:00:00Z", 1, "2026-12-08"},
		{"2026-12-11T23:59:59Z", 1, "2026-12-14"},      // Friday: the next business day is Monday
		{"2026-12-12T08:00:00Z", 1, "2026-12-14"},      // received on Saturday
		{"2026-12-13T08:00:00Z", 5, "2026-12-18"},      // received on Sunday
		{"2026-12-11T20:00:00-05:00", 1, "2026-12-14"}, // Friday 20:00 in Panama is Saturday 01:00 UTC
		{"2026-12-31T12:00:00Z", 3, "2027-01-05"},      // across a year
		{"2026-12-07T00:00:00Z", 90, "2027-04-12"},     // the largest setting
	} {
		if got := DueDate(at(tc.received), tc.days).Format(time.DateOnly); got != tc.want {
			t.Errorf("DueDate(%s, %d) = %s, want %s", tc.received, tc.days, got, tc.want)
		}
	}
}
