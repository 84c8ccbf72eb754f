// Command customer-service is the Customer Service of DESIGN.md: one binary whose
// subcommands serve the GraphQL API, migrate the database, load sample data and mint
// development tokens (§9). This file parses the subcommand and the configuration, wires the
// packages and runs them; the work itself lives in those packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"customerservice/auth"
	"customerservice/config"
	"customerservice/db"
	"customerservice/graph"
	"customerservice/httpapi"
	"customerservice/internal/embedded"
	"customerservice/jobs"
	"customerservice/metrics"
	"customerservice/migrations"
	"customerservice/seed"
	"customerservice/segments"
	"customerservice/tracing"
)

const usage = `Customer Service: the GraphQL API of an organization's customers.

Usage:
  customer-service [serve] [--allow-unsafe-role]   serve the API (the default command) and run the daily
                                                    jobs at JOBS_DAILY_AT, once across replicas
  customer-service migrate up|down|status           apply, roll back the last, or list migrations
  customer-service seed [--customers N] [--org UUID] [--seed S]
                                                    load the demo organization, or add N synthetic customers
  customer-service token [--org UUID] [--sub UUID] --roles viewer,agent,manager,admin [--ttl 24h]
                                                    print a development token (HS256)
  customer-service jobs run [--org UUID]            run the daily jobs: points expiry, tier re-evaluation,
                                                    overdue credit, segments (every organization by default)
  customer-service segments recalc [--org UUID | --all]
                                                    recalculate the RFM segments now

Settings come from environment variables (see README.md). Without DATABASE_URL every
command uses the embedded PostgreSQL kept under DATA_DIR (default .data).
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "customer-service:", err)
			os.Exit(1)
		}
	}
}

func run(args []string) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	if command == "help" {
		fmt.Print(usage)
		return nil
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch command {
	case "serve":
		return serve(ctx, stop, cfg, args)
	case "migrate":
		return migrate(ctx, cfg, args)
	case "seed":
		return seedData(ctx, cfg, args)
	case "token":
		return token(cfg, args)
	case "jobs":
		return runJobs(ctx, cfg, args)
	case "segments":
		return recalcSegments(ctx, cfg, args)
	default:
		return fmt.Errorf("unknown command %q\n\n%s", command, usage)
	}
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage, "\nFlags of ", name, ":\n")
		fs.PrintDefaults()
	}
	return fs
}

// serve runs the API until SIGINT or SIGTERM, then drains the requests in flight, closes the
// pool and stops the embedded PostgreSQL if it started it.
func serve(ctx context.Context, stopSignals func(), cfg config.Config, args []string) error {
	fs := newFlags("serve")
	allowUnsafeRole := fs.Bool("allow-unsafe-role", false, "start even when the database role is a superuser, has BYPASSRLS or owns the tables (local debugging only: organizations are then not isolated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(cfg)
	started := time.Now()

	databaseURL, secret := cfg.DatabaseURL, cfg.JWTSecret
	if cfg.Embedded() {
		log.Info().Str("data_dir", cfg.DataDir).Int("port", cfg.EmbeddedPGPort).Msg("no DATABASE_URL: starting the embedded PostgreSQL")
		pg, err := embedded.Start(ctx, cfg.DataDir, cfg.EmbeddedPGPort)
		if err != nil {
			return err
		}
		defer stopEmbedded(log, pg)
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

	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: secret, JWKSURL: cfg.JWTJWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
	if err != nil {
		return err
	}
	limits := graph.Limits{
		MaxBodyBytes: cfg.MaxBodyBytes, Introspection: cfg.Introspection,
		MaxComplexity: cfg.MaxComplexity, MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases,
		PersistedOnly: cfg.PersistedQueriesOnly,
	}
	if cfg.PersistedQueriesFile != "" {
		if limits.PersistedQueries, err = graph.LoadPersistedQueries(cfg.PersistedQueriesFile); err != nil {
			return err
		}
	}
	var schedule *jobs.Schedule // nil: this replica does not run the scheduled jobs
	if cfg.JobsEnabled {
		schedule = &jobs.Schedule{At: cfg.JobsDailyAt}
	}
	resolver := graph.NewResolver(database, graph.ResolverOptions{JobSchedule: schedule})
	api := httpapi.New(httpapi.Deps{
		Log:      log,
		Verifier: verifier,
		Resolver: resolver,
		Limits:   limits,
		RateLimit: httpapi.RateLimit{
			OrgRPS: cfg.RateLimitOrgRPS, OrgBurst: cfg.RateLimitOrgBurst,
			SubjectRPS: cfg.RateLimitSubjectRPS, SubjectBurst: cfg.RateLimitSubjectBurst,
		},
		RequestTimeout: cfg.RequestTimeout,
		// Ready when the primary and the replica (if any) answer with the code's schema.
		Ready:              func(ctx context.Context) error { return database.EachPool(ctx, migrations.Current) },
		Metrics:            m,
		MetricsOwnListener: cfg.MetricsAddr != "",
		Tracer:             tracer,
	})
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(log, cfg.MetricsAddr, m.Handler())
		if err != nil {
			return err
		}
		defer stopMetrics()
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
	listener, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("PORT=%d: %w", cfg.Port, err)
	}
	log.Info().Int("port", cfg.Port).Dur("startup", time.Since(started)).Msg("serving GraphQL at /graphql")
	if cfg.Embedded() {
		if err := printWelcome(os.Stdout, cfg, secret); err != nil {
			return err
		}
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	scheduled := make(chan struct{})
	if schedule != nil {
		// Its own small pool: the jobs' statements may take longer than REQUEST_TIMEOUT, the
		// statement_timeout of the API's pool.
		jobsPool, err := db.Open(ctx, databaseURL, db.Options{MaxConns: 4})
		if err != nil {
			return err
		}
		defer jobsPool.Close()
		scheduler := jobs.NewScheduler(jobsPool, jobs.Options{
			Schedule: *schedule, StaleAfter: cfg.JobsStaleAfter, Grace: drainTimeout, Log: log,
		})
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

// drainTimeout is how long shutdown waits for the requests in flight and for a scheduled
// job in progress (within the 30 s a container orchestrator usually grants).
const drainTimeout = 20 * time.Second

// serveMetrics serves /metrics alone on addr (METRICS_ADDR), until stop.
func serveMetrics(log zerolog.Logger, addr string, h http.Handler) (stop func(), err error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR=%s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: stdlog.New(log, "", 0)}
	go func() {
		if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics listener stopped")
		}
	}()
	log.Info().Str("addr", addr).Msg("serving /metrics")
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
		log.Info().Msg("the embedded PostgreSQL was already running when we started: leaving it running")
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

// database is where a command's SQL goes: DATABASE_URL and MIGRATE_DATABASE_URL, or else
// the embedded PostgreSQL, started for the command if it is not running.
type database struct {
	appURL, ownerURL string
	embedded         *embedded.DB
}

func openDatabase(ctx context.Context, cfg config.Config) (*database, error) {
	if !cfg.Embedded() {
		return &database{appURL: cfg.DatabaseURL, ownerURL: cfg.MigrateDatabaseURL}, nil
	}
	pg, err := embedded.Start(ctx, cfg.DataDir, cfg.EmbeddedPGPort)
	if err != nil {
		return nil, err
	}
	return &database{appURL: pg.AppURL, ownerURL: pg.OwnerURL, embedded: pg}, nil
}

// close stops the embedded PostgreSQL if this command started it.
func (d *database) close() {
	if err := embedded.Stop(d.embedded); err != nil {
		fmt.Fprintln(os.Stderr, "customer-service:", err)
	}
}

// migrate runs with the owner's credentials: MIGRATE_DATABASE_URL, else DATABASE_URL, else
// the embedded database's superuser.
func migrate(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return errors.New("usage: customer-service migrate up|down|status")
	}
	ownerURL := cfg.MigrateDatabaseURL
	if ownerURL == "" {
		d, err := openDatabase(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.close()
		ownerURL = d.ownerURL
	}
	owner, err := db.Open(ctx, ownerURL, db.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer owner.Close()
	switch args[0] {
	case "up":
		err = migrations.Up(ctx, owner.DB)
	case "down":
		err = migrations.Down(ctx, owner.DB)
	}
	if err != nil {
		return err
	}
	return migrations.PrintStatus(ctx, owner.DB, os.Stdout)
}

// seedData loads the demo organization (once), or adds N synthetic customers to an
// organization, through the server's role under row-level security.
func seedData(ctx context.Context, cfg config.Config, args []string) error {
	fs := newFlags("seed")
	n := fs.Int("customers", 0, "add this many synthetic customers (without it: load the demo organization unless it is loaded)")
	orgFlag := fs.String("org", seed.DemoOrg.String(), "the organization to add the customers to")
	seedValue := fs.Uint64("seed", 1, "random seed: the same seed gives the same customers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	org, err := uuid.Parse(*orgFlag)
	if err != nil || org == uuid.Nil {
		return fmt.Errorf("--org %q is not an organization UUID", *orgFlag)
	}
	if *n < 0 {
		return errors.New("--customers must be a positive number")
	}
	d, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	pool, err := db.Open(ctx, d.appURL, db.Options{MaxConns: seed.DefaultWorkers})
	if err != nil {
		return err
	}
	defer pool.Close()

	if *n == 0 {
		if org != seed.DemoOrg {
			return errors.New("--org goes with --customers N: without it, seed loads the demo organization")
		}
		loaded, err := seed.Demo(ctx, pool.DB)
		if err != nil {
			return err
		}
		if !loaded {
			fmt.Println("the demo organization is loaded already (or has customers of its own): nothing to do")
			return nil
		}
		fmt.Printf("loaded the demo organization %s: %d customers\n", seed.DemoOrg, seed.DemoCustomers)
		return nil
	}

	start := time.Now()
	bar := progressbar.NewOptions(*n,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("customers"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("customers"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)
	added, err := seed.Customers(ctx, pool.DB, seed.Options{
		Org: org, Customers: *n, Seed: *seedValue,
		Progress: func(k int) { _ = bar.Add(k) },
	})
	if err != nil {
		return err
	}
	fmt.Printf("added %d customers to organization %s in %s\n", added, org, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// token prints an HS256 development token signed with JWT_SECRET, or in embedded mode with
// the secret the server generated.
func token(cfg config.Config, args []string) error {
	fs := newFlags("token")
	orgFlag := fs.String("org", "", "the organization (default in embedded mode: the demo organization)")
	subFlag := fs.String("sub", "", "the user id (default: a new random UUID)")
	rolesFlag := fs.String("roles", "", "comma-separated roles: viewer, agent, manager, admin")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := cfg.JWTSecret
	if secret == "" {
		if !cfg.Embedded() {
			return errors.New("token signs HS256 tokens with JWT_SECRET, which is not set (tokens for JWT_JWKS_URL come from your identity provider)")
		}
		var err error
		if secret, err = embedded.JWTSecret(cfg.DataDir); err != nil {
			return err
		}
	}
	if *orgFlag == "" && cfg.Embedded() {
		*orgFlag = seed.DemoOrg.String()
	}
	org, err := uuid.Parse(*orgFlag)
	if err != nil || org == uuid.Nil {
		return fmt.Errorf("--org %q is not an organization UUID", *orgFlag)
	}
	sub := uuid.New()
	if *subFlag != "" {
		if sub, err = uuid.Parse(*subFlag); err != nil {
			return fmt.Errorf("--sub %q is not a user UUID", *subFlag)
		}
	}
	if *ttl <= 0 {
		return errors.New("--ttl must be positive, such as 24h")
	}
	p := auth.Principal{UserID: sub, OrganizationID: org}
	for _, r := range strings.Split(*rolesFlag, ",") {
		switch role := auth.Role(strings.TrimSpace(r)); role {
		case auth.Viewer, auth.Agent, auth.Manager, auth.Admin:
			p.Roles = append(p.Roles, role)
		default:
			return fmt.Errorf("--roles: %q is not a role; use viewer, agent, manager or admin, comma-separated", r)
		}
	}
	tok, err := auth.Mint(secret, p, *ttl, cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

// appPool opens the server's pool (the non-owner role, under row-level security) for a
// command; close stops the embedded PostgreSQL if the command started it.
func appPool(ctx context.Context, cfg config.Config) (pool *db.Pool, close func(), err error) {
	d, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	pool, err = db.Open(ctx, d.appURL, db.Options{MaxConns: 4})
	if err != nil {
		d.close()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); d.close() }, nil
}

// orgsFlag reads --org: one organization, or nil for every organization.
func orgsFlag(value string) ([]uuid.UUID, error) {
	if value == "" {
		return nil, nil
	}
	org, err := uuid.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("--org must be an organization UUID: %w", err)
	}
	return []uuid.UUID{org}, nil
}

// runJobs runs the daily jobs once, printing a line per organization as it finishes.
func runJobs(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: customer-service jobs run [--org UUID]")
	}
	fs := newFlags("jobs run")
	orgFlag := fs.String("org", "", "only this organization (default: every organization)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	orgs, err := orgsFlag(*orgFlag)
	if err != nil {
		return err
	}
	pool, closePool, err := appPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	start := time.Now()
	visited := 0
	err = jobs.Run(ctx, pool, start, orgs, func(done, total int, r jobs.OrgResult) {
		visited = done
		fmt.Fprintf(os.Stderr, "[%d/%d] %s: %d points expired in %d accounts, %d tiers changed of %d due, %d charges now overdue, %d customers segmented\n",
			done, total, r.Organization, r.Loyalty.ExpiredPoints, r.Loyalty.ExpiredAccounts, r.Loyalty.TiersChanged,
			r.Loyalty.TiersEvaluated, r.OverdueMarked, r.CustomersScored)
	})
	if err != nil {
		return err
	}
	if visited == 0 {
		fmt.Fprintln(os.Stderr, "no organization found (without a superuser at migration time, name one with --org)")
	}
	fmt.Fprintf(os.Stderr, "jobs done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// recalcSegments recalculates the RFM segments of one or every organization, with progress.
func recalcSegments(ctx context.Context, cfg config.Config, args []string) error {
	if len(args) == 0 || args[0] != "recalc" {
		return errors.New("usage: customer-service segments recalc [--org UUID | --all]")
	}
	fs := newFlags("segments recalc")
	orgFlag := fs.String("org", "", "only this organization")
	all := fs.Bool("all", false, "every organization")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (*orgFlag == "") == !*all {
		return errors.New("give exactly one of --org UUID or --all")
	}
	pool, closePool, err := appPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()
	start := time.Now()
	if *all {
		bar := progressbar.Default(-1, "recalculating segments")
		err = segments.RecalculateAll(ctx, pool, func(done, total int) {
			bar.ChangeMax(total)
			bar.Set(done) //nolint:errcheck // progress display only
		})
		bar.Finish() //nolint:errcheck
	} else {
		var orgs []uuid.UUID
		if orgs, err = orgsFlag(*orgFlag); err == nil {
			var res *segments.Result
			if res, err = segments.RecalculateOrg(ctx, pool, orgs[0]); err == nil {
				fmt.Fprintf(os.Stderr, "%s: %d customers segmented %v\n", orgs[0], res.Scored, res.BySegment)
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "segments recalculated in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
