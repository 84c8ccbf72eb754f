// Package db owns the connection pool and the per-request transaction that sets the
// organization for row-level security (DESIGN §7).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
	// Tracers are told of every statement the pool's connections send (metrics, tracing),
	// besides the pool's own count behind StatementsSent. A tracer may also implement
	// pgx.BatchTracer to see pipelined statements.
	Tracers []pgx.QueryTracer
	// NoPreparedStatements makes ReadInOrg send every statement unnamed instead of keeping
	// the repeated ones prepared on the connection: behind a pooler that hands server
	// connections out per transaction (PgBouncer's pool_mode = transaction), a statement
	// prepared on one server connection is unknown on the next (DB_PREPARED_STATEMENTS=false).
	NoPreparedStatements bool
}

// Open connects to url through pgx (the maintained driver under bun) and checks the connection.
func Open(ctx context.Context, url string, opts Options) (*bun.DB, error) {
	cfg, err := pgxConfig(url, opts)
	if err != nil {
		return nil, err
	}
	info := &poolInfo{prepare: !opts.NoPreparedStatements}
	cfg.Tracer = &info.sent
	if len(opts.Tracers) > 0 {
		cfg.Tracer = multitracer.New(append([]pgx.QueryTracer{&info.sent}, opts.Tracers...)...)
	}
	sqldb := stdlib.OpenDB(*cfg)
	if opts.MaxConns > 0 {
		sqldb.SetMaxOpenConns(opts.MaxConns)
		sqldb.SetMaxIdleConns(opts.MaxConns)
	}
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	bdb := bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns())
	pools.Store(bdb, info)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bdb.PingContext(pingCtx); err != nil {
		bdb.Close()
		pools.Delete(bdb)
		if strings.Contains(err.Error(), "unsupported startup parameter") {
			// PgBouncer refuses startup parameters it does not know, and REQUEST_TIMEOUT sends
			// statement_timeout as one.
			err = fmt.Errorf("%w (behind PgBouncer: add `ignore_startup_parameters = statement_timeout` to pgbouncer.ini; see README, Behind PgBouncer)", err)
		}
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return bdb, nil
}

// poolInfo is what the package keeps about a pool that Open returned.
type poolInfo struct {
	sent    sentStatements
	prepare bool // ReadInOrg may keep statements prepared (Options.NoPreparedStatements unset)
}

var pools sync.Map // *bun.DB → *poolInfo

func infoOf(pool *bun.DB) *poolInfo {
	if info, ok := pools.Load(pool); ok {
		return info.(*poolInfo)
	}
	return nil
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
// connection. Each service call takes its own: gqlgen resolves fields
// concurrently and a transaction must not be shared by goroutines.
func InOrg(ctx context.Context, db bun.IDB, org uuid.UUID, readOnly bool, fn func(ctx context.Context, tx bun.Tx) error) error {
	if org == uuid.Nil {
		return errors.New("db: no organization in transaction")
	}
	return db.RunInTx(ctx, &sql.TxOptions{ReadOnly: readOnly}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true)", org.String()); err != nil {
			return fmt.Errorf("set organization: %w", err)
		}
		return fn(ctx, tx)
	})
}

// IsUniqueViolation reports whether err is a unique-constraint violation, and which one.
func IsUniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// StatementCounter is a bun hook counting the statements sent through bun, for tests and
// metrics. Pipelined reads (ReadInOrg) bypass bun's hooks: StatementsSent counts those too.
type StatementCounter struct{ n atomic.Int64 }

func (c *StatementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *StatementCounter) AfterQuery(context.Context, *bun.QueryEvent) { c.n.Add(1) }

// Count is the number of statements so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }
