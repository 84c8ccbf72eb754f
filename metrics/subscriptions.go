package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"customerservice/subscriptions"
)

// subscriptionSeries are the live subscriptions' collectors (§12).
type subscriptionSeries struct {
	conns     prometheus.Gauge
	open      prometheus.Gauge
	delivered prometheus.Counter
	dropped   prometheus.Counter
}

// Subscriptions is what counts the live subscriptions of the server: open subscriptions,
// events delivered to subscribers, consumers dropped for falling behind. Nil metrics: none.
func (m *Metrics) Subscriptions() subscriptions.Observer {
	if m == nil {
		return nil
	}
	m.subsOnce.Do(func() {
		m.subs = &subscriptionSeries{
			conns: prometheus.NewGauge(prometheus.GaugeOpts{
				Namespace: Namespace, Subsystem: "subscriptions", Name: "connections",
				Help: "WebSocket connections open on this server whose connection_init was accepted.",
			}),
			open: prometheus.NewGauge(prometheus.GaugeOpts{
				Namespace: Namespace, Subsystem: "subscriptions", Name: "open",
				Help: "GraphQL subscriptions open on this server (WebSocket and SSE).",
			}),
			delivered: prometheus.NewCounter(prometheus.CounterOpts{
				Namespace: Namespace, Subsystem: "subscriptions", Name: "events_delivered_total",
				Help: "Timeline events queued for subscribers (one per event and subscriber).",
			}),
			dropped: prometheus.NewCounter(prometheus.CounterOpts{
				Namespace: Namespace, Subsystem: "subscriptions", Name: "dropped_consumers_total",
				Help: "Subscribers disconnected because they fell the queue's size behind.",
			}),
		}
		m.registry.MustRegister(m.subs.conns, m.subs.open, m.subs.delivered, m.subs.dropped)
	})
	return m.subs
}

func (s *subscriptionSeries) Connected(delta int)  { s.conns.Add(float64(delta)) }
func (s *subscriptionSeries) Subscribed(delta int) { s.open.Add(float64(delta)) }
func (s *subscriptionSeries) Delivered(n int)      { s.delivered.Add(float64(n)) }
func (s *subscriptionSeries) Dropped()             { s.dropped.Inc() }
