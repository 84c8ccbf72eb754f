package livetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/proctest"
	"customerservice/internal/testkit/testdb"
)

// BenchmarkSubscriptionsFanOut (issue 15): one built server on the test database with 1,000
// open subscriptions (customerEvents of 1,000 enrolled customers in 10 organizations, 10
// subscriptions per WebSocket connection); bonus points written through the same server at
// 200 a second for 10 s, on customers spread over every organization. Reported: the write
// rate achieved; the delivery latency p50/p99 from commit to client, bounded above by the
// time from the event's row stamp (taken in the write's transaction before its commit) to its
// arrival, and below by the time from the write's answer reaching the writer; the SERVER
// process's resident memory (VmRSS, and its peak VmHWM). Run on a machine as quiet as can be:
//
//	go test ./internal/livetest/ -run '^$' -bench SubscriptionsFanOut -benchtime 1x -v
func BenchmarkSubscriptionsFanOut(b *testing.B) {
	const orgs, perOrg, perConn, rate, seconds = 10, 100, 10, 200, 10
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 256 // the writers reuse their connections
	tdb := testdb.Get(b)
	// No rate limit: the writers of a load test (README, Configuration).
	srv, pid := serve(b, proctest.BuildT(b), tdb.AppURL, "RATE_LIMIT_ORG_RPS=0", "RATE_LIMIT_SUBJECT_RPS=0")
	load0 := loadAverage()

	type sub struct {
		admin    *apitest.Client
		customer uuid.UUID
	}
	subs := make([]sub, orgs*perOrg)
	var wg sync.WaitGroup
	for o := range orgs {
		admin := srv.As(b, uuid.New(), auth.Admin)
		for w := range 4 { // the customers through the API, 4 writers per organization
			wg.Go(func() {
				for i := w; i < perOrg; i += 4 {
					var out struct {
						CreateCustomer struct{ Customer struct{ ID uuid.UUID } }
					}
					admin.Must(b, `mutation { createCustomer(input: {firstName: "Fan", lastName: "Out"}) { customer { id } userErrors { code } } }`, nil, &out)
					id := out.CreateCustomer.Customer.ID
					admin.Must(b, `mutation($id: UUID!) { enrollLoyalty(customerId: $id) { userErrors { code } } }`, map[string]any{"id": id}, nil)
					subs[o*perOrg+i] = sub{admin, id}
				}
			})
		}
	}
	wg.Wait()
	rss0, _ := serverMemory(pid)

	type arrival struct {
		at, stamped time.Time
	}
	var mu sync.Mutex
	arrived := map[string]arrival{}
	for i := 0; i < len(subs); i += perConn {
		ws := srv.As(b, subs[i].admin.Org, auth.Viewer).Subscriber(b)
		for j := i; j < i+perConn; j++ {
			ws.Subscribe(strconv.Itoa(j), `subscription($id: UUID!) { customerEvents(customerId: $id) { id occurredAt } }`,
				map[string]any{"id": subs[j].customer})
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
					Data struct {
						CustomerEvents struct {
							ID         string
							OccurredAt time.Time
						}
					}
				}
				if json.Unmarshal(m.Payload, &p) == nil {
					mu.Lock()
					arrived[p.Data.CustomerEvents.ID] = arrival{at, p.Data.CustomerEvents.OccurredAt}
					mu.Unlock()
				}
			}
		}()
	}
	for deadline := time.Now().Add(60 * time.Second); srv.Metric(b, "customer_service_subscriptions_open") != float64(len(subs)); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the server holds %v subscriptions, want %d", srv.Metric(b, "customer_service_subscriptions_open"), len(subs))
		}
	}
	rss1, _ := serverMemory(pid)

	b.ResetTimer()
	answered := map[string]time.Time{}
	var amu sync.Mutex
	tick := time.NewTicker(time.Second / rate)
	start := time.Now()
	var writes sync.WaitGroup
	for i := range rate * seconds {
		<-tick.C
		s := subs[(i*7919)%len(subs)]
		writes.Go(func() {
			var out struct {
				AwardBonusPoints struct{ Transaction struct{ ID string } }
			}
			s.admin.Must(b, `mutation($in: AwardBonusPointsInput!) { awardBonusPoints(input: $in) { transaction { id } userErrors { code } } }`,
				map[string]any{"in": map[string]any{"customerId": s.customer, "points": 1, "reason": "fan-out", "referenceId": uuid.NewString()}}, &out)
			at := time.Now()
			amu.Lock()
			answered["points:"+out.AwardBonusPoints.Transaction.ID] = at
			amu.Unlock()
		})
	}
	writes.Wait()
	tick.Stop()
	elapsed := time.Since(start)
	time.Sleep(2 * time.Second)
	b.StopTimer()
	load1 := loadAverage()
	rss2, hwm := serverMemory(pid)

	mu.Lock()
	defer mu.Unlock()
	var upper, lower []time.Duration
	for id, ans := range answered {
		if a, ok := arrived[id]; ok {
			upper = append(upper, a.at.Sub(a.stamped))
			lower = append(lower, max(a.at.Sub(ans), 0))
		}
	}
	if len(upper) != len(answered) {
		b.Fatalf("%d of %d events arrived", len(upper), len(answered))
	}
	slices.Sort(upper)
	slices.Sort(lower)
	pct := func(l []time.Duration, p float64) time.Duration { return l[int(float64(len(l)-1)*p)] }
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(len(answered))/elapsed.Seconds(), "events/s")
	b.ReportMetric(msOf(pct(upper, 0.5)), "p50-ms")
	b.ReportMetric(msOf(pct(upper, 0.99)), "p99-ms")
	b.ReportMetric(float64(hwm)/1024, "server-peak-rss-MB")
	b.Logf("load average %s before, %s after", load0, load1)
	b.Logf("%d events in %v (%.0f/s), every one delivered to its subscriber", len(answered), elapsed.Round(time.Millisecond), float64(len(answered))/elapsed.Seconds())
	b.Logf("latency, from the row's stamp in the transaction (≥ commit→client): p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		msOf(pct(upper, 0.5)), msOf(pct(upper, 0.99)), msOf(upper[len(upper)-1]))
	b.Logf("latency, from the write's answer at the writer (≤ commit→client): p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		msOf(pct(lower, 0.5)), msOf(pct(lower, 0.99)), msOf(lower[len(lower)-1]))
	b.Logf("server RSS: %.1f MB with the data loaded, %.1f MB with 1,000 subscriptions open, %.1f MB after the load; peak %.1f MB",
		float64(rss0)/1024, float64(rss1)/1024, float64(rss2)/1024, float64(hwm)/1024)
}

// serverMemory is the process's resident set and its peak (VmRSS, VmHWM), in kB.
func serverMemory(pid int) (rss, hwm int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%d", &rss)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%d", &hwm)
		}
	}
	return rss, hwm
}

// loadAverage is the machine's load average over 1, 5 and 15 minutes (Linux).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
