package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"customerservice/graph"
)

// A panic outside a resolver (gqlgen recovers those) is a 500 INTERNAL carrying the request
// id; the panic is in the log only, with the request's line.
func TestRequestLog_PanicIsInternalWithTheRequestID(t *testing.T) {
	var logs bytes.Buffer
	var seenID string
	h := withRequestLog(zerolog.New(&logs), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seenID = graph.RequestID(r.Context())
		panic("boom with a secret")
	}))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("X-Request-Id", "req-7")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError || !strings.Contains(body, `"INTERNAL"`) ||
		!strings.Contains(body, `"requestId":"req-7"`) || strings.Contains(body, "boom") {
		t.Fatalf("got %d %s", rec.Code, body)
	}
	if rec.Header().Get("X-Request-Id") != "req-7" || seenID != "req-7" {
		t.Fatalf("request id: header %q, context %q", rec.Header().Get("X-Request-Id"), seenID)
	}
	if !strings.Contains(logs.String(), "boom with a secret") || !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("log: %s", logs.String())
	}
}

// Past the deadline the client gets 503 TIMEOUT and the handler's context is cancelled.
func TestTimeout_Answers503AndCancelsTheContext(t *testing.T) {
	cancelled := make(chan struct{})
	h := withTimeout(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(cancelled)
	}), 20*time.Millisecond)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"TIMEOUT"`) ||
		rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	select {
	case <-cancelled:
	case <-time.After(time.Second):
		t.Fatal("the handler's context was not cancelled")
	}
}

// The request's line gives its duration with the unit in the name: duration_ms, in
// milliseconds (zerolog's Dur), as every duration the service logs (jobs' duration_ms,
// serve's startup_ms).
func TestRequestLog_DurationIsInMilliseconds(t *testing.T) {
	var logs bytes.Buffer
	h := withRequestLog(zerolog.New(&logs), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var line struct {
		DurationMS *float64 `json:"duration_ms"`
		Duration   any      `json:"duration"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, logs.String())
	}
	if line.DurationMS == nil || *line.DurationMS < 20 || *line.DurationMS > 10_000 || line.Duration != nil {
		t.Fatalf("want duration_ms ≥ 20 (milliseconds) and no unitless duration: %s", logs.String())
	}
}
