package httpapi

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const deadlineBody = `{"errors":[{"message":"late","extensions":{"code":"TIMEOUT"}}]}`

// In time, the handler's status, headers and body go out as it wrote them.
func TestDeadline_InTimeTheHandlersAnswer(t *testing.T) {
	t.Parallel()
	d := &deadline{timeout: time.Second, body: deadlineBody, workers: workers{tasks: make(chan func())},
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := r.Context().Deadline(); !ok {
				t.Error("the handler's context has no deadline")
			}
			w.Header().Set("X-A", "1")
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK) // superfluous: the first one counts
			_, _ = io.WriteString(w, "hello")
		})}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot || rec.Header().Get("X-A") != "1" || rec.Body.String() != "hello" {
		t.Fatalf("got %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
}

// At the deadline the client gets 503 and the body at once, even from a handler that does not
// stop; what the handler writes after is refused with http.ErrHandlerTimeout.
func TestDeadline_503AtTheDeadlineEvenWhenTheWorkGoesOn(t *testing.T) {
	t.Parallel()
	release, wrote := make(chan struct{}), make(chan error, 1)
	d := &deadline{timeout: 20 * time.Millisecond, body: deadlineBody, workers: workers{tasks: make(chan func())},
		next: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			<-release // ignores its context
			_, err := io.WriteString(w, "too late")
			wrote <- err
		})}
	rec := httptest.NewRecorder()
	start := time.Now()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if took := time.Since(start); rec.Code != http.StatusServiceUnavailable || rec.Body.String() != deadlineBody || took > time.Second {
		t.Fatalf("got %d %q after %v", rec.Code, rec.Body, took)
	}
	close(release)
	if err := <-wrote; !errors.Is(err, http.ErrHandlerTimeout) {
		t.Fatalf("a write after the deadline: %v", err)
	}
	if rec.Body.String() != deadlineBody {
		t.Fatalf("the late write reached the client: %q", rec.Body)
	}
}

// A handler's panic is raised again in the serving goroutine (net/http answers or aborts the
// connection there), and the worker that ran it serves the next request.
func TestDeadline_PanicsReachTheServingGoroutine(t *testing.T) {
	t.Parallel()
	d := &deadline{timeout: time.Second, body: deadlineBody, workers: workers{tasks: make(chan func())},
		next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/panic" {
				panic("boom")
			}
			_, _ = io.WriteString(w, "ok")
		})}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		d.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/panic", nil))
	}()
	for range 5 {
		waitForWorkers(t, &d.workers, 1)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Body.String() != "ok" {
			t.Fatalf("after a panic: %d %q", rec.Code, rec.Body)
		}
	}
	if n := d.workers.started.Load(); n != 1 {
		t.Fatalf("%d workers for requests one after the other, want 1", n)
	}
}

// Requests at once each get a worker of their own; once they are done, later requests reuse
// those workers instead of starting more.
func TestWorkers_OnePerRequestAtOnceThenReused(t *testing.T) {
	t.Parallel()
	p := &workers{tasks: make(chan func())}
	var wg sync.WaitGroup
	release := make(chan struct{})
	var running sync.WaitGroup
	running.Add(3)
	for range 3 {
		wg.Add(1)
		p.run(func() {
			running.Done()
			<-release
			wg.Done()
		})
	}
	running.Wait() // all three at once
	close(release)
	wg.Wait()
	var seen strings.Builder
	for i := range 10 {
		waitForWorkers(t, p, 3)
		done := make(chan struct{})
		p.run(func() { seen.WriteByte(byte('0' + i)); close(done) })
		<-done
	}
	if n := p.started.Load(); n != 3 || seen.String() != "0123456789" {
		t.Fatalf("%d workers started (want 3), ran %q", n, seen.String())
	}
}

// waitForWorkers waits until n workers wait for a function.
func waitForWorkers(t *testing.T, p *workers, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); p.waiting.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers waiting, want %d", p.waiting.Load(), n)
		}
	}
}
