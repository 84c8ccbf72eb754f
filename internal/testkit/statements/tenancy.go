package statements

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"customerservice/db"
)

// TenantTables are the tables and views that hold one organization's rows
// (docs/decisions-tenancy-keys.md). Not here, and so not checked: job_runs (global, one row
// per job run over every organization), organizations (the registry of every organization,
// keyed by its id), bun_migrations and bun_migration_locks (the
// migrator's bookkeeping) and the catalogs.
var TenantTables = []string{
	"customers", "addresses", "loyalty_programs", "loyalty_accounts", "loyalty_transactions", "loyalty_tier_changes", "loyalty_qualifying_days",
	"purchases", "purchase_refunds", "credit_accounts", "credit_usage", "credit_payments", "credit_policies", "credit_allocations", "credit_limit_changes",
	"customer_segments", "customer_counts", "audit_log", "job_run_results", "v_customer_360", "privacy_requests", "privacy_settings",
	"saved_segments", "customer_consents", "customer_merges",
}

// tableRef is a tenant table after FROM, JOIN, UPDATE or INTO, with its alias if it has one.
var tableRef = regexp.MustCompile(`(?i)\b(from|join|update|into)\s+(` + strings.Join(TenantTables, "|") +
	`)\b(?:\s+(?:as\s+)?([a-z_][a-z0-9_]*))?`)

// notAlias are the words that may follow a table name without being its alias.
var notAlias = []string{"where", "on", "using", "set", "join", "left", "right", "inner", "full", "cross",
	"natural", "group", "order", "limit", "offset", "for", "union", "except", "intersect", "returning",
	"values", "select", "default", "window", "having", "fetch", "lateral", "do", "overriding"}

// MissingOrganization reports why sql, a statement the service sends, does not name its
// organization, or "" when it does. Every reference to a tenant table must: for a table
// read, updated or deleted from, its alias (or its name) qualifies organization_id
// somewhere in the statement (`c.organization_id = $1`, a join on `x.organization_id =
// c.organization_id`); for a table inserted into, organization_id is one of the statement's
// columns. Statements on no tenant table (transaction control, set_config, global tables,
// the catalogs) pass.
func MissingOrganization(sql string) string {
	text := strings.ToLower(strings.ReplaceAll(sql, `"`, ""))
	var missing []string
	for _, m := range tableRef.FindAllStringSubmatch(text, -1) {
		verb, table, alias := m[1], m[2], m[3]
		if slices.Contains(notAlias, alias) {
			alias = ""
		}
		switch {
		case verb == "into":
			if strings.Contains(text, "organization_id") {
				continue
			}
		case alias != "":
			if regexp.MustCompile(`(^|[^a-z0-9_])` + alias + `\.organization_id\b`).MatchString(text) {
				continue
			}
		default:
			if strings.Contains(text, "organization_id") {
				continue
			}
		}
		ref := table
		if alias != "" {
			ref += " " + alias
		}
		missing = append(missing, ref)
	}
	if len(missing) == 0 {
		return ""
	}
	return "no organization_id for " + strings.Join(missing, ", ")
}

// Tenancy is a pgx tracer that records every statement sent without its organization
// (MissingOrganization): the test harness puts it on the server's pools and fails a test
// whose requests sent one. The zero value is ready.
type Tenancy struct {
	mu   sync.Mutex
	bad  []string
	seen map[string]bool
}

func (t *Tenancy) sent(query string) {
	for _, sql := range db.SplitStatements(query) { // each of db.Later's, on its own
		t.check(sql)
	}
}

func (t *Tenancy) check(sql string) {
	why := MissingOrganization(sql)
	if why == "" && nilOrganization.MatchString(strings.ReplaceAll(sql, `"`, "")) {
		// db.Org outside db.InOrg is the nil uuid: the statement names an organization that
		// matches nothing, silently.
		why = "the organization is the nil uuid (db.Org outside db.InOrg?)"
	}
	if why == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	if !t.seen[sql] {
		t.seen[sql] = true
		t.bad = append(t.bad, why+": "+sql)
	}
}

// Missing is every distinct statement sent so far without its organization, with why.
func (t *Tenancy) Missing() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.bad)
}

// TraceQueryStart checks a statement sent on its own.
func (t *Tenancy) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.sent(d.SQL)
	return ctx
}

// TraceQueryEnd does nothing.
func (t *Tenancy) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart does nothing: the batch's statements are checked one by one.
func (t *Tenancy) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery checks a statement of a pipeline.
func (t *Tenancy) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.sent(d.SQL)
}

// TraceBatchEnd does nothing.
func (t *Tenancy) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// nilOrganization is a comparison of organization_id with the nil uuid, as bun writes it
// into a statement's text (what the caller's organization is compared with is a bind
// parameter elsewhere, never nil: db.ReadInOrg refuses it).
var nilOrganization = regexp.MustCompile(`organization_id\s*=\s*'00000000-0000-0000-0000-000000000000'`)
