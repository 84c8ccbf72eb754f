package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Stmt is one read statement of a pipelined read: its SQL ($n placeholders), its arguments,
// and what reads its rows (each row's raw values). Prepare keeps it prepared on the
// connection (worth it for a text that repeats: a 360 statement costs more to plan than to
// run) unless the pool was opened with Options.NoPreparedStatements; a prepared statement's
// columns come in PostgreSQL's text format only when they are text or json, which is what
// the 360 statements select.
type Stmt struct {
	SQL     string
	Args    []any
	Row     func(values [][]byte) error
	Prepare bool
}

// maxPrepared bounds the statements kept prepared on one connection: past it they are all
// deallocated and the count starts over (texts that stop repeating do not pile up).
const maxPrepared = 100

// prepare makes sure sql is prepared on c (pgx then executes it by name in a batch).
func prepare(ctx context.Context, c *pgx.Conn, sql string) error {
	data := c.PgConn().CustomData()
	known, _ := data["db.prepared"].(map[string]struct{})
	if _, ok := known[sql]; ok {
		return nil
	}
	if known == nil || len(known) >= maxPrepared {
		if known != nil {
			if err := c.DeallocateAll(ctx); err != nil {
				return err
			}
		}
		known = map[string]struct{}{}
		data["db.prepared"] = known
	}
	if _, err := c.Prepare(ctx, sql, sql); err != nil {
		return err
	}
	known[sql] = struct{}{}
	return nil
}

// pipelineSettings opens a pipelined read, every setting transaction-local: the organization
// (§7), read-only, and how its statements are planned. Their values are bind parameters (the
// page size of a LIMIT too), so PostgreSQL's choice between a plan made for the values and
// the statement's generic plan goes wrong: the generic plan's estimate of "LIMIT $1" is a
// tenth of the table, which makes it look costly (and, past jit_above_cost, JIT-compiled on
// every run: half a second), so every execution was planned again (2.4 ms of a page of 50
// customers' 5.5 ms). The generic plan is the same plan here, planned once per connection.
const pipelineSettings = "SELECT set_config('app.current_organization_id', $1, true), " +
	"set_config('transaction_read_only', 'on', true), " +
	"set_config('plan_cache_mode', 'force_generic_plan', true), set_config('jit', 'off', true)"

// ReadInOrg runs read statements for org in ONE round trip and without BEGIN/COMMIT: a
// pipeline of `set_config(app.current_organization_id, org, true)` (and read-only), then the
// statements, then one Sync. PostgreSQL runs everything before the Sync as one implicit
// transaction, so the setting is transaction-local exactly as in InOrg (§7): the policies see
// it, and it is gone when the pipeline ends, before the connection returns to the pool. An
// error anywhere rolls the whole pipeline back.
//
// Behind PgBouncer in transaction mode this holds too: PgBouncer gives the server connection
// back to its pool only at a ReadyForQuery that reports "idle", which PostgreSQL sends once,
// after the Sync — so the whole pipeline runs on one server connection, in one transaction.
//
// The statements run with their prepared (generic) plan and without JIT (pipelineSettings).
// The settings statement is kept prepared too: parsed and planned on every read it cost
// PostgreSQL a quarter of a small read's CPU (BENCHMARKS.md, Q3).
//
// It is the read path of the Customer 360 (one statement per root field); InOrg stays the
// path of writes and of reads that need several dependent statements. Like Read, it goes to
// the read replica when ctx allows it (AllowReplica).
func ReadInOrg(ctx context.Context, h *Handle, org uuid.UUID, stmts ...Stmt) error {
	if org == uuid.Nil {
		return errors.New("db: no organization in read")
	}
	pool := h.forRead(ctx)
	mayPrepare := !pool.noPrepare
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c := driverConn.(*stdlib.Conn).Conn()
		var b pgx.Batch
		lead, trail := 1, 0
		if pool.citus {
			// On Citus (Pool): the organization set with SET LOCAL in an explicit read-only
			// transaction, which Citus carries to the workers; still one round trip.
			b.Queue("BEGIN READ ONLY")
			for _, set := range citusOrgSettings(org) {
				b.Queue(set)
			}
			b.Queue(citusPipelineSettings)
			lead, trail = 4, 1
		} else {
			if mayPrepare {
				if err := prepare(ctx, c, pipelineSettings); err != nil {
					return err
				}
			}
			b.Queue(pipelineSettings, org.String())
		}
		for _, s := range stmts {
			if s.Prepare && mayPrepare {
				if err := prepare(ctx, c, s.SQL); err != nil {
					return err
				}
			}
			b.Queue(s.SQL, s.Args...)
		}
		if trail > 0 {
			b.Queue("COMMIT")
		}
		br := c.SendBatch(ctx, &b)
		err := readBatch(br, lead, stmts, trail)
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil && c.PgConn().TxStatus() != 'I' {
			// An error inside the explicit transaction (Citus) leaves it open, aborted, after
			// the Sync: end it, so the connection goes back to the pool clean.
			_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		return err
	})
}

// citusPipelineSettings are the planning settings of the pipeline on Citus: no JIT, but not
// force_generic_plan — Citus refuses to plan a generic plan of a parameterized statement on
// a distributed table ("could not create distributed plan", tested); it caches the
// distributed plan of a single-shard statement itself.
const citusPipelineSettings = "SELECT set_config('jit', 'off', true)"

// readBatch reads the results of a pipelined read: lead settings statements, the
// statements, then trail closing ones (COMMIT).
func readBatch(br pgx.BatchResults, lead int, stmts []Stmt, trail int) error {
	for range lead {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("set organization: %w", err)
		}
	}
	for _, s := range stmts {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := s.Row(rows.RawValues()); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for range trail {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}
