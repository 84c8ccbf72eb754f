package db

import (
	"context"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// EventsChannel is the PostgreSQL notification channel of the timeline's events
// (specification §12, live updates): each payload is "<organization id>:<event id>,<event id>…",
// ids only, never personal data (docs/decisions-subscriptions.md).
const EventsChannel = "customer_events"

// maxPayload keeps a notification under PostgreSQL's limit of 8000 bytes.
const maxPayload = 7900

// published collects the event ids a read-write InOrg transaction writes; InOrg sends them
// with one pg_notify before it commits, so PostgreSQL delivers them after the commit and
// never for a rollback.
type published struct {
	mu  sync.Mutex
	ids []string
}

type publishedKey struct{}

// Publish records that the transaction of ctx (a read-write InOrg) wrote the events of ids
// (timeline event ids, "<source>:<key>"): they are notified on EventsChannel when it commits.
// Outside such a transaction it does nothing.
func Publish(ctx context.Context, ids ...string) {
	p, ok := ctx.Value(publishedKey{}).(*published)
	if !ok || len(ids) == 0 {
		return
	}
	p.mu.Lock()
	p.ids = append(p.ids, ids...)
	p.mu.Unlock()
}

// notifyPublished sends the ids published in the transaction, as few notifications as fit.
func notifyPublished(ctx context.Context, tx bun.Tx, org uuid.UUID, p *published) error {
	p.mu.Lock()
	ids := p.ids
	p.mu.Unlock()
	for _, payload := range Payloads(org, ids) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", EventsChannel, payload); err != nil {
			return err
		}
	}
	return nil
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
