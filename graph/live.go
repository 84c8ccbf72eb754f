package graph

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/subscriptions"
	"customerservice/timeline"
)

// Live is how subscriptions are served (§12): over WebSocket (graphql-transport-ws) and
// Server-Sent Events.
type Live struct {
	// Authenticate checks the token of a WebSocket's connection_init payload, as the HTTP
	// middleware checks a request's (nil: every WebSocket is refused).
	Authenticate func(token string) (auth.Principal, error)
	// PingInterval is how often the server pings a WebSocket (graphql-transport-ws ping; a
	// client that answers no pong within two intervals is disconnected) and sends an SSE
	// keep-alive. Zero: DefaultPingInterval.
	PingInterval time.Duration
	// IdleTimeout closes a WebSocket that holds no subscription for that long, from its
	// opening or its last subscription's end. Zero: DefaultIdleTimeout.
	IdleTimeout time.Duration
	// InitTimeout is how long a WebSocket may take to send connection_init. Zero: 10 s.
	InitTimeout time.Duration
}

// Defaults of Live.
const (
	DefaultPingInterval = 25 * time.Second
	DefaultIdleTimeout  = 5 * time.Minute
)

func (l Live) withDefaults() Live {
	if l.PingInterval <= 0 {
		l.PingInterval = DefaultPingInterval
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.InitTimeout <= 0 {
		l.InitTimeout = 10 * time.Second
	}
	return l
}

// subscribe registers a subscription with the hub; a refusal (a limit) is a coded error.
func (r *Resolver) subscribe(ctx context.Context, f subscriptions.Filter) (<-chan *timeline.Event, error) {
	ch, err := r.Hub.Subscribe(ctx, f)
	if err != nil {
		return nil, queryError(ctx, err)
	}
	return ch, nil
}

// closeForbidden is graphql-transport-ws's close code of a refused connection_init.
const closeForbidden = 4403

// websocketTransport is gqlgen's WebSocket transport with the token checked at
// connection_init: without a valid one the connection is closed with 4403 Forbidden, as the
// protocol says of a refused init (a subscribe before init is closed 4401 by gqlgen).
func (l Live) websocketTransport(hub *subscriptions.Hub) transport.Websocket {
	return transport.Websocket{
		InitTimeout:      l.InitTimeout,
		PingPongInterval: l.PingInterval,
		CloseFunc: func(ctx context.Context, _ int) {
			if h := holderFrom(ctx); h != nil && h.conn != nil {
				h.conn.Stop() // its idle timer: the connection is closed already
				if hub != nil {
					hub.Connected(-1)
				}
			}
		},
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token, ok := strings.CutPrefix(payload.Authorization(), "Bearer ")
			if !ok || strings.TrimSpace(token) == "" || l.Authenticate == nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, errors.New("missing bearer token: send {\"Authorization\": \"Bearer <JWT>\"} in connection_init")
			}
			p, err := l.Authenticate(strings.TrimSpace(token))
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
			}
			zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Str("org_id", p.OrganizationID.String()).Str("user_id", p.UserID.String())
			})
			ctx = auth.WithPrincipal(ctx, p)
			if h := holderFrom(ctx); h != nil {
				// Closing: cancelling the connection's context makes gqlgen close it with 1000;
				// if a write to a client that stopped reading blocks that, the network
				// connection is closed a second later.
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				h.conn = subscriptions.NewConn(func() {
					cancel()
					time.AfterFunc(time.Second, h.close)
				}, l.IdleTimeout)
				ctx = subscriptions.WithConn(ctx, h.conn)
				if hub != nil {
					hub.Connected(1)
				}
			}
			return ctx, nil, nil
		},
	}
}

// netConnHolder is the network connection under a WebSocket, to close it at once when its
// consumer is dropped (a write to a client that stopped reading blocks in gqlgen, and so
// would a graceful close) or stays idle.
type netConnHolder struct {
	mu   sync.Mutex
	nc   net.Conn
	dead bool
	conn *subscriptions.Conn
}

func (h *netConnHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dead = true
	if h.nc != nil {
		_ = h.nc.Close()
	}
}

type holderKey struct{}

func holderFrom(ctx context.Context) *netConnHolder {
	h, _ := ctx.Value(holderKey{}).(*netConnHolder)
	return h
}

// hijackCapture is the ResponseWriter of a WebSocket upgrade: it keeps the connection the
// WebSocket library hijacks.
type hijackCapture struct {
	http.ResponseWriter
	h *netConnHolder
}

func (w hijackCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.h.mu.Lock()
		w.h.nc = hj
		if w.h.dead {
			_ = hj.Close()
		}
		w.h.mu.Unlock()
	}
	return hj, brw, err
}

// IsStream reports whether r opens a subscription stream (a WebSocket upgrade or an SSE
// request): it has no deadline and, for a WebSocket, authenticates in connection_init.
func IsStream(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// IsWebSocket reports whether r asks for a WebSocket.
func IsWebSocket(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// withWebsocketConn gives an upgrade request the state of its connection.
func withWebsocketConn(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	h := &netConnHolder{}
	ctx := context.WithValue(r.Context(), holderKey{}, h)
	return hijackCapture{ResponseWriter: w, h: h}, r.WithContext(ctx)
}

// sseWriter is the ResponseWriter of an SSE stream: gqlgen's transport needs an
// http.Flusher (the service's middlewares wrap the writer), and each write has a deadline so
// that a client that stopped reading does not hold the stream's goroutine forever.
type sseWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func newSSEWriter(w http.ResponseWriter, timeout time.Duration) sseWriter {
	return sseWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (w sseWriter) Write(b []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.ResponseWriter.Write(b)
}

func (w sseWriter) Flush() { _ = w.rc.Flush() }

func (w sseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
