package db

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// EventsChannel is the PostgreSQL notification channel of the timeline's events
// (specification §12, live updates): each payload is "<organization id>:<event id>,<event id>…",
// ids only, never personal data (docs/decisions-subscriptions.md).
const EventsChannel = "customer_events"

// maxPayload keeps a notification under PostgreSQL's limit of 8000 bytes.
const maxPayload = 7900

// Publish records that the transaction of ctx (a read-write InOrg) wrote the events of ids
// (timeline event ids, "<source>:<key>"): InOrg notifies them on EventsChannel with the
// statements it sends just before it commits (Later), so PostgreSQL delivers them after the
// commit and never for a rollback. Outside such a transaction it does nothing.
func Publish(ctx context.Context, ids ...string) {
	p := pendingOf(ctx)
	if p == nil || len(ids) == 0 {
		return
	}
	p.mu.Lock()
	p.ids = append(p.ids, ids...)
	p.mu.Unlock()
}

// Payloads are the notifications of the ids of org: "<org>:<id>,<id>…", each under the
// size limit.
func Payloads(org uuid.UUID, ids []string) []string {
	var out []string
	var b strings.Builder
	for _, id := range ids {
		if b.Len() > 0 && b.Len()+1+len(id) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(org.String() + ":")
		} else {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// ParsePayload reads a notification of EventsChannel; ok false when it is not one.
func ParsePayload(payload string) (org uuid.UUID, ids []string, ok bool) {
	o, list, found := strings.Cut(payload, ":")
	if !found {
		return uuid.Nil, nil, false
	}
	org, err := uuid.Parse(o)
	if err != nil || org == uuid.Nil || list == "" {
		return uuid.Nil, nil, false
	}
	return org, strings.Split(list, ","), true
}
