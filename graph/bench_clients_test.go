package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchClients is how many concurrent clients the write benchmarks run, whatever GOMAXPROCS
// is. b.RunParallel starts SetParallelism(p) × GOMAXPROCS goroutines, which is 32 only when
// GOMAXPROCS divides 32 (on 3 or 6 cores it would be 33 or 36), so the benchmarks start
// their own goroutines instead.
const benchClients = 32

// runClients runs b.N calls of work over exactly clients goroutines (spread) and returns
// the time from the first call's start to the last one's end, which is also exactly what
// the benchmark's timer measures. work reports a failure with b.Error, never b.Fatal: it
// runs off the benchmark's goroutine.
func runClients(b *testing.B, clients int, work func(client int, i int64)) time.Duration {
	b.Helper()
	b.ResetTimer()
	start := time.Now()
	spread(clients, int64(b.N), work)
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

// spread calls work n times over exactly clients goroutines, each taking the next iteration
// from a shared counter until n are taken: client is the goroutine's index (0 …
// clients−1), i the iteration's (0 … n−1), each iteration once.
func spread(clients int, n int64, work func(client int, i int64)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
				work(c, i)
			}
		})
	}
	wg.Wait()
}

// The benchmarks' 32 clients are 32 goroutines at once, whatever GOMAXPROCS is, and share
// the iterations without losing or repeating one.
func TestSpread_RunsEachIterationOnceOnExactlyThatManyGoroutinesAtOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{1, 5, benchClients, 1000} {
		var active, peak atomic.Int64
		arrived := make(chan struct{})
		var once sync.Once
		want := min(n, benchClients)
		done := make([]atomic.Int32, n)
		seen := make([]atomic.Bool, benchClients+1)
		spread(benchClients, n, func(client int, i int64) {
			done[i].Add(1)
			seen[min(client, benchClients)].Store(true)
			if i < want { // the first iterations wait for each other: all clients are running at once
				if a := active.Add(1); a == want {
					once.Do(func() { close(arrived) })
				}
				select {
				case <-arrived:
				case <-time.After(10 * time.Second):
				}
				peak.Store(max(peak.Load(), active.Load()))
			}
		})
		for i := range done {
			if c := done[i].Load(); c != 1 {
				t.Fatalf("n=%d: iteration %d ran %d times", n, i, c)
			}
		}
		if seen[benchClients].Load() {
			t.Fatalf("n=%d: a client index beyond %d", n, benchClients-1)
		}
		if p := peak.Load(); p != want {
			t.Fatalf("n=%d: %d clients at once, want %d", n, p, want)
		}
	}
}

// benchHTTP is the clients' HTTP client: they keep their connections, as a service calling
// this one would.
var benchHTTP = &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}}

// benchMutation posts one mutation as token and fails unless it answered 200 with no error
// and no user error (`"userErrors":[]` in the payload).
func benchMutation(url, token, query string, vars map[string]any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := benchHTTP.Do(req)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte(`"userErrors":[]`)) {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, raw)
	}
	return nil
}
