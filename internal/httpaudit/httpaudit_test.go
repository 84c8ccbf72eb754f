package httpaudit_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type auditResult struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"` // ok, or not met: error (a MUST), warn (a SHOULD), notice (a MAY)
	Reason     string `json:"reason"`
	HTTPStatus int    `json:"httpStatus"`
	Body       string `json:"body"`
}

// The server passes every audit of graphql-http — MUST, SHOULD and MAY — over real HTTP
// with a valid token.
func TestGraphQLOverHTTP_PassesEveryAudit(t *testing.T) {
	// Missing tools fail the test rather than skip it: scripts/test, the README's test
	// command, installs them.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run the tests with scripts/test, which installs it (or install Node.js 18+ and run `npm ci` in internal/httpaudit)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "graphql-http")); err != nil {
		t.Fatal("node_modules/graphql-http is missing: run the tests with scripts/test, which installs it (or run `npm ci` in internal/httpaudit)")
	}
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Viewer)

	out, err := exec.Command(node, "audit.mjs", srv.URL+"/graphql", c.Token).Output()
	if err != nil {
		t.Fatalf("audit.mjs: %v\n%s", err, out)
	}
	var results []auditResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("audit output: %v\n%s", err, out)
	}
	counts := map[string]map[string]int{}
	passed := 0
	for _, r := range results {
		level, _, _ := strings.Cut(r.Name, " ")
		if counts[level] == nil {
			counts[level] = map[string]int{}
		}
		counts[level][r.Status]++
		if r.Status == "ok" {
			passed++
		} else {
			t.Errorf("%s not met (%s): %s (%s): %s — HTTP %d %s", level, r.Status, r.Name, r.ID, r.Reason, r.HTTPStatus, r.Body)
		}
	}
	t.Logf("audits: %d/%d passed; MUST %v, SHOULD %v, MAY %v", passed, len(results), counts["MUST"], counts["SHOULD"], counts["MAY"])
	// graphql-http 1.23.1 has 61 audits: a different count means a different version ran.
	if passed != 61 || len(results) != 61 {
		t.Fatalf("%d of %d audits passed, want 61 of 61", passed, len(results))
	}
}
