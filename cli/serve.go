package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"customerservice/auth"
	"customerservice/config"
	"customerservice/db"
	"customerservice/internal/embedded"
	"customerservice/jobs"
	"customerservice/metrics"
	"customerservice/migrations"
	"customerservice/seed"
	"customerservice/tracing"
)

// WireAPI builds the HTTP API that serve runs, over what serve has started (the composition
// root, server.go, is the one implementation).
type WireAPI func(ctx context.Context, rt Runtime) (http.Handler, error)

// Runtime is what serve has started and checked before it wires the API.
type Runtime struct {
	Config   config.Config
	Log      zerolog.Logger
	Database *db.Handle     // the primary pool and the read replica's, if any; checked
	Secret   string         // the HS256 secret: JWT_SECRET, or the embedded one
	Schedule *jobs.Schedule // when this replica runs the daily jobs; nil: it runs none
	Metrics  *metrics.Metrics
	Tracer   *tracing.Tracer // nil: tracing off
}

// serve runs the API until SIGINT or SIGTERM, then drains the requests in flight, closes the
// pool and stops the embedded PostgreSQL if it started it. It starts what the API runs on
// (the embedded PostgreSQL, metrics, tracing, the pools, checked), has wireAPI build the
// API over them, listens, and runs the scheduled jobs.
func serve(ctx context.Context, stopSignals func(), cfg config.Config, args []string, wireAPI WireAPI) error {
	fs := newFlags("serve")
	allowUnsafeRole := fs.Bool("allow-unsafe-role", false, "start even when the database role is a superuser, has BYPASSRLS or owns the tables (local debugging only: organizations are then not isolated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(cfg)
	log.Debug().Msg("starting") // signals are handled from here on
	started := time.Now()
	setGCPercent(os.Getenv)
	if limit, from := setMemoryLimit(os.Getenv, os.ReadFile); limit > 0 {
		log.Info().Int64("bytes", limit).Str("from", from).Msg("Go memory limit (GOMEMLIMIT) set to nine tenths of the container's")
	}

	databaseURL, secret := cfg.DatabaseURL, cfg.JWTSecret
	if cfg.Embedded() {
		log.Info().Str("data_dir", cfg.DataDir).Int("port", cfg.EmbeddedPGPort).Msg("no DATABASE_URL: starting the embedded PostgreSQL")
		pg, err := embedded.Start(ctx, cfg.DataDir, cfg.EmbeddedPGPort)
		if err != nil {
			return err
		}
		defer stopEmbedded(log, pg)
		if pg.Adopted {
			log.Warn().Msg("the embedded PostgreSQL was still running from a previous run that did not stop it (killed or crashed): this server now owns it and stops it on exit")
		}
		databaseURL = pg.AppURL
		if secret == "" {
			if secret, err = embedded.JWTSecret(cfg.DataDir); err != nil {
				return err
			}
		}
	}

	m := metrics.New(metrics.Options{MaxOperations: cfg.MetricsMaxOperations})
	sqlTracers := []pgx.QueryTracer{m.SQL()}
	var tracer *tracing.Tracer
	if cfg.Tracing() {
		var err error
		if tracer, err = tracing.Start(ctx, cfg.TracesProtocol); err != nil {
			return err
		}
		defer flushTraces(log, tracer)
		sqlTracers = append(sqlTracers, tracer.SQL())
		log.Info().Str("protocol", cfg.TracesProtocol).Msg("exporting traces over OTLP")
	}

	poolOpts := db.Options{MaxConns: cfg.DBMaxConns, StatementTimeout: cfg.RequestTimeout,
		NoPreparedStatements: !cfg.DBPreparedStatements, Tracers: sqlTracers}
	pool, err := db.Open(ctx, databaseURL, poolOpts)
	if err != nil {
		return err
	}
	if err := m.ObservePool("app", pool.DB.DB); err != nil {
		pool.Close()
		return err
	}
	var replica *db.Pool
	if cfg.DatabaseReplicaURL != "" {
		if replica, err = db.Open(ctx, cfg.DatabaseReplicaURL, poolOpts); err != nil {
			pool.Close()
			return fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
		if err := m.ObservePool("replica", replica.DB.DB); err != nil {
			pool.Close()
			replica.Close()
			return err
		}
		log.Info().Msg("reads of queries go to the read replica (DATABASE_REPLICA_URL), mutations to the primary")
	}
	database := db.NewHandle(pool, replica)
	defer database.Close()
	if err := database.EachPool(ctx, db.CheckRole); err != nil {
		if !*allowUnsafeRole {
			return err
		}
		log.Warn().Err(err).Msg("--allow-unsafe-role: starting anyway")
	}
	if pending, err := migrations.Pending(ctx, pool); err != nil {
		return fmt.Errorf("%w (has `customer-service migrate up` run on this database?)", err)
	} else if len(pending) > 0 {
		return fmt.Errorf("the database is missing %d migration(s) (%s): run `customer-service migrate up` with MIGRATE_DATABASE_URL set to the tables' owner, then start again",
			len(pending), strings.Join(pending, ", "))
	}
	if replica != nil {
		if err := migrations.Current(ctx, replica); err != nil {
			return fmt.Errorf("the read replica (DATABASE_REPLICA_URL) cannot serve: %w; it must be a streaming replica of DATABASE_URL's database that has replayed its migrations", err)
		}
	}
	if cfg.Embedded() {
		loaded, err := seed.Demo(ctx, pool.DB)
		if err != nil {
			return err
		}
		if loaded {
			log.Info().Int("customers", seed.DemoCustomers).Str("org_id", seed.DemoOrg.String()).Msg("loaded the demo organization")
		}
	}

	var schedule *jobs.Schedule // nil: this replica does not run the scheduled jobs
	if cfg.JobsEnabled {
		schedule = &jobs.Schedule{At: cfg.JobsDailyAt}
	}
	api, err := wireAPI(ctx, Runtime{Config: cfg, Log: log, Database: database, Secret: secret,
		Schedule: schedule, Metrics: m, Tracer: tracer})
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(log, cfg.MetricsAddr, m.Handler())
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := serveAlone(log, "PPROF_ADDR", cfg.PprofAddr, "/debug/pprof/", pprofHandler())
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 5*time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(log, "", 0),
	}
	var scheduler *jobs.Scheduler
	if schedule != nil {
		// Its own small pool: the jobs' statements may take longer than REQUEST_TIMEOUT, the
		// statement_timeout of the API's pool. Opened before the banner, so that from then on
		// a signal only ever meets the shutdown below.
		jobsPool, err := db.Open(ctx, databaseURL, db.Options{MaxConns: 4})
		if err != nil {
			return err
		}
		defer jobsPool.Close()
		scheduler = jobs.NewScheduler(jobsPool, jobs.Options{
			Schedule: *schedule, StaleAfter: cfg.JobsStaleAfter, Grace: drainTimeout, Log: log,
		})
	}
	listener, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("PORT=%d: %w", cfg.Port, err)
	}
	log.Info().Int("port", cfg.Port).Dur("startup_ms", time.Since(started)).Msg("serving GraphQL at /graphql")
	if cfg.Embedded() {
		if err := printWelcome(os.Stdout, cfg, secret); err != nil {
			return err
		}
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	scheduled := make(chan struct{})
	if scheduler != nil {
		go func() { defer close(scheduled); scheduler.Run(ctx) }()
	} else {
		log.Info().Msg("JOBS_ENABLED=false: this replica does not run the scheduled jobs")
		close(scheduled)
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stopSignals() // a second Ctrl-C ends the process at once
	log.Info().Msg("shutting down: finishing the requests in flight and the job running, if any")
	// A job still running after drainTimeout is cancelled and recorded as failed, in moments.
	jobsStopped := time.After(drainTimeout + 5*time.Second)
	drain, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		log.Warn().Err(err).Msg("requests still running at shutdown")
	}
	select {
	case <-scheduled:
	case <-jobsStopped:
		log.Error().Msg("the scheduled job did not stop in time; its claim goes stale and another replica takes it over")
	}
	return nil
}

// serveGCPercent is the garbage collector's target of `serve` unless GOGC is set: a heap may
// grow to five times the live heap (tens of megabytes here) before a collection, instead of
// Go's default of twice. A request allocates much and keeps nothing, so with the default the
// collector ran often, and each collection also shrank the stacks of the connections'
// goroutines, which the next request grew again: at GOGC 400 a Customer 360 read cost a tenth
// less CPU (BENCHMARKS.md, issue 17), for a peak RSS of 140–165 MB under 64 clients in the
// benchmark (64 MB before).
const serveGCPercent = 400

// setGCPercent sets serveGCPercent unless the environment sets GOGC (which the runtime has
// applied already).
func setGCPercent(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(serveGCPercent)
	return true
}

// The cgroup files that hold the container's memory limit: v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// setMemoryLimit gives the garbage collector a ceiling to go with serveGCPercent: unless the
// environment sets GOMEMLIMIT (which the runtime has applied already), nine tenths of the
// cgroup's memory limit when there is one (cgroup v2 memory.max, else v1
// memory.limit_in_bytes), so that a heap allowed to grow to five times the live one is
// collected before the container is killed. It returns the limit set and the file it came
// from; 0 when none was set (GOMEMLIMIT set, no cgroup limit, or one too small to read).
func setMemoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (int64, string) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, ""
	}
	for _, f := range cgroupMemoryFiles {
		b, err := readFile(f)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0, "" // no limit
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 { // v1 reports no limit as a huge number
			return 0, ""
		}
		limit := n / 10 * 9
		debug.SetMemoryLimit(limit)
		return limit, f
	}
	return 0, ""
}

// drainTimeout is how long shutdown waits for the requests in flight and for a scheduled
// job in progress (within the 30 s a container orchestrator usually grants).
const drainTimeout = 20 * time.Second

// serveMetrics serves /metrics alone on addr (METRICS_ADDR), until stop.
func serveMetrics(log zerolog.Logger, addr string, h http.Handler) (stop func(), err error) {
	return serveAlone(log, "METRICS_ADDR", addr, "GET /metrics", h)
}

// pprofHandler is Go's profiler (net/http/pprof) under /debug/pprof/, served only on
// PPROF_ADDR (a loopback address, for profiling under load), never on the API's mux.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// serveAlone serves h at pattern alone on a listener of its own at addr (the setting
// variable names it), until stop.
func serveAlone(log zerolog.Logger, variable, addr, pattern string, h http.Handler) (stop func(), err error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", variable, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	// No write timeout of less than a CPU profile's 30 s default.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 2 * time.Minute,
		ErrorLog: stdlog.New(log, "", 0)}
	go func() {
		if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("variable", variable).Msg("listener stopped")
		}
	}()
	log.Info().Str("addr", addr).Str("serves", pattern).Msg("serving")
	return func() { _ = srv.Close() }, nil
}

// flushTraces exports the spans still buffered, waiting a few seconds at most.
func flushTraces(log zerolog.Logger, t *tracing.Tracer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("could not export the last traces")
	}
}

func newLogger(cfg config.Config) zerolog.Logger {
	var w io.Writer = os.Stderr
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Logger()
}

func stopEmbedded(log zerolog.Logger, pg *embedded.DB) {
	if !pg.Started {
		log.Info().Msg("the embedded PostgreSQL was started by another process that is still running (such as another serve on this DATA_DIR): leaving it running")
		return
	}
	if err := embedded.Stop(pg); err != nil {
		log.Error().Err(err).Msg("stop the embedded PostgreSQL")
		return
	}
	log.Info().Msg("stopped the embedded PostgreSQL")
}

// devTokenTTL is how long the token printed at an embedded start stays valid.
const devTokenTTL = 30 * 24 * time.Hour

// printWelcome tells the person who ran the embedded default where to go and how to call.
func printWelcome(w io.Writer, cfg config.Config, secret string) error {
	p := auth.Principal{UserID: seed.DemoUser, OrganizationID: seed.DemoOrg, Roles: []auth.Role{auth.Admin}}
	tok, err := auth.Mint(secret, p, devTokenTTL, cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `
Customer Service is running on its embedded PostgreSQL (data in %s).

  GraphiQL  http://localhost:%d/
  Token     %s
            (admin of the demo organization %s, valid 30 days)

In GraphiQL, open Headers (bottom left) and paste: {"Authorization": "Bearer %s"}

`, cfg.DataDir, cfg.Port, tok, seed.DemoOrg, tok)
	return err
}
