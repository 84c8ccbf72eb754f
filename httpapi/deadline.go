package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// deadline is net/http's TimeoutHandler — the handler runs apart from the serving goroutine,
// its answer buffered; at the deadline the client gets a 503 with body and the handler's
// writes fail with http.ErrHandlerTimeout; a panic of the handler is raised again in the
// serving goroutine — except that the handler runs on a goroutine kept from earlier requests
// (workers) instead of a new one. A new goroutine starts with a small stack, and a GraphQL
// request is deep (gqlgen's executor, its extensions, our resolvers, pgx): growing and copying
// that stack anew for every request was 7–9 % of a Customer 360 read's CPU (BENCHMARKS.md, issue
// 17). A kept goroutine keeps its grown stack until the collector shrinks an idle one.
type deadline struct {
	next    http.Handler
	timeout time.Duration
	body    string
	workers workers
}

func (d *deadline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), d.timeout)
	defer cancel()
	r = r.WithContext(ctx)
	done := make(chan struct{})
	panicked := make(chan any, 1)
	tw := &deadlineWriter{h: make(http.Header)}
	d.workers.run(func() {
		defer func() {
			if p := recover(); p != nil {
				panicked <- p
			}
		}()
		d.next.ServeHTTP(tw, r)
		close(done)
	})
	select {
	case p := <-panicked:
		panic(p)
	case <-done:
		tw.mu.Lock()
		defer tw.mu.Unlock()
		maps.Copy(w.Header(), tw.h)
		if !tw.wroteHeader {
			tw.code = http.StatusOK
		}
		w.WriteHeader(tw.code)
		_, _ = w.Write(tw.buf.Bytes())
	case <-ctx.Done():
		tw.mu.Lock()
		defer tw.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		if err := ctx.Err(); err == context.DeadlineExceeded {
			_, _ = io.WriteString(w, d.body)
			tw.err = http.ErrHandlerTimeout
		} else {
			tw.err = err
		}
	}
}

// deadlineWriter buffers the handler's answer until it is done (net/http's timeoutWriter).
type deadlineWriter struct {
	h   http.Header
	buf bytes.Buffer

	mu          sync.Mutex
	err         error
	wroteHeader bool
	code        int
}

func (tw *deadlineWriter) Header() http.Header { return tw.h }

func (tw *deadlineWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.err != nil {
		return 0, tw.err
	}
	if !tw.wroteHeader {
		tw.writeHeaderLocked(http.StatusOK)
	}
	return tw.buf.Write(p)
}

func (tw *deadlineWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.writeHeaderLocked(code)
}

func (tw *deadlineWriter) writeHeaderLocked(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http
	}
	if tw.err == nil && !tw.wroteHeader {
		tw.wroteHeader, tw.code = true, code
	}
}

// workers run functions on goroutines kept between requests: a function goes to a worker
// waiting for one, or to a new worker when none waits (so never more workers than requests
// at once); a worker idle for workerIdle ends.
type workers struct {
	tasks   chan func()
	started atomic.Int64 // workers started, and
	waiting atomic.Int64 // waiting for a function: for the tests
}

const workerIdle = 30 * time.Second

func (p *workers) run(f func()) {
	select {
	case p.tasks <- f:
	default:
		p.started.Add(1)
		go p.work(f)
	}
}

func (p *workers) work(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		p.waiting.Add(1)
		select {
		case f = <-p.tasks:
			p.waiting.Add(-1)
		case <-idle.C:
			p.waiting.Add(-1)
			return
		}
	}
}
