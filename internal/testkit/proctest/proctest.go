// Package proctest helps the tests that run the service's own binary as a process (the
// command, fault, jobs and browser tests): building it, and collecting what it writes.
package proctest

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Build builds the customer-service binary into dir and returns its path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "customer-service")
	if out, err := exec.Command("go", "build", "-o", bin, "customerservice").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// BuildT is Build into a temporary directory of t, failing t when the build fails.
func BuildT(t testing.TB) string {
	t.Helper()
	bin, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Output collects what a process (or a server's logger) writes, from several goroutines,
// and can be read while it is being written.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String is everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
