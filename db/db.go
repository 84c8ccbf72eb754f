// Package db owns the connection pool and the per-request transaction that sets the
// organization for row-level security (DESIGN §7).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
	return &Pool{DB: bdb, noPrepare: opts.NoPreparedStatements}, nil
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
	ctx = context.WithValue(ctx, orgKey{}, org)
	return db.RunInTx(ctx, &sql.TxOptions{ReadOnly: readOnly}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true)", org.String()); err != nil {
			return fmt.Errorf("set organization: %w", err)
		}
		return fn(ctx, tx)
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

// IsUniqueViolation reports whether err is a unique-constraint violation, and which one.
func IsUniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}
