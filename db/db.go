// Package db owns the connection pool and the per-request transaction that sets the
// organization for row-level security (specification §7).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Options tune the pool.
type Options struct {
	MaxConns         int
	StatementTimeout time.Duration // 0: the server's default
	// Tracers are told of every statement the pool's connections send (metrics, tracing; a
	// test's statement count). A tracer may also implement pgx.BatchTracer to see pipelined
	// statements.
	Tracers []pgx.QueryTracer
	// NoPreparedStatements makes ReadInOrg send every statement unnamed instead of keeping
	// the repeated ones prepared on the connection: behind a pooler that hands server
	// connections out per transaction (PgBouncer's pool_mode = transaction), a statement
	// prepared on one server connection is unknown on the next (DB_PREPARED_STATEMENTS=false).
	NoPreparedStatements bool
}

// Pool is a connection pool: the bun database, and what the package must know of how it was
// opened. Open returns one; a Pool made over a bun database directly (Pool{DB: d}) has
// Open's defaults.
type Pool struct {
	*bun.DB
	noPrepare bool // ReadInOrg sends every statement unnamed (Options.NoPreparedStatements)
	citus     bool // the database has the citus extension (onCitus)
	// cfg is how Open connects (URL, statement timeout, tracers), for Dedicated; nil in a
	// Pool made over a bun database directly.
	cfg *pgx.ConnConfig
}

// Open connects to url through pgx (the maintained driver under bun) and checks the connection.
func Open(ctx context.Context, url string, opts Options) (*Pool, error) {
	cfg, err := pgxConfig(url, opts)
	if err != nil {
		return nil, err
	}
	switch len(opts.Tracers) {
	case 0:
	case 1:
		cfg.Tracer = opts.Tracers[0]
	default:
		cfg.Tracer = multitracer.New(opts.Tracers...)
	}
	sqldb := stdlib.OpenDB(*cfg)
	if opts.MaxConns > 0 {
		sqldb.SetMaxOpenConns(opts.MaxConns)
		sqldb.SetMaxIdleConns(opts.MaxConns)
	}
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	bdb := bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns())
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bdb.PingContext(pingCtx); err != nil {
		bdb.Close()
		if strings.Contains(err.Error(), "unsupported startup parameter") {
			// PgBouncer refuses startup parameters it does not know, and REQUEST_TIMEOUT sends
			// statement_timeout as one.
			err = fmt.Errorf("%w (behind PgBouncer: add `ignore_startup_parameters = statement_timeout` to pgbouncer.ini; see README, Behind PgBouncer)", err)
		}
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	p := &Pool{DB: bdb, noPrepare: opts.NoPreparedStatements, cfg: cfg}
	if err := bdb.QueryRowContext(pingCtx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&p.citus); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if p.citus {
		citusPools.Store(bdb, true)
	}
	if !p.noPrepare {
		preparingPools.Store(bdb, true)
	}
	return p, nil
}

// Dedicated opens a pool of its own, of at most maxConns connections, that connects as p
// does (the same database, role, statement timeout, tracers and Citus detection): a part of
// the server whose work must neither wait for the requests' connections nor take them (the
// subscriptions' listener and event reads) gets a budget of its own. It opens no connection
// until one is used; close it when done.
func (p *Pool) Dedicated(maxConns int) (*Pool, error) {
	if p.cfg == nil {
		return nil, errors.New("db: a dedicated pool needs a pool made by Open")
	}
	if maxConns < 1 {
		return nil, fmt.Errorf("db: a dedicated pool of %d connections", maxConns)
	}
	sqldb := stdlib.OpenDB(*p.cfg)
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	bdb := bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns())
	if p.citus {
		citusPools.Store(bdb, true)
	}
	if !p.noPrepare {
		preparingPools.Store(bdb, true)
	}
	return &Pool{DB: bdb, noPrepare: p.noPrepare, citus: p.citus, cfg: p.cfg}, nil
}

// Citus (a distributed PostgreSQL: README, Scaling out) is detected once, when a pool is
// opened: a database that gets the extension later is seen as one at the next start.
//
// On Citus the organization must reach the workers, whose shards enforce the same policies:
// a setting made with set_config(…, true) stays on the coordinator (the shards would see no
// organization: reads return nothing, inserts are refused). Citus carries a setting made
// with SET LOCAL inside an explicit transaction when citus.propagate_set_commands is
// 'local'. SET takes no bind parameter: the organization is written into the text from a
// uuid.UUID (hex digits and dashes), never from a caller's text.
//
// citusPools are the bun databases of the pools opened on Citus, for InOrg, which is given
// a bun.IDB (a Handle's DB, a Pool, a *bun.DB).
var citusPools sync.Map // *bun.DB → true

// OnCitus reports whether the pool was opened on a database with the citus extension.
func (p *Pool) OnCitus() bool { return p.citus }

func onCitus(idb bun.IDB) bool {
	switch d := idb.(type) {
	case *Pool:
		return d.citus
	case *Handle:
		return d.Pool.citus
	case *bun.DB:
		_, ok := citusPools.Load(d)
		return ok
	}
	return false
}

// preparingPools are the bun databases of the pools opened by Open that keep statements
// prepared (not Options.NoPreparedStatements), for InOrg (ScanPrepared).
var preparingPools sync.Map // *bun.DB → true

// mayPrepare reports whether statements may be kept prepared on idb's connections: a pool
// opened by Open without Options.NoPreparedStatements (behind PgBouncer in transaction mode a
// statement prepared on one server connection is unknown on the next).
func mayPrepare(idb bun.IDB) bool {
	switch d := idb.(type) {
	case *Pool:
		return d.cfg != nil && !d.noPrepare
	case *Handle:
		return d.Pool.cfg != nil && !d.Pool.noPrepare
	case *bun.DB:
		_, ok := preparingPools.Load(d)
		return ok
	}
	return false
}

// citusOrgSettings sets org transaction-locally so that Citus carries it to the workers.
func citusOrgSettings(org uuid.UUID) []string {
	return []string{
		"SET LOCAL citus.propagate_set_commands = 'local'",
		"SET LOCAL app.current_organization_id = '" + org.String() + "'",
	}
}

func pgxConfig(url string, opts Options) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if opts.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	}
	cfg.RuntimeParams["application_name"] = "customer-service"
	// bun writes argument values into the SQL text, so statements are rarely repeated: pgx's
	// default (prepare and cache each one) would cost an extra round trip per statement.
	// Exec mode sends each in one round trip, and needs no server-side prepared statements
	// (which also keeps PgBouncer in transaction mode working).
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// InOrg runs fn in a short transaction whose first statement sets
// app.current_organization_id transaction-locally (§7), so nothing leaks through a pooled
// connection. On Citus it is set with SET LOCAL, which Citus carries to the workers (Pool). Each service call takes its own: gqlgen resolves fields
// concurrently and a transaction must not be shared by goroutines.
func InOrg(ctx context.Context, db bun.IDB, org uuid.UUID, readOnly bool, fn func(ctx context.Context, tx bun.Tx) error) error {
	return inOrgTx(ctx, db, org, &sql.TxOptions{ReadOnly: readOnly}, false, fn)
}

// inOrgTx is InOrg with the transaction's options; noJIT also turns JIT compilation off for
// the transaction, in the same statement (a large statement run once can spend longer
// compiling than running: ReadInOrg's pipelineSettings).
func inOrgTx(ctx context.Context, db bun.IDB, org uuid.UUID, opts *sql.TxOptions, noJIT bool, fn func(ctx context.Context, tx bun.Tx) error) error {
	if org == uuid.Nil {
		return errors.New("db: no organization in transaction")
	}
	if nested, err := inBatch(ctx, org, fn); nested {
		return err
	}
	citus := onCitus(db)
	ctx = context.WithValue(ctx, orgKey{}, org)
	ctx = context.WithValue(ctx, preparedKey{}, mayPrepare(db))
	var later *pending
	if opts == nil || !opts.ReadOnly {
		// Nothing is queued in a read-only transaction: Later sends at once there.
		later = &pending{}
		ctx = context.WithValue(ctx, pendingKey{}, later)
	}
	return db.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if citus {
			// One round trip: without arguments the two statements go as one simple query.
			settings := citusOrgSettings(org)
			if noJIT {
				settings = append(settings, "SET LOCAL jit = off")
			}
			_, err = tx.ExecContext(ctx, strings.Join(settings, "; "))
		} else if noJIT {
			_, err = tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true), set_config('jit', 'off', true)", org.String())
		} else {
			_, err = tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true)", org.String())
		}
		if err != nil {
			return fmt.Errorf("set organization: %w", err)
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if later != nil {
			// The queued writes and the events' notification, in one round trip, inside the
			// transaction: a notification is delivered at its commit, never after a rollback.
			return later.flush(ctx, tx, org)
		}
		return nil
	})
}

type orgKey struct{}

// Org is the organization of the InOrg transaction ctx is of (uuid.Nil outside one): every
// statement names it in SQL beside the row-level security policy (`organization_id = ?`,
// docs/decisions-tenancy-keys.md), which is what routes it to the organization's shard once
// the tables are distributed.
func Org(ctx context.Context) uuid.UUID {
	org, _ := ctx.Value(orgKey{}).(uuid.UUID)
	return org
}

// IsUniqueViolation reports whether err is a unique-constraint violation, and which one: the
// constraint's name as the migrations declare it. On Citus the violation comes from a shard,
// named after the shard (customers_email_key_102067), and without the constraint-name field:
// the name is then taken from the message and the shard's "_<shard id>" suffix stripped.
func IsUniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return "", false
	}
	if pgErr.ConstraintName != "" {
		return unsharded(pgErr.ConstraintName), true
	}
	if m := uniqueMessage.FindStringSubmatch(pgErr.Message); m != nil {
		return unsharded(m[1]), true
	}
	return "", true
}

// uniqueMessage is PostgreSQL's message of a unique violation (lc_messages in English, which
// is how the servers run: the constraint-name field is what to rely on where it is sent).
var uniqueMessage = regexp.MustCompile(`^duplicate key value violates unique constraint "((?:[^"]|"")+)"`)

// shardSuffix is what Citus appends to a shard's copy of an object: "_" and the shard id
// (6 digits or more: shard ids start at 102008). The migrations name no constraint so.
var shardSuffix = regexp.MustCompile(`_[0-9]{6,}$`)

func unsharded(name string) string {
	return shardSuffix.ReplaceAllString(strings.ReplaceAll(name, `""`, `"`), "")
}
