// Package progress is the progress bar of the commands' long work (seed, segments recalc).
package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// New is a bar of max items (-1: unknown, a spinner) called what ("customers"), written to w,
// showing the count and the rate. Its clock starts now: the progressbar library otherwise
// starts it at the first render, the first Add, and then reports that first batch over the
// microseconds since (the rate of the 500 customers of a first batch read as "104231812
// customers/s"), and the final rate over the time after the first batch.
func New(w io.Writer, max int, what string) *progressbar.ProgressBar {
	bar := progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(what),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	bar.StartWithoutRender()
	return bar
}
