package db

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// StatementSeparator joins the statements InOrg sends together in one simple-protocol query
// (Later): tracers that count or check statements split a query on it.
const StatementSeparator = ";\n"

// pending is what a read-write InOrg transaction sends in one round trip just before it
// commits: the statements queued with Later, in order, then the notification of the events
// published with Publish.
type pending struct {
	mu    sync.Mutex
	stmts []string
	ids   []string
}

type pendingKey struct{}

func pendingOf(ctx context.Context) *pending {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	return p
}

// Later queues q, a statement of the read-write InOrg transaction tx of ctx whose result
// nobody reads — an audit row, a ledger row written after the decision — to be sent with the
// transaction's other queued statements and its events' notification in ONE round trip,
// just before the commit: its values are written into its text (bun inlines them, as it does
// for every statement) and the statements go as one simple-protocol query. An error of any
// of them rolls the transaction back and is what InOrg returns.
//
// So a statement may be queued only when (1) its failure is not one its caller would answer
// differently from any other (a unique violation mapped to a user error must be sent where
// it is mapped), (2) nothing later in the transaction reads what it writes, and (3) its
// result (RETURNING, rows affected) is not needed. Outside a read-write InOrg (a read-only
// transaction, a bare connection) q is sent at once. Inside a bulk job's batch (InBatch)
// the queue is the row's savepoint's: sent before the savepoint is released, so a refused
// row takes its queued statements with it.
func Later(ctx context.Context, tx bun.IDB, q schema.QueryAppender) error {
	b, err := q.AppendQuery(schema.NewQueryGen(tx.Dialect()), nil)
	if err != nil {
		return err
	}
	p := pendingOf(ctx)
	if p == nil {
		_, err := tx.ExecContext(ctx, string(b))
		return err
	}
	p.mu.Lock()
	p.stmts = append(p.stmts, string(b))
	p.mu.Unlock()
	return nil
}

// flush sends what p holds in one round trip on tx: the queued statements, then one
// pg_notify per payload of the published events (Payloads).
func (p *pending) flush(ctx context.Context, tx bun.Tx, org uuid.UUID) error {
	p.mu.Lock()
	stmts, ids := p.stmts, p.ids
	p.stmts, p.ids = nil, nil
	p.mu.Unlock()
	gen := schema.NewQueryGen(tx.Dialect())
	for _, payload := range Payloads(org, ids) {
		b, err := tx.NewRaw("SELECT pg_notify(?, ?)", EventsChannel, payload).AppendQuery(gen, nil)
		if err != nil {
			return fmt.Errorf("notify events: %w", err)
		}
		stmts = append(stmts, string(b))
	}
	if len(stmts) == 0 {
		return nil
	}
	// Without arguments pgx sends the text by the simple protocol: one round trip, however
	// many statements, run in order inside the transaction.
	if _, err := tx.ExecContext(ctx, strings.Join(stmts, StatementSeparator)); err != nil {
		return fmt.Errorf("queued writes: %w", err)
	}
	return nil
}

// CountStatements is how many statements a query of the server holds: one, or those joined
// by StatementSeparator (Later). For the tracers of tests and metrics; a value written into a
// statement that contains the separator counts one more.
func CountStatements(sql string) int { return strings.Count(sql, StatementSeparator) + 1 }

// SplitStatements are the statements of a query of the server (CountStatements).
func SplitStatements(sql string) []string { return strings.Split(sql, StatementSeparator) }
