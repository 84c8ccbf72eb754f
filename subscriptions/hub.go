// Package subscriptions delivers the timeline's events live (specification §12): the
// GraphQL subscriptions customerEvents and organizationEvents. A write names the events it
// made with db.Publish; its transaction notifies their ids on db.EventsChannel when it
// commits. Each server listens on one connection (Hub), and fans each notification out in
// Go to its subscribers of that organization, reading the events once per organization by
// id under that organization's row-level security (timeline.ByIDs). Notifications carry ids
// only: no personal data passes through PostgreSQL's queue or the logs.
package subscriptions

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/timeline"
)

// Defaults of Config.
const (
	DefaultPerConnection   = 20
	DefaultPerOrganization = 1000
	DefaultQueueSize       = 256
	DefaultConnections     = 3
)

// Config bounds the subscriptions of one server.
type Config struct {
	// PerConnection is the most subscriptions one WebSocket connection may hold at once.
	PerConnection int
	// PerOrganization is the most subscriptions one organization may hold on this server.
	PerOrganization int
	// QueueSize is the most events waiting for one subscriber: a consumer that falls that
	// far behind is dropped (its connection closed), so memory stays bounded.
	QueueSize int
	// Connections is the hub's own pool (docs/decisions-subscriptions.md, *A connection
	// budget of its own*): one listening connection and the rest for reading the events, at
	// least 2. The requests' pool is never used by the hub, nor the hub's by requests.
	Connections int
}

func (c Config) withDefaults() Config {
	if c.PerConnection <= 0 {
		c.PerConnection = DefaultPerConnection
	}
	if c.PerOrganization <= 0 {
		c.PerOrganization = DefaultPerOrganization
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Connections < 2 {
		c.Connections = DefaultConnections
	}
	return c
}

// Observer is told what the hub does (the metrics).
type Observer interface {
	Connected(delta int) // WebSocket connections authenticated and open
	Subscribed(delta int)
	Delivered(n int)
	Dropped()
}

type nopObserver struct{}

func (nopObserver) Connected(int)  {}
func (nopObserver) Subscribed(int) {}
func (nopObserver) Delivered(int)  {}
func (nopObserver) Dropped()       {}

// Filter is what one subscription wants: one customer's events (Customer not Nil) or the
// organization's, of some kinds (nil: all).
type Filter struct {
	Customer uuid.UUID
	Kinds    []string
}

func (f Filter) matches(e *timeline.Event) bool {
	if f.Customer != uuid.Nil && e.CustomerID != f.Customer {
		return false
	}
	return f.Kinds == nil || slices.Contains(f.Kinds, e.Kind)
}

// Hub is a server's side of the live events: one listening connection, the subscribers by
// organization.
type Hub struct {
	// own is the hub's pool (Config.Connections) as a handle whose reads go to the primary
	// (an event has just committed: a replica may not have it yet); ownErr why there is none.
	own    *db.Handle
	ownErr error
	cfg    Config
	obs    Observer
	log    zerolog.Logger

	mu   sync.Mutex
	orgs map[uuid.UUID]map[*subscriber]struct{}

	start     sync.Once
	closeOnce sync.Once
	started   chan struct{} // closed when the first LISTEN is in place
	stop      context.CancelFunc
	stopped   chan struct{}
	shards    []chan notification
	listenMu  sync.Mutex
	listenOK  bool
	listens   int
}

type notification struct {
	org uuid.UUID
	ids []string
	at  time.Time
}

const shardCount = 4

// New is the hub of the server over h. It connects as h's primary does, on a pool of its own
// of cfg.Connections (opened empty: no connection until the first subscription), and listens
// from the first subscription on, until Close.
func New(h *db.Handle, cfg Config, obs Observer, log zerolog.Logger) *Hub {
	if obs == nil {
		obs = nopObserver{}
	}
	cfg = cfg.withDefaults()
	hub := &Hub{cfg: cfg, obs: obs, log: log,
		orgs: map[uuid.UUID]map[*subscriber]struct{}{}, started: make(chan struct{}), stopped: make(chan struct{})}
	if pool, err := h.Pool.Dedicated(cfg.Connections); err != nil {
		hub.ownErr = fmt.Errorf("subscriptions: %w", err)
	} else {
		hub.own = db.NewHandle(pool, nil)
	}
	return hub
}

// DB is the hub's own pool (for its metrics); nil when it has none.
func (h *Hub) DB() *sql.DB {
	if h.own == nil {
		return nil
	}
	return h.own.DB.DB
}

// Connected counts a WebSocket connection opened (1) or closed (-1) after its
// connection_init was accepted.
func (h *Hub) Connected(delta int) { h.obs.Connected(delta) }

// Config is the hub's limits.
func (h *Hub) Config() Config { return h.cfg }

// Close stops listening and ends every subscription.
func (h *Hub) Close() {
	h.start.Do(func() { close(h.stopped) }) // never started
	if h.stop != nil {
		h.stop()
		<-h.stopped
	}
	h.mu.Lock()
	var all []*subscriber
	for _, subs := range h.orgs {
		for s := range subs {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	for _, s := range all {
		s.end(false)
	}
	h.closeOnce.Do(func() {
		if h.own != nil {
			h.own.Close()
		}
	})
}

// subscriber is one subscription.
type subscriber struct {
	hub    *Hub
	org    uuid.UUID
	filter Filter
	conn   *Conn

	mu     sync.Mutex
	ch     chan *timeline.Event
	closed bool
	stop   func() bool // stops the watch of the subscription's context
}

// Subscribe registers a subscription of the caller's organization for the life of ctx (the
// subscription's): its events come on the channel, which closes when ctx ends, when the hub
// closes, or when the consumer falls QueueSize events behind (then its connection is closed
// too). Refused (LIMIT_EXCEEDED) past the connection's or the organization's limit.
func (h *Hub) Subscribe(ctx context.Context, f Filter) (<-chan *timeline.Event, error) {
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if h.ownErr != nil {
		return nil, h.ownErr
	}
	if err := h.ensureListening(ctx); err != nil {
		return nil, err
	}
	conn := ConnFrom(ctx)
	s := &subscriber{hub: h, org: p.OrganizationID, filter: f, conn: conn, ch: make(chan *timeline.Event, h.cfg.QueueSize)}
	if conn != nil && !conn.add(h.cfg.PerConnection) {
		return nil, apperr.New(LimitExceeded, "this connection holds the most subscriptions it may (%d)", h.cfg.PerConnection)
	}
	h.mu.Lock()
	subs := h.orgs[s.org]
	if len(subs) >= h.cfg.PerOrganization {
		h.mu.Unlock()
		if conn != nil {
			conn.remove()
		}
		return nil, apperr.New(LimitExceeded, "the organization holds the most subscriptions it may on this server (%d)", h.cfg.PerOrganization)
	}
	if subs == nil {
		subs = map[*subscriber]struct{}{}
		h.orgs[s.org] = subs
	}
	subs[s] = struct{}{}
	h.mu.Unlock()
	h.obs.Subscribed(1)
	s.mu.Lock()
	s.stop = context.AfterFunc(ctx, func() { s.end(false) })
	s.mu.Unlock()
	return s.ch, nil
}

// LimitExceeded is the code of a subscription refused by a limit.
const LimitExceeded apperr.Code = "LIMIT_EXCEEDED"

// end unregisters the subscriber and closes its channel, once; dropped: it was too slow.
func (s *subscriber) end(dropped bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.ch)
	stop := s.stop
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	h := s.hub
	h.mu.Lock()
	if subs := h.orgs[s.org]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.orgs, s.org)
		}
	}
	h.mu.Unlock()
	h.obs.Subscribed(-1)
	if s.conn != nil {
		s.conn.remove()
		if dropped {
			s.conn.Kill()
		}
	}
	if dropped {
		h.obs.Dropped()
	}
}

// deliver queues e for the subscriber without waiting; a full queue drops it.
func (s *subscriber) deliver(e *timeline.Event) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	select {
	case s.ch <- e:
		s.mu.Unlock()
		return true
	default:
		s.mu.Unlock()
		s.end(true)
		return false
	}
}

// ensureListening starts the listener once and waits until it listens (or ctx ends), so a
// subscription returned sees every event committed after it.
func (h *Hub) ensureListening(ctx context.Context) error {
	h.start.Do(func() {
		lctx, cancel := context.WithCancel(context.Background())
		h.stop = cancel
		h.shards = make([]chan notification, shardCount)
		for i := range h.shards {
			h.shards[i] = make(chan notification, 1024)
			go h.dispatch(lctx, h.shards[i])
		}
		go h.listen(lctx)
	})
	select {
	case <-h.started:
		return nil
	case <-h.stopped:
		return errors.New("subscriptions: the hub is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Listening reports whether the listening connection is up.
func (h *Hub) Listening() bool {
	h.listenMu.Lock()
	defer h.listenMu.Unlock()
	return h.listenOK
}

func (h *Hub) setListening(ok bool) {
	h.listenMu.Lock()
	h.listenOK = ok
	if ok {
		h.listens++
	}
	h.listenMu.Unlock()
}

// Listens is how many times the hub has started listening (1 + its reconnections).
func (h *Hub) Listens() int {
	h.listenMu.Lock()
	defer h.listenMu.Unlock()
	return h.listens
}

// listen holds one connection of the hub's pool with LISTEN on, and hands each notification to
// its organization's dispatcher. After a failure (the database restarted, the connection
// broke) it reconnects, backing off up to 5 s; what was notified while it was down is not
// delivered (subscribers catch up from the timeline).
func (h *Hub) listen(ctx context.Context) {
	defer close(h.stopped)
	var once sync.Once
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listenOnce(ctx, func() {
			h.setListening(true)
			once.Do(func() { close(h.started) })
			backoff = 100 * time.Millisecond
		})
		h.setListening(false)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn().Err(err).Dur("retry_in", backoff).Msg("subscriptions: listening connection lost")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (h *Hub) listenOnce(ctx context.Context, listening func()) error {
	c, err := h.own.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		conn := dc.(*stdlib.Conn).Conn()
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.EventsChannel}.Sanitize()); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		listening()
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				// Never back to the pool: it listens.
				return errors.Join(err, driver.ErrBadConn)
			}
			org, ids, ok := db.ParsePayload(n.Payload)
			if !ok {
				continue
			}
			if !h.hasSubscribers(org) {
				continue
			}
			select {
			case h.shards[int(org[0])%len(h.shards)] <- notification{org: org, ids: ids, at: time.Now()}:
			case <-ctx.Done():
				return errors.Join(ctx.Err(), driver.ErrBadConn)
			}
		}
	})
}

func (h *Hub) hasSubscribers(org uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.orgs[org]) > 0
}

// dispatch reads the events of the notifications of its shard and queues them for their
// subscribers: the notifications waiting are taken together, and each organization's ids
// read in one statement, whatever its number of subscribers.
func (h *Hub) dispatch(ctx context.Context, in <-chan notification) {
	for {
		var batch []notification
		select {
		case <-ctx.Done():
			return
		case n := <-in:
			batch = append(batch, n)
		}
	more:
		for len(batch) < 256 {
			select {
			case n := <-in:
				batch = append(batch, n)
			default:
				break more
			}
		}
		byOrg := map[uuid.UUID][]string{}
		var orgs []uuid.UUID
		for _, n := range batch {
			if _, ok := byOrg[n.org]; !ok {
				orgs = append(orgs, n.org)
			}
			byOrg[n.org] = append(byOrg[n.org], n.ids...)
		}
		for _, org := range orgs {
			h.fanOut(ctx, org, byOrg[org])
		}
	}
}

// fanOut reads the events of ids under org and queues each for the org's subscribers whose
// filter it matches.
func (h *Hub) fanOut(ctx context.Context, org uuid.UUID, ids []string) {
	h.mu.Lock()
	subs := make([]*subscriber, 0, len(h.orgs[org]))
	for s := range h.orgs[org] {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	// The reader of the organization: row-level security and the organization's condition
	// bound the read to it; every subscriber holds at least the viewer role.
	rctx := auth.WithPrincipal(ctx, auth.Principal{OrganizationID: org, Roles: []auth.Role{auth.Viewer}})
	// On the hub's own pool: a burst of events waits for the hub's connections, never for
	// the requests'.
	events, err := timeline.ByIDs(rctx, h.own, ids)
	if err != nil {
		h.log.Error().Err(err).Str("org_id", org.String()).Int("events", len(ids)).Msg("subscriptions: read events")
		return
	}
	// Oldest first, as they happened.
	slices.Reverse(events)
	delivered := 0
	for i := range events {
		e := &events[i]
		for _, s := range subs {
			if s.filter.matches(e) && s.deliver(e) {
				delivered++
			}
		}
	}
	if delivered > 0 {
		h.obs.Delivered(delivered)
	}
}

// Conn is one WebSocket connection's share of the limits: its subscriptions, and how to
// close it when one of them is dropped.
type Conn struct {
	mu     sync.Mutex
	active int
	kill   func()
	idle   *time.Timer
	idleD  time.Duration
}

type connKey struct{}

// NewConn is the state of a connection: kill closes it; after idle without a subscription
// it is closed too (0: never).
func NewConn(kill func(), idle time.Duration) *Conn {
	c := &Conn{kill: kill, idleD: idle}
	if idle > 0 {
		c.idle = time.AfterFunc(idle, kill)
	}
	return c
}

// WithConn is ctx of a connection's operations.
func WithConn(ctx context.Context, c *Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnFrom is the connection of ctx (nil: not a WebSocket connection, e.g. SSE).
func ConnFrom(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}

func (c *Conn) add(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active >= limit {
		return false
	}
	c.active++
	if c.idle != nil {
		c.idle.Stop()
	}
	return true
}

func (c *Conn) remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	if c.active == 0 && c.idle != nil {
		c.idle.Reset(c.idleD)
	}
}

// Kill closes the connection (a dropped consumer, the idle timeout).
func (c *Conn) Kill() {
	c.Stop()
	if c.kill != nil {
		c.kill()
	}
}

// Stop stops the idle timeout (the connection closed).
func (c *Conn) Stop() {
	if c.idle != nil {
		c.idle.Stop()
	}
}

// String names the hub's state for logs.
func (h *Hub) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.orgs {
		n += len(s)
	}
	return fmt.Sprintf("subscriptions: %d in %d organizations", n, len(h.orgs))
}

// Subscribers is how many subscriptions org holds on this server.
func (h *Hub) Subscribers(org uuid.UUID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.orgs[org])
}
