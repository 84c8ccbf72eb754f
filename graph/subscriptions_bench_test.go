package graph_test

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
)

// BenchmarkSubscriptionsFanOut: 1,000 open subscriptions on one server (customerEvents of
// 1,000 customers in 10 organizations, 10 subscriptions per WebSocket connection), bonus
// points written through the API at 200 a second for 10 s; the latency from the write's
// response (its transaction has committed) to the event reaching its client, p50 and p99,
// and the process's memory (server and clients share it). Run:
//
//	go test ./graph/ -run '^$' -bench SubscriptionsFanOut -benchtime 1x
func BenchmarkSubscriptionsFanOut(b *testing.B) {
	const orgs, perOrg, perConn, rate, seconds = 10, 100, 10, 200, 10
	srv := apitest.New(b)
	type sub struct {
		team     loyTeam
		customer uuid.UUID
	}
	var subs []sub
	for range orgs {
		tm := newLoyTeam(b, srv)
		for range perOrg {
			c := loyCustomer(b, srv, tm.Org)
			subs = append(subs, sub{tm, c})
		}
	}
	// Enrol in parallel.
	var wg sync.WaitGroup
	work := make(chan sub)
	for range 8 {
		wg.Go(func() {
			for s := range work {
				loyEnroll(b, s.team.Agent, s.customer)
			}
		})
	}
	for _, s := range subs {
		work <- s
	}
	close(work)
	wg.Wait()

	var ms0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	rss0 := rssKB()

	// Each customer's subscription; the time each event arrives, by event id.
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	for i := 0; i < len(subs); i += perConn {
		ws := srv.As(b, subs[i].team.Org, auth.Viewer).Subscriber(b)
		for j := i; j < i+perConn; j++ {
			ws.Subscribe(fmt.Sprint(j), `subscription($id: UUID!) { customerEvents(customerId: $id) { id } }`, map[string]any{"id": subs[j].customer})
		}
		go func() {
			for {
				m, err := ws.Read(time.Minute)
				if err != nil {
					return
				}
				if m.Type != "next" {
					continue
				}
				at := time.Now()
				var p struct {
					Data struct{ CustomerEvents struct{ ID string } }
				}
				if json.Unmarshal(m.Payload, &p) == nil {
					mu.Lock()
					arrived[p.Data.CustomerEvents.ID] = at
					mu.Unlock()
				}
			}
		}()
	}
	for o := range orgs {
		deadline := time.Now().Add(30 * time.Second)
		for srv.Resolver.Hub.Subscribers(subs[o*perOrg].team.Org) != perOrg && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	var ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	rss1 := rssKB()

	b.ResetTimer()
	committed := map[string]time.Time{}
	var cmu sync.Mutex
	tick := time.NewTicker(time.Second / rate)
	start := time.Now()
	var writes sync.WaitGroup
	for i := range rate * seconds {
		<-tick.C
		s := subs[(i*7919)%len(subs)]
		writes.Go(func() {
			p := loyBonus(b, s.team.Agent, s.customer, 1)
			at := time.Now()
			cmu.Lock()
			committed["points:"+p.Transaction.ID] = at
			cmu.Unlock()
		})
	}
	writes.Wait()
	tick.Stop()
	elapsed := time.Since(start)
	time.Sleep(2 * time.Second)
	b.StopTimer()

	var ms2 runtime.MemStats
	runtime.ReadMemStats(&ms2)
	rss2 := rssKB()
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for id, c := range committed {
		if a, ok := arrived[id]; ok {
			lat = append(lat, max(a.Sub(c), 0))
		}
	}
	slices.Sort(lat)
	if len(lat) != len(committed) {
		b.Fatalf("%d of %d events arrived", len(lat), len(committed))
	}
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	b.ReportMetric(float64(len(committed))/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(rss2)/1024, "rss-MB")
	b.Logf("events %d in %v; latency p50 %v p99 %v max %v; RSS %d MB before subscribing, %d MB with 1,000 open, %d MB after the load; heap in use %d → %d → %d MB; goroutines %d",
		len(committed), elapsed.Round(time.Millisecond), pct(0.5), pct(0.99), lat[len(lat)-1],
		rss0/1024, rss1/1024, rss2/1024, ms0.HeapInuse>>20, ms1.HeapInuse>>20, ms2.HeapInuse>>20, runtime.NumGoroutine())
}

// rssKB is the process's resident set size (Linux), in kB.
func rssKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var n int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &n)
			return n
		}
	}
	return 0
}
