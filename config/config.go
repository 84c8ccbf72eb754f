// Package config reads the service's settings from the environment once, at start, and
// validates them with messages a person can act on (DESIGN §9).
package config

import (
	"fmt"
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
}

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

// FromEnvironment reads the process environment. LOG_FORMAT defaults to console on a
// terminal and to JSON otherwise.
func FromEnvironment() (Config, error) {
	fi, err := os.Stderr.Stat()
	terminal := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return Load(os.Getenv, terminal)
}

// Load reads the settings through getenv; terminal says whether logs go to a terminal.
func Load(getenv func(string) string, terminal bool) (Config, error) {
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
	if c.DatabaseURL != "" && c.JWTSecret == "" && c.JWTJWKSURL == "" {
		r.fail("JWT_SECRET", "with DATABASE_URL set, tokens need a key: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256)")
	}
	if c.PersistedQueriesOnly && c.PersistedQueriesFile == "" {
		r.fail("PERSISTED_QUERIES_ONLY", "is true but PERSISTED_QUERIES_FILE is not set: name the manifest of the operations to accept")
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
