package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// The container files cannot be built by the tests (they need a Docker engine); these check
// the invariants a reviewer would otherwise check by hand, so a change cannot drop them
// unnoticed.

// The build stage's Go is go.mod's: the golang image does not download a newer toolchain
// (GOTOOLCHAIN=local), so a go.mod ahead of the Dockerfile would fail the image build.
func TestDockerfile_GoVersionIsGoMods(t *testing.T) {
	goMod := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readFile(t, "go.mod"))
	arg := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)$`).FindStringSubmatch(readFile(t, "Dockerfile"))
	if goMod == nil || arg == nil {
		t.Fatal("no `go` line in go.mod or no `ARG GO_VERSION=` in the Dockerfile")
	}
	if goMod[1] != arg[1] {
		t.Errorf("Dockerfile builds with Go %s, go.mod says %s: set ARG GO_VERSION=%s", arg[1], goMod[1], goMod[1])
	}
}

// Two stages: a static binary built in the first, run by a numeric non-root user in the last.
func TestDockerfile_StaticBinaryRunAsNonRoot(t *testing.T) {
	stages := regexp.MustCompile(`(?m)^FROM `).Split(readFile(t, "Dockerfile"), -1)[1:]
	if len(stages) < 2 {
		t.Fatalf("%d stage(s): want a build stage and a small final one", len(stages))
	}
	if !strings.Contains(stages[0], "CGO_ENABLED=0 go build") {
		t.Error("the build stage does not build with CGO_ENABLED=0: the final image has no C library")
	}
	user := regexp.MustCompile(`(?m)^USER (\d+)(:\d+)?$`).FindStringSubmatch(stages[len(stages)-1])
	if user == nil || user[1] == "0" {
		t.Error("the final stage has no numeric non-root USER")
	}
}

// The server connects as the login role that deploy/postgres/login-role.sh creates as a
// member of customer_service_app, not as the owner that migrates; it starts only after the
// migrations, which start only once PostgreSQL is healthy.
func TestCompose_ServerIsNotTheOwner(t *testing.T) {
	type service struct {
		Environment map[string]string
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		Healthcheck *struct{ Test []string }
	}
	var compose struct{ Services map[string]service }
	if err := yaml.Unmarshal([]byte(readFile(t, "docker-compose.yml")), &compose); err != nil {
		t.Fatal(err)
	}
	db, migrate, server := compose.Services["db"], compose.Services["migrate"], compose.Services["server"]
	urlUser := regexp.MustCompile(`^postgres://([^:@]+)`)
	userOf := func(url string) string {
		if m := urlUser.FindStringSubmatch(url); m != nil {
			return m[1]
		}
		return ""
	}
	owner := db.Environment["POSTGRES_USER"]
	if got := userOf(migrate.Environment["MIGRATE_DATABASE_URL"]); owner == "" || got != owner {
		t.Errorf("migrate connects as %q, want the owner %q", got, owner)
	}
	role := userOf(server.Environment["DATABASE_URL"])
	if role == "" || role == owner {
		t.Fatalf("server connects as %q: want a login role that is not the owner %q", role, owner)
	}
	script := readFile(t, "deploy/postgres/login-role.sh")
	if !regexp.MustCompile(`CREATE ROLE ` + role + ` LOGIN NOSUPERUSER NOBYPASSRLS[^;]*IN ROLE customer_service_app;`).MatchString(script) {
		t.Errorf("login-role.sh does not create %s as a LOGIN NOSUPERUSER NOBYPASSRLS member of customer_service_app", role)
	}
	if c := server.DependsOn["migrate"].Condition; c != "service_completed_successfully" {
		t.Errorf("server depends on migrate with %q, want service_completed_successfully", c)
	}
	if c := migrate.DependsOn["db"].Condition; c != "service_healthy" || db.Healthcheck == nil {
		t.Errorf("migrate depends on db with %q (want service_healthy), db healthcheck %v", c, db.Healthcheck)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
