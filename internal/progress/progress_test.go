package progress_test

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"customerservice/internal/progress"
)

// The rate shown is items over the time since the bar was made, never a first batch over the
// microseconds since it was first drawn: 100 customers added 50 ms after the start read at
// most 2,000 a second (it was 100 over a few µs: tens of millions a second).
func TestNew_RateCountsFromTheStart(t *testing.T) {
	var out bytes.Buffer
	bar := progress.New(&out, 1000, "customers")
	time.Sleep(50 * time.Millisecond)
	if err := bar.Add(100); err != nil {
		t.Fatal(err)
	}
	rates := regexp.MustCompile(`(\d+) customers/s`).FindAllStringSubmatch(out.String(), -1)
	if len(rates) == 0 {
		t.Fatalf("no rate shown: %q", out.String())
	}
	for _, r := range rates {
		if n, _ := strconv.Atoi(r[1]); n > 2000 {
			t.Errorf("rate %d customers/s after 100 customers in ≥ 50 ms: %q", n, out.String())
		}
	}
}
