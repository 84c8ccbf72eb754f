package apitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// WSMessage is one message of graphql-transport-ws.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a graphql-transport-ws connection to the server.
type WS struct {
	Conn *websocket.Conn
	t    testing.TB
}

// DialWS opens a WebSocket with the graphql-transport-ws subprotocol, sends connection_init
// with payload (nil: none) and returns the connection without reading the answer.
func (s *Server) DialWS(t testing.TB, payload map[string]any) *WS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	ws := &WS{Conn: c, t: t}
	init := WSMessage{Type: "connection_init"}
	if payload != nil {
		init.Payload, _ = json.Marshal(payload)
	}
	ws.Send(init)
	return ws
}

// Subscriber opens an acknowledged connection as c.
func (c *Client) Subscriber(t testing.TB) *WS {
	t.Helper()
	ws := c.srv.DialWS(t, map[string]any{"Authorization": "Bearer " + c.Token})
	if m := ws.Next(5 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("connection_init answered %+v, want connection_ack", m)
	}
	return ws
}

// Send writes one message.
func (w *WS) Send(m WSMessage) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, w.Conn, m); err != nil {
		w.t.Fatal(err)
	}
}

// Subscribe starts operation id.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.Send(WSMessage{ID: id, Type: "subscribe", Payload: payload})
}

// Next reads the next message other than a ping or pong (Type "" with the error in Payload
// when none comes within wait or the connection closed: see Read).
func (w *WS) Next(wait time.Duration) WSMessage {
	w.t.Helper()
	for {
		m, err := w.Read(wait)
		if err != nil {
			return WSMessage{Payload: json.RawMessage(`"` + err.Error() + `"`)}
		}
		if m.Type == "ping" || m.Type == "pong" {
			continue
		}
		return m
	}
}

// Read reads one message within wait; when none comes in time, the connection is closed
// (coder/websocket closes it when a read's context ends).
func (w *WS) Read(wait time.Duration) (WSMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var m WSMessage
	err := wsjson.Read(ctx, w.Conn, &m)
	return m, err
}

// CloseStatus is the close code the server closed the connection with, read within wait
// (-1: it did not close).
func (w *WS) CloseStatus(wait time.Duration) websocket.StatusCode {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		_, err := w.Read(time.Until(deadline))
		if err != nil {
			if os.Getenv("WS_DEBUG") != "" {
				w.t.Logf("read: %v", err)
			}
			return websocket.CloseStatus(err)
		}
	}
	return -1
}

// SSE opens a subscription over Server-Sent Events as c; the response's events come on the
// channel (each the JSON of one "next" event's data) until the stream ends.
func (c *Client) SSE(t testing.TB, query string, vars map[string]any) (*http.Response, <-chan json.RawMessage) {
	t.Helper()
	return c.srv.SSE(t, c.Token, query, vars)
}

// SSE is Client.SSE with any token ("" : none).
func (s *Server) SSE(t testing.TB, token, query string, vars map[string]any) (*http.Response, <-chan json.RawMessage) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan json.RawMessage, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "next":
				out <- json.RawMessage(strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return resp, out
}
