// Package config reads the service's settings from the environment once, at start, and
// validates them with messages a person can act on (specification §11).
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Config is every setting of the service.
type Config struct {
	// DatabaseURL is the server's connection (a role under row-level security). Empty: the
	// embedded default, a private PostgreSQL under DataDir.
	DatabaseURL string
	// MigrateDatabaseURL is the owner's connection for `migrate`; DatabaseURL when unset.
	MigrateDatabaseURL string
	// DatabaseReplicaURL is a streaming replica of DatabaseURL's database, as the same kind
	// of role: the reads of query operations go there. Empty: everything goes to DatabaseURL.
	DatabaseReplicaURL string
	// DBPreparedStatements keeps the repeated statements of the 360 reads prepared per
	// connection; false behind PgBouncer in transaction mode, which cannot keep them.
	DBPreparedStatements bool
	Port                 int
	LogLevel             zerolog.Level
	LogFormat            string // "json" or "console"
	JWTSecret            string // HS256; generated and kept in DataDir in embedded mode when unset
	JWTJWKSURL           string // RS256/ES256 keys
	JWTIssuer            string // checked when set
	JWTAudience          string // checked when set
	DBMaxConns           int
	RequestTimeout       time.Duration
	MaxBodyBytes         int64
	Introspection        bool
	MaxComplexity        int // cost of one operation; a connection costs its selection × first
	MaxDepth             int // nesting of fields
	MaxAliases           int // aliased fields in one operation
	// PersistedQueriesFile is a manifest of operations registered ahead of time; with
	// PersistedQueriesOnly, the only operations the server runs.
	PersistedQueriesFile string
	PersistedQueriesOnly bool
	// Rate limits: a token bucket per organization and per user (token subject), in this
	// process. A zero rate turns that bucket off.
	RateLimitOrgRPS       float64
	RateLimitOrgBurst     int
	RateLimitSubjectRPS   float64
	RateLimitSubjectBurst int
	DataDir               string // embedded PostgreSQL and generated secrets
	EmbeddedPGPort        int
	// Scheduled jobs (§9): whether this replica takes part, the time of day (UTC, as an
	// offset from midnight) they run at, and how long a claim may go without a heartbeat
	// before another replica takes the run over.
	JobsEnabled    bool
	JobsDailyAt    time.Duration
	JobsStaleAfter time.Duration
	// MetricsAddr, when set, is the address of a listener of its own for /metrics, which is
	// then not served on Port (to keep it off a public load balancer).
	MetricsAddr string
	// MetricsMaxOperations bounds the operation names that get series of their own.
	MetricsMaxOperations int
	// PprofAddr, when set, is a loopback address where Go's profiler (net/http/pprof) is
	// served, for profiling under load (the benchmark); never on Port.
	PprofAddr string
	// TracesProtocol is the OTLP protocol traces are exported with, "http/protobuf" or
	// "grpc"; empty when tracing is off, as it is unless the standard OTEL_* variables name
	// an exporter (the exporter reads its other OTEL_* settings itself).
	TracesProtocol string
	// Subscriptions (§12): the most one WebSocket connection, and one organization on this
	// replica, may hold; the events that may wait for one subscriber before it is dropped;
	// how long a WebSocket without a subscription stays open; the ping interval; the
	// connections of the subscriptions' own pool (one listens, the others read events).
	SubscriptionsPerConnection   int
	SubscriptionsPerOrganization int
	SubscriptionQueueSize        int
	SubscriptionIdleTimeout      time.Duration
	SubscriptionPingInterval     time.Duration
	SubscriptionDBConnections    int
}

// Tracing reports whether traces are exported.
func (c Config) Tracing() bool { return c.TracesProtocol != "" }

// Embedded reports whether the service runs on its embedded PostgreSQL.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// Problem is one invalid setting.
type Problem struct {
	Var     string // the environment variable
	Message string // what is wrong and what to do
}

// Error lists every invalid setting, so one start reports them all.
type Error []Problem

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e {
		fmt.Fprintf(&b, "\n  %s: %s", p.Var, p.Message)
	}
	return b.String()
}

// ForCommand reads the process environment for the subcommand (LOG_FORMAT defaults to
// console on a terminal and to JSON otherwise) (serve, migrate, seed,
// token, jobs, segments): every setting given is validated, but a setting is required only
// by the commands that use it (JWT_SECRET or JWT_JWKS_URL with DATABASE_URL: serve alone
// verifies tokens, and token checks JWT_SECRET itself).
func ForCommand(command string) (Config, error) {
	fi, err := os.Stderr.Stat()
	terminal := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return LoadFor(command, os.Getenv, terminal)
}

// LoadFor reads the settings of the subcommand through getenv (see ForCommand).
func LoadFor(command string, getenv func(string) string, terminal bool) (Config, error) {
	r := reader{getenv: getenv}
	defaultFormat := "json"
	if terminal {
		defaultFormat = "console"
	}
	c := Config{
		DatabaseURL:        r.str("DATABASE_URL"),
		MigrateDatabaseURL: r.str("MIGRATE_DATABASE_URL"),
		DatabaseReplicaURL: r.str("DATABASE_REPLICA_URL"),
		Port:               r.integer("PORT", 8080, 1, 65535),
		LogLevel:           r.logLevel("LOG_LEVEL"),
		LogFormat:          r.oneOf("LOG_FORMAT", defaultFormat, "json", "console"),
		JWTSecret:          r.str("JWT_SECRET"),
		JWTJWKSURL:         r.str("JWT_JWKS_URL"),
		JWTIssuer:          r.str("JWT_ISSUER"),
		JWTAudience:        r.str("JWT_AUDIENCE"),
		DBMaxConns:         r.integer("DB_MAX_CONNS", 20, 1, 1000),

		DBPreparedStatements: r.boolean("DB_PREPARED_STATEMENTS", true),

		RequestTimeout: r.duration("REQUEST_TIMEOUT", 10*time.Second),
		MaxBodyBytes:   int64(r.integer("MAX_BODY_BYTES", 1<<20, 1024, 1<<30)),
		Introspection:  r.boolean("INTROSPECTION", true),
		MaxComplexity:  r.integer("MAX_COMPLEXITY", 50_000, 100, 10_000_000),
		MaxDepth:       r.integer("MAX_DEPTH", 10, 2, 100),
		MaxAliases:     r.integer("MAX_ALIASES", 30, 1, 10_000),

		PersistedQueriesFile: r.str("PERSISTED_QUERIES_FILE"),
		PersistedQueriesOnly: r.boolean("PERSISTED_QUERIES_ONLY", false),

		RateLimitOrgRPS:       r.rate("RATE_LIMIT_ORG_RPS", 200),
		RateLimitOrgBurst:     r.integer("RATE_LIMIT_ORG_BURST", 400, 1, 1_000_000),
		RateLimitSubjectRPS:   r.rate("RATE_LIMIT_SUBJECT_RPS", 50),
		RateLimitSubjectBurst: r.integer("RATE_LIMIT_SUBJECT_BURST", 100, 1, 1_000_000),
		DataDir:               r.str("DATA_DIR"),
		EmbeddedPGPort:        r.integer("EMBEDDED_PG_PORT", 54329, 1, 65535),

		JobsEnabled:          r.boolean("JOBS_ENABLED", true),
		JobsDailyAt:          r.timeOfDay("JOBS_DAILY_AT", 3*time.Hour),
		JobsStaleAfter:       r.duration("JOBS_STALE_AFTER", 5*time.Minute),
		MetricsAddr:          r.str("METRICS_ADDR"),
		MetricsMaxOperations: r.integer("METRICS_MAX_OPERATIONS", 100, 1, 10_000),
		PprofAddr:            r.str("PPROF_ADDR"),
		TracesProtocol:       r.tracesProtocol(),

		SubscriptionsPerConnection:   r.integer("SUBSCRIPTIONS_PER_CONNECTION", 20, 1, 1000),
		SubscriptionsPerOrganization: r.integer("SUBSCRIPTIONS_PER_ORGANIZATION", 1000, 1, 1_000_000),
		SubscriptionQueueSize:        r.integer("SUBSCRIPTION_QUEUE_SIZE", 256, 1, 100_000),
		SubscriptionIdleTimeout:      r.duration("SUBSCRIPTION_IDLE_TIMEOUT", 5*time.Minute),
		SubscriptionPingInterval:     r.duration("SUBSCRIPTION_PING_INTERVAL", 25*time.Second),
		SubscriptionDBConnections:    r.integer("SUBSCRIPTION_DB_CONNECTIONS", 3, 2, 100),
	}
	if c.DataDir == "" {
		c.DataDir = ".data"
	}
	r.databaseURL("DATABASE_URL", c.DatabaseURL)
	r.databaseURL("MIGRATE_DATABASE_URL", c.MigrateDatabaseURL)
	r.databaseURL("DATABASE_REPLICA_URL", c.DatabaseReplicaURL)
	if c.DatabaseReplicaURL != "" && c.DatabaseURL == "" {
		r.fail("DATABASE_REPLICA_URL", "is set but DATABASE_URL is not: a read replica goes with a primary of your own (the embedded PostgreSQL has none); set DATABASE_URL too, or unset DATABASE_REPLICA_URL")
	}
	if c.MigrateDatabaseURL == "" {
		c.MigrateDatabaseURL = c.DatabaseURL
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		r.fail("JWT_SECRET", fmt.Sprintf("is too short (%d bytes): use at least 32 random bytes (e.g. `openssl rand -hex 32`)", len(c.JWTSecret)))
	}
	if c.JWTJWKSURL != "" {
		if u, err := url.Parse(c.JWTJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.fail("JWT_JWKS_URL", "must be an http(s) URL of a JSON Web Key Set")
		}
	}
	if command == "serve" && c.DatabaseURL != "" && c.JWTSecret == "" && c.JWTJWKSURL == "" {
		r.fail("JWT_SECRET", "with DATABASE_URL set, tokens need a key: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256)")
	}
	if c.MetricsAddr != "" {
		host, port, err := net.SplitHostPort(c.MetricsAddr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
			r.fail("METRICS_ADDR", fmt.Sprintf("%q is not host:port or :port, such as 127.0.0.1:9090 or :9090", c.MetricsAddr))
		} else if n == c.Port && (host == "" || host == "0.0.0.0" || host == "::") {
			r.fail("METRICS_ADDR", fmt.Sprintf("port %d is PORT's: give /metrics another port, or leave METRICS_ADDR unset to serve it on PORT", n))
		}
	}
	if c.PprofAddr != "" {
		host, port, err := net.SplitHostPort(c.PprofAddr)
		ip := net.ParseIP(host)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || ip == nil || !ip.IsLoopback() || n == c.Port {
			r.fail("PPROF_ADDR", fmt.Sprintf("%q is not a loopback host:port other than PORT's, such as 127.0.0.1:6060 (the profiler is never public)", c.PprofAddr))
		}
	}
	if c.PersistedQueriesOnly && c.PersistedQueriesFile == "" {
		r.fail("PERSISTED_QUERIES_ONLY", "is true but PERSISTED_QUERIES_FILE is not set: name the manifest of the operations to accept")
	}
	// A heartbeat goes every fifth of JOBS_STALE_AFTER: below 30s, a busy database or a GC
	// pause could make a live run look dead and let a second replica start it.
	if c.JobsStaleAfter < 30*time.Second && r.str("JOBS_STALE_AFTER") != "" {
		r.fail("JOBS_STALE_AFTER", fmt.Sprintf("%q is too short: a run is taken over after this long without a heartbeat; use 30s or more (default 5m)", r.str("JOBS_STALE_AFTER")))
	}
	if len(r.problems) > 0 {
		return Config{}, r.problems
	}
	return c, nil
}

// reader reads variables and collects what is wrong with them.
type reader struct {
	getenv   func(string) string
	problems Error
}

func (r *reader) fail(name, msg string) { r.problems = append(r.problems, Problem{name, msg}) }

func (r *reader) str(name string) string { return strings.TrimSpace(r.getenv(name)) }

func (r *reader) integer(name string, def, min, max int) int {
	s := r.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		r.fail(name, fmt.Sprintf("%q is not a whole number from %d to %d", s, min, max))
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	s := r.str(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.fail(name, fmt.Sprintf("%q is not a positive duration such as 10s or 1m30s", s))
		return def
	}
	return d
}

// rate is requests a second, 0 for no limit.
func (r *reader) rate(name string, def float64) float64 {
	s := r.str(name)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 || f != f {
		r.fail(name, fmt.Sprintf("%q is not a number of requests a second from 0 (no limit) to 1000000", s))
		return def
	}
	return f
}

// timeOfDay reads HH:MM (24-hour, UTC) as the offset from midnight.
func (r *reader) timeOfDay(name string, def time.Duration) time.Duration {
	s := r.str(name)
	if s == "" {
		return def
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not a time of day HH:MM in UTC, such as 03:00 or 23:30", s))
		return def
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

func (r *reader) boolean(name string, def bool) bool {
	s := r.str(name)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not true or false", s))
		return def
	}
	return b
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	s := strings.ToLower(r.str(name))
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(name, fmt.Sprintf("%q is not one of %s", s, strings.Join(allowed, ", ")))
	return def
}

func (r *reader) logLevel(name string) zerolog.Level {
	switch r.oneOf(name, "info", "debug", "info", "warn", "error") {
	case "debug":
		return zerolog.DebugLevel
	case "warn":
		return zerolog.WarnLevel
	case "error":
		return zerolog.ErrorLevel
	default:
		return zerolog.InfoLevel
	}
}

// tracesProtocol reads the standard OpenTelemetry variables that decide whether traces are
// exported, and how: on when OTEL_TRACES_EXPORTER is otlp, or unset while an OTLP endpoint is
// set; off when OTEL_SDK_DISABLED is true or the exporter is none. The protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.
func (r *reader) tracesProtocol() string {
	endpointSet := false
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		s := r.str(name)
		if s == "" {
			continue
		}
		endpointSet = true
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.fail(name, fmt.Sprintf("%q is not an http(s) URL of an OTLP collector, such as http://localhost:4318", s))
		}
	}
	protocolVar := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	protocol := strings.ToLower(r.str(protocolVar))
	if protocol == "" {
		protocolVar = "OTEL_EXPORTER_OTLP_PROTOCOL"
		protocol = strings.ToLower(r.str(protocolVar))
	}
	switch protocol {
	case "":
		protocol = "http/protobuf"
	case "http/protobuf", "grpc":
	default:
		r.fail(protocolVar, fmt.Sprintf("%q is not supported: use http/protobuf or grpc", protocol))
	}
	on := endpointSet
	switch exporter := strings.ToLower(r.str("OTEL_TRACES_EXPORTER")); exporter {
	case "":
	case "otlp":
		on = true
	case "none":
		on = false
	default:
		r.fail("OTEL_TRACES_EXPORTER", fmt.Sprintf("%q is not supported: use otlp, or none to turn tracing off", exporter))
	}
	if r.boolean("OTEL_SDK_DISABLED", false) || !on {
		return ""
	}
	return protocol
}

// databaseURL checks the form only; the message never repeats the URL, which holds a password.
func (r *reader) databaseURL(name, s string) {
	if s == "" {
		return
	}
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		if _, err := url.Parse(s); err == nil {
			return
		}
	}
	r.fail(name, "must be a PostgreSQL URL: postgres://user:password@host:5432/dbname?sslmode=…")
}
