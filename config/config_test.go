package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

const secret = "0123456789abcdef0123456789abcdef"

func TestLoad_DefaultsAreTheEmbeddedDevelopmentSetup(t *testing.T) {
	got, err := LoadFor("serve", env(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Port:           8080,
		LogLevel:       zerolog.InfoLevel,
		LogFormat:      "json",
		DBMaxConns:     20,
		RequestTimeout: 10 * time.Second,

		DBPreparedStatements: true,
		MaxBodyBytes:         1 << 20,
		Introspection:        true,
		DataDir:              ".data",
		EmbeddedPGPort:       54329,
		MaxComplexity:        50_000,
		MaxDepth:             10,
		MaxAliases:           30,

		MetricsMaxOperations:  100,
		RateLimitOrgRPS:       200,
		RateLimitOrgBurst:     400,
		RateLimitSubjectRPS:   50,
		RateLimitSubjectBurst: 100,

		JobsEnabled:    true,
		JobsDailyAt:    3 * time.Hour,
		JobsStaleAfter: 5 * time.Minute,

		SubscriptionsPerConnection:   20,
		SubscriptionsPerOrganization: 1000,
		SubscriptionQueueSize:        256,
		SubscriptionIdleTimeout:      5 * time.Minute,
		SubscriptionPingInterval:     25 * time.Second,
		SubscriptionDBConnections:    3,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if !got.Embedded() {
		t.Fatal("no DATABASE_URL must mean the embedded database")
	}
}

func TestLoad_LogFormatDefaultsToConsoleOnATerminal(t *testing.T) {
	got, err := LoadFor("serve", env(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	if got.LogFormat != "console" {
		t.Fatalf("LogFormat = %q, want console", got.LogFormat)
	}
}

func TestLoad_ReadsEverySetting(t *testing.T) {
	got, err := LoadFor("serve", env(map[string]string{
		"DATABASE_URL":           "postgres://app:pw@db:5432/cs",
		"MIGRATE_DATABASE_URL":   "postgres://owner:pw@db:5432/cs",
		"DATABASE_REPLICA_URL":   "postgres://app:pw@db-replica:5432/cs",
		"DB_PREPARED_STATEMENTS": "false",
		"PORT":                   "9090",
		"LOG_LEVEL":              "DEBUG",
		"LOG_FORMAT":             "console",
		"JWT_SECRET":             secret,
		"JWT_JWKS_URL":           "https://id.example.com/.well-known/jwks.json",
		"JWT_ISSUER":             "https://id.example.com/",
		"JWT_AUDIENCE":           "customer-service",
		"DB_MAX_CONNS":           "50",
		"REQUEST_TIMEOUT":        "2s",
		"MAX_BODY_BYTES":         "65536",
		"INTROSPECTION":          "false",
		"DATA_DIR":               "/var/lib/cs",
		"EMBEDDED_PG_PORT":       "6000",

		"MAX_COMPLEXITY":              "20000",
		"MAX_DEPTH":                   "8",
		"MAX_ALIASES":                 "5",
		"PERSISTED_QUERIES_FILE":      "/etc/cs/operations.json",
		"PERSISTED_QUERIES_ONLY":      "true",
		"RATE_LIMIT_ORG_RPS":          "0",
		"RATE_LIMIT_ORG_BURST":        "10",
		"RATE_LIMIT_SUBJECT_RPS":      "2.5",
		"RATE_LIMIT_SUBJECT_BURST":    "5",
		"JOBS_ENABLED":                "false",
		"JOBS_DAILY_AT":               "23:45",
		"JOBS_STALE_AFTER":            "90s",
		"METRICS_ADDR":                "127.0.0.1:9091",
		"METRICS_MAX_OPERATIONS":      "20",
		"PPROF_ADDR":                  "127.0.0.1:6060",
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",

		"SUBSCRIPTIONS_PER_CONNECTION":   "5",
		"SUBSCRIPTIONS_PER_ORGANIZATION": "50",
		"SUBSCRIPTION_QUEUE_SIZE":        "16",
		"SUBSCRIPTION_IDLE_TIMEOUT":      "1m",
		"SUBSCRIPTION_PING_INTERVAL":     "10s",
		"SUBSCRIPTION_DB_CONNECTIONS":    "5",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DatabaseURL:        "postgres://app:pw@db:5432/cs",
		MigrateDatabaseURL: "postgres://owner:pw@db:5432/cs",
		DatabaseReplicaURL: "postgres://app:pw@db-replica:5432/cs",
		Port:               9090,
		LogLevel:           zerolog.DebugLevel,
		LogFormat:          "console",
		JWTSecret:          secret,
		JWTJWKSURL:         "https://id.example.com/.well-known/jwks.json",
		JWTIssuer:          "https://id.example.com/",
		JWTAudience:        "customer-service",
		DBMaxConns:         50,
		RequestTimeout:     2 * time.Second,
		MaxBodyBytes:       65536,
		Introspection:      false,
		DataDir:            "/var/lib/cs",
		EmbeddedPGPort:     6000,

		MaxComplexity:         20000,
		MaxDepth:              8,
		MaxAliases:            5,
		PersistedQueriesFile:  "/etc/cs/operations.json",
		PersistedQueriesOnly:  true,
		RateLimitOrgRPS:       0,
		RateLimitOrgBurst:     10,
		RateLimitSubjectRPS:   2.5,
		RateLimitSubjectBurst: 5,
		JobsEnabled:           false,
		JobsDailyAt:           23*time.Hour + 45*time.Minute,
		JobsStaleAfter:        90 * time.Second,
		MetricsAddr:           "127.0.0.1:9091",
		MetricsMaxOperations:  20,
		PprofAddr:             "127.0.0.1:6060",
		TracesProtocol:        "grpc",

		SubscriptionsPerConnection:   5,
		SubscriptionsPerOrganization: 50,
		SubscriptionQueueSize:        16,
		SubscriptionIdleTimeout:      time.Minute,
		SubscriptionPingInterval:     10 * time.Second,
		SubscriptionDBConnections:    5,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
}

// Tracing follows the standard OpenTelemetry variables: off unless they name an exporter.
func TestLoad_TracingIsOnOnlyWhenTheOTELVariablesNameAnExporter(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string // TracesProtocol; "" is off
	}{
		{"no variable", nil, ""},
		{"only a service name", map[string]string{"OTEL_SERVICE_NAME": "cs"}, ""},
		{"an endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http/protobuf"},
		{"a traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector/v1/traces"}, "http/protobuf"},
		{"the otlp exporter", map[string]string{"OTEL_TRACES_EXPORTER": "OTLP"}, "http/protobuf"},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "grpc"},
		{"the traces protocol first", map[string]string{"OTEL_TRACES_EXPORTER": "otlp",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "http/protobuf"},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ""},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadFor("serve", env(tt.env), false)
			if err != nil {
				t.Fatal(err)
			}
			if got.TracesProtocol != tt.want || got.Tracing() != (tt.want != "") {
				t.Fatalf("TracesProtocol = %q, Tracing() = %v; want %q", got.TracesProtocol, got.Tracing(), tt.want)
			}
		})
	}
}

func TestLoad_MigrateDatabaseURLDefaultsToDatabaseURL(t *testing.T) {
	got, err := LoadFor("serve", env(map[string]string{"DATABASE_URL": "postgres://u:p@h/db", "JWT_SECRET": secret}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got.MigrateDatabaseURL != "postgres://u:p@h/db" {
		t.Fatalf("MigrateDatabaseURL = %q", got.MigrateDatabaseURL)
	}
}

func TestLoad_RejectsInvalidSettingsNamingTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []Problem
	}{
		{"port not a number", map[string]string{"PORT": "http"},
			[]Problem{{"PORT", `"http" is not a whole number from 1 to 65535`}}},
		{"port out of range", map[string]string{"PORT": "70000"},
			[]Problem{{"PORT", `"70000" is not a whole number from 1 to 65535`}}},
		{"unknown log level", map[string]string{"LOG_LEVEL": "verbose"},
			[]Problem{{"LOG_LEVEL", `"verbose" is not one of debug, info, warn, error`}}},
		{"unknown log format", map[string]string{"LOG_FORMAT": "xml"},
			[]Problem{{"LOG_FORMAT", `"xml" is not one of json, console`}}},
		{"short JWT secret", map[string]string{"JWT_SECRET": "short"},
			[]Problem{{"JWT_SECRET", "is too short (5 bytes): use at least 32 random bytes (e.g. `openssl rand -hex 32`)"}}},
		{"JWKS URL not http", map[string]string{"JWT_JWKS_URL": "file:///etc/keys.json"},
			[]Problem{{"JWT_JWKS_URL", "must be an http(s) URL of a JSON Web Key Set"}}},
		{"database URL without a key", map[string]string{"DATABASE_URL": "postgres://u:p@h/db"},
			[]Problem{{"JWT_SECRET", "with DATABASE_URL set, tokens need a key: set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256)"}}},
		{"database URL not a URL", map[string]string{"DATABASE_URL": "mysql://u:secret@h/db", "JWT_SECRET": secret},
			[]Problem{{"DATABASE_URL", "must be a PostgreSQL URL: postgres://user:password@host:5432/dbname?sslmode=…"}}},
		{"migrate URL not a URL", map[string]string{"MIGRATE_DATABASE_URL": "localhost"},
			[]Problem{{"MIGRATE_DATABASE_URL", "must be a PostgreSQL URL: postgres://user:password@host:5432/dbname?sslmode=…"}}},
		{"replica URL not a URL", map[string]string{"DATABASE_URL": "postgres://u:p@h/db", "JWT_SECRET": secret, "DATABASE_REPLICA_URL": "replica:5432"},
			[]Problem{{"DATABASE_REPLICA_URL", "must be a PostgreSQL URL: postgres://user:password@host:5432/dbname?sslmode=…"}}},
		{"replica without a primary", map[string]string{"DATABASE_REPLICA_URL": "postgres://u:p@replica/db"},
			[]Problem{{"DATABASE_REPLICA_URL", "is set but DATABASE_URL is not: a read replica goes with a primary of your own (the embedded PostgreSQL has none); set DATABASE_URL too, or unset DATABASE_REPLICA_URL"}}},
		{"prepared statements not a boolean", map[string]string{"DB_PREPARED_STATEMENTS": "pgbouncer"},
			[]Problem{{"DB_PREPARED_STATEMENTS", `"pgbouncer" is not true or false`}}},
		{"pool size zero", map[string]string{"DB_MAX_CONNS": "0"},
			[]Problem{{"DB_MAX_CONNS", `"0" is not a whole number from 1 to 1000`}}},
		{"subscriptions' pool of one (it listens on one, reads on the others)", map[string]string{"SUBSCRIPTION_DB_CONNECTIONS": "1"},
			[]Problem{{"SUBSCRIPTION_DB_CONNECTIONS", `"1" is not a whole number from 2 to 100`}}},
		{"subscriptions' pool too large", map[string]string{"SUBSCRIPTION_DB_CONNECTIONS": "101"},
			[]Problem{{"SUBSCRIPTION_DB_CONNECTIONS", `"101" is not a whole number from 2 to 100`}}},
		{"timeout without unit", map[string]string{"REQUEST_TIMEOUT": "10"},
			[]Problem{{"REQUEST_TIMEOUT", `"10" is not a positive duration such as 10s or 1m30s`}}},
		{"negative timeout", map[string]string{"REQUEST_TIMEOUT": "-1s"},
			[]Problem{{"REQUEST_TIMEOUT", `"-1s" is not a positive duration such as 10s or 1m30s`}}},
		{"body limit too small", map[string]string{"MAX_BODY_BYTES": "10"},
			[]Problem{{"MAX_BODY_BYTES", `"10" is not a whole number from 1024 to 1073741824`}}},
		{"introspection not a boolean", map[string]string{"INTROSPECTION": "maybe"},
			[]Problem{{"INTROSPECTION", `"maybe" is not true or false`}}},
		{"complexity limit too small", map[string]string{"MAX_COMPLEXITY": "10"},
			[]Problem{{"MAX_COMPLEXITY", `"10" is not a whole number from 100 to 10000000`}}},
		{"depth not a number", map[string]string{"MAX_DEPTH": "deep"},
			[]Problem{{"MAX_DEPTH", `"deep" is not a whole number from 2 to 100`}}},
		{"aliases zero", map[string]string{"MAX_ALIASES": "0"},
			[]Problem{{"MAX_ALIASES", `"0" is not a whole number from 1 to 10000`}}},
		{"persisted only without a manifest", map[string]string{"PERSISTED_QUERIES_ONLY": "true"},
			[]Problem{{"PERSISTED_QUERIES_ONLY", "is true but PERSISTED_QUERIES_FILE is not set: name the manifest of the operations to accept"}}},
		{"negative rate", map[string]string{"RATE_LIMIT_ORG_RPS": "-1"},
			[]Problem{{"RATE_LIMIT_ORG_RPS", `"-1" is not a number of requests a second from 0 (no limit) to 1000000`}}},
		{"rate not a number", map[string]string{"RATE_LIMIT_SUBJECT_RPS": "fast"},
			[]Problem{{"RATE_LIMIT_SUBJECT_RPS", `"fast" is not a number of requests a second from 0 (no limit) to 1000000`}}},
		{"burst zero", map[string]string{"RATE_LIMIT_SUBJECT_BURST": "0"},
			[]Problem{{"RATE_LIMIT_SUBJECT_BURST", `"0" is not a whole number from 1 to 1000000`}}},
		{"embedded port not a number", map[string]string{"EMBEDDED_PG_PORT": "pg"},
			[]Problem{{"EMBEDDED_PG_PORT", `"pg" is not a whole number from 1 to 65535`}}},
		{"jobs enabled not a boolean", map[string]string{"JOBS_ENABLED": "sometimes"},
			[]Problem{{"JOBS_ENABLED", `"sometimes" is not true or false`}}},
		{"jobs time not HH:MM", map[string]string{"JOBS_DAILY_AT": "3am"},
			[]Problem{{"JOBS_DAILY_AT", `"3am" is not a time of day HH:MM in UTC, such as 03:00 or 23:30`}}},
		{"jobs time out of range", map[string]string{"JOBS_DAILY_AT": "24:00"},
			[]Problem{{"JOBS_DAILY_AT", `"24:00" is not a time of day HH:MM in UTC, such as 03:00 or 23:30`}}},
		{"jobs stale timeout too short", map[string]string{"JOBS_STALE_AFTER": "5s"},
			[]Problem{{"JOBS_STALE_AFTER", `"5s" is too short: a run is taken over after this long without a heartbeat; use 30s or more (default 5m)`}}},
		{"metrics address without a port", map[string]string{"METRICS_ADDR": "localhost"},
			[]Problem{{"METRICS_ADDR", `"localhost" is not host:port or :port, such as 127.0.0.1:9090 or :9090`}}},
		{"metrics on the API port", map[string]string{"METRICS_ADDR": ":8080"},
			[]Problem{{"METRICS_ADDR", "port 8080 is PORT's: give /metrics another port, or leave METRICS_ADDR unset to serve it on PORT"}}},
		{"profiler on every interface", map[string]string{"PPROF_ADDR": ":6060"},
			[]Problem{{"PPROF_ADDR", `":6060" is not a loopback host:port other than PORT's, such as 127.0.0.1:6060 (the profiler is never public)`}}},
		{"profiler on a public address", map[string]string{"PPROF_ADDR": "10.0.0.5:6060"},
			[]Problem{{"PPROF_ADDR", `"10.0.0.5:6060" is not a loopback host:port other than PORT's, such as 127.0.0.1:6060 (the profiler is never public)`}}},
		{"profiler on the API port", map[string]string{"PPROF_ADDR": "127.0.0.1:8080"},
			[]Problem{{"PPROF_ADDR", `"127.0.0.1:8080" is not a loopback host:port other than PORT's, such as 127.0.0.1:6060 (the profiler is never public)`}}},
		{"metrics operations zero", map[string]string{"METRICS_MAX_OPERATIONS": "0"},
			[]Problem{{"METRICS_MAX_OPERATIONS", `"0" is not a whole number from 1 to 10000`}}},
		{"unsupported traces exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"},
			[]Problem{{"OTEL_TRACES_EXPORTER", `"zipkin" is not supported: use otlp, or none to turn tracing off`}}},
		{"unsupported OTLP protocol", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			[]Problem{{"OTEL_EXPORTER_OTLP_PROTOCOL", `"http/json" is not supported: use http/protobuf or grpc`}}},
		{"OTLP endpoint not a URL", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
			[]Problem{{"OTEL_EXPORTER_OTLP_ENDPOINT", `"collector:4318" is not an http(s) URL of an OTLP collector, such as http://localhost:4318`}}},
		{"SDK disabled not a boolean", map[string]string{"OTEL_SDK_DISABLED": "yes"},
			[]Problem{{"OTEL_SDK_DISABLED", `"yes" is not true or false`}}},
		{"every problem at once", map[string]string{"PORT": "0", "LOG_LEVEL": "loud", "JWT_SECRET": "x"},
			[]Problem{
				{"PORT", `"0" is not a whole number from 1 to 65535`},
				{"LOG_LEVEL", `"loud" is not one of debug, info, warn, error`},
				{"JWT_SECRET", "is too short (1 bytes): use at least 32 random bytes (e.g. `openssl rand -hex 32`)"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFor("serve", env(tt.env), false)
			var got Error
			if !errors.As(err, &got) {
				t.Fatalf("want a config.Error, got %v", err)
			}
			if !reflect.DeepEqual([]Problem(got), tt.want) {
				t.Fatalf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestError_MessageListsEachVariable(t *testing.T) {
	err := Error{{"PORT", "bad"}, {"JWT_SECRET", "short"}}
	want := "invalid configuration:\n  PORT: bad\n  JWT_SECRET: short"
	if err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}

func TestLoad_DatabaseURLWithJWKSNeedsNoSecret(t *testing.T) {
	_, err := LoadFor("serve", env(map[string]string{
		"DATABASE_URL": "postgresql://u:p@h/db", "JWT_JWKS_URL": "https://id.example.com/jwks.json",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
}

// A token key is needed to verify tokens, so by serve alone: migrate, seed, jobs and
// segments run on DATABASE_URL without JWT_SECRET (token checks JWT_SECRET itself).
func TestLoadFor_OnlyServeNeedsATokenKey(t *testing.T) {
	vars := env(map[string]string{"DATABASE_URL": "postgres://u:p@h/db"})
	for _, command := range []string{"migrate", "seed", "jobs", "segments", "token"} {
		if _, err := LoadFor(command, vars, false); err != nil {
			t.Errorf("%s: %v", command, err)
		}
	}
	if _, err := LoadFor("serve", vars, false); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("serve without a token key: %v, want the JWT_SECRET problem", err)
	}
	// What is given is still validated for every command.
	short := env(map[string]string{"DATABASE_URL": "postgres://u:p@h/db", "JWT_SECRET": "short"})
	if _, err := LoadFor("migrate", short, false); err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("migrate with a short JWT_SECRET: %v, want the JWT_SECRET problem", err)
	}
}
