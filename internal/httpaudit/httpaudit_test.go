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
	Status     string `json:"status"` // ok, error (a MUST), warn (a SHOULD), notice (a MAY)
	Reason     string `json:"reason"`
	HTTPStatus int    `json:"httpStatus"`
	Body       string `json:"body"`
}

// The server meets every MUST of the GraphQL-over-HTTP spec, as graphql-http audits it
// over real HTTP with a valid token. The SHOULDs it does not follow are listed in
// docs/decisions-hardening.md; this test logs them.
func TestGraphQLOverHTTP_PassesEveryMUSTAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join("node_modules", "graphql-http")); err != nil || statErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node or node_modules/graphql-http is missing: run `npm ci` in internal/httpaudit")
		}
		t.Skip("needs node and `npm ci` in internal/httpaudit")
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
	for _, r := range results {
		level, _, _ := strings.Cut(r.Name, " ")
		if counts[level] == nil {
			counts[level] = map[string]int{}
		}
		counts[level][r.Status]++
		switch r.Status {
		case "error":
			t.Errorf("MUST not met: %s (%s): %s — HTTP %d %s", r.Name, r.ID, r.Reason, r.HTTPStatus, r.Body)
		case "warn", "notice":
			t.Logf("%s not followed: %s (%s): %s", level, r.Name, r.ID, r.Reason)
		}
	}
	t.Logf("audits: %d; MUST %v, SHOULD %v, MAY %v", len(results), counts["MUST"], counts["SHOULD"], counts["MAY"])
	if counts["MUST"]["ok"] < 10 {
		t.Fatalf("only %d MUST audits passed: did the audits run?", counts["MUST"]["ok"])
	}
}
