package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/documents"
	"customerservice/internal/testkit/apitest"
	"customerservice/internal/testkit/testdb"
	"customerservice/models"
)

// §10 through the API: documents validated by their type's rule and stored canonical, a
// RUC's check digit apart; lookups and uniqueness by the canonical number, also against rows
// stored before the rule; dataQualityIssues lists the stored rows that break a rule.

const documentFields = `id documentType documentNumber documentCheckDigit dataQualityIssues`

type documentOut struct {
	ID                 string
	DocumentType       *string
	DocumentNumber     *string
	DocumentCheckDigit *string
	DataQualityIssues  []string
}

func createWithDocument(t *testing.T, c *apitest.Client, typ, number string) (documentOut, []userError) {
	t.Helper()
	var out struct {
		CreateCustomer struct {
			Customer   *documentOut
			UserErrors []userError
		}
	}
	c.Must(t, `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { `+documentFields+` } userErrors { field message code } } }`,
		map[string]any{"input": with(ana(), "documentType", typ, "documentNumber", number)}, &out)
	if out.CreateCustomer.Customer == nil {
		return documentOut{}, out.CreateCustomer.UserErrors
	}
	return *out.CreateCustomer.Customer, out.CreateCustomer.UserErrors
}

// Every bad input §10 names is INVALID on documentNumber, and nothing is stored.
func TestDocuments_CreateRefusesWhatTheRulesDoNotRead(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	for _, tc := range []struct{ typ, number string }{
		{"CEDULA", "1-2-3-4"}, {"CEDULA", "14-1-1"}, {"CEDULA", "HELLO"}, {"CEDULA", "HELLO-WORLD"},
		{"CEDULA", "8-12345-1"}, {"CEDULA", "8-1-1234567"}, {"RUC", "XYZ"}, {"RUC", "253-92-57027 DV 23"},
		{"RUC", "12345678901-1-1"}, {"PASSPORT", "A123"}, {"PASSPORT", strings.Repeat("A", 21)}, {"PASSPORT", "AB-12345"},
		{"OTHER", strings.Repeat("9", 51)}, {"OTHER", "A\u0007B"},
	} {
		got, errs := createWithDocument(t, c, tc.typ, tc.number)
		if got.ID != "" || len(errs) != 1 || errs[0].Code != "INVALID" || strings.Join(errs[0].Field, ".") != "input.documentNumber" {
			t.Errorf("%s %q: customer %+v, user errors %+v; want one INVALID on input.documentNumber", tc.typ, tc.number, got, errs)
		}
	}
	var n int
	if err := srv.Owner.NewRaw("SELECT count(*) FROM customers WHERE organization_id = ?", c.Org).Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("stored %d customers (%v), want none", n, err)
	}
}

// Valid numbers are stored canonical, a RUC's check digit in its own field, and have no issue.
func TestDocuments_CreateStoresCanonicalNumbers(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	for _, tc := range []struct{ typ, number, want, dv string }{
		{"CEDULA", "8-0123-004567", "8-123-4567", "<nil>"},
		{"CEDULA", " pe - 12 - 345 ", "PE-12-345", "<nil>"},
		{"RUC", "253-92-57027 DV 76", "253-92-57027", "76"},
		{"RUC", "155587169-2-2014 D.V. 9", "155587169-2-2014", "09"},
		{"RUC", "8-0001-000002", "8-1-2", "<nil>"},
		{"PASSPORT", " ab12345 ", "AB12345", "<nil>"},
		{"OTHER", " lic 99 ", "LIC 99", "<nil>"},
	} {
		got, errs := createWithDocument(t, c, tc.typ, tc.number)
		if len(errs) != 0 || got.DocumentNumber == nil || *got.DocumentNumber != tc.want || len(got.DataQualityIssues) != 0 {
			t.Errorf("%s %q: %+v %+v; want %s", tc.typ, tc.number, got, errs, tc.want)
			continue
		}
		if dv := deref(got.DocumentCheckDigit); dv != tc.dv {
			t.Errorf("%s %q: check digit %q, want %q", tc.typ, tc.number, dv, tc.dv)
		}
	}
}

// customerByDocument finds a customer by any spelling of its number, also one stored before
// the rule in another spelling; uniqueness compares canonical numbers, also against those.
func TestDocuments_LookupAndUniquenessUseTheCanonicalNumber(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	cedula, _ := createWithDocument(t, c, "CEDULA", "8-123-4567")
	ruc, _ := createWithDocument(t, c, "RUC", "253-92-57027 DV 76")
	legacy := uuid.New()
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, document_type, document_number)
		VALUES (?, ?, 'Old', 'Row', 'cedula', '4-0020-000300')`, legacy, c.Org)

	lookup := func(typ, number string) string {
		t.Helper()
		var out struct{ CustomerByDocument *struct{ ID string } }
		c.Must(t, `query($t: DocumentType!, $n: String!) { customerByDocument(documentType: $t, documentNumber: $n) { id } }`,
			map[string]any{"t": typ, "n": number}, &out)
		if out.CustomerByDocument == nil {
			return ""
		}
		return out.CustomerByDocument.ID
	}
	for _, tc := range []struct{ typ, number, want string }{
		{"CEDULA", "8-123-4567", cedula.ID},
		{"CEDULA", "8-0123-004567", cedula.ID},
		{"CEDULA", " 8 - 123 - 4567 ", cedula.ID},
		{"RUC", "8-123-4567", ""}, // another type
		{"RUC", "253-92-57027", ruc.ID},
		{"RUC", "0253-092-057027 dv 76", ruc.ID},
		{"RUC", "253-92-57027 DV 23", ""}, // a wrong DV is not the document: compared as given
		{"CEDULA", "4-20-300", legacy.String()},
		{"CEDULA", "4-0020-000300", legacy.String()},
		{"CEDULA", "8-123-4568", ""},
	} {
		if got := lookup(tc.typ, tc.number); got != tc.want {
			t.Errorf("customerByDocument(%s, %q) = %q, want %q", tc.typ, tc.number, got, tc.want)
		}
	}

	for _, tc := range []struct{ typ, number string }{
		{"CEDULA", "8-0123-004567"}, {"RUC", "253-92-57027"}, {"RUC", "253-092-57027 DV 76"}, {"CEDULA", "4-20-300"},
	} {
		got, errs := createWithDocument(t, c, tc.typ, tc.number)
		if got.ID != "" || len(errs) != 1 || errs[0].Code != "TAKEN" || strings.Join(errs[0].Field, ".") != "input.documentNumber" {
			t.Errorf("%s %q: %+v %+v; want TAKEN on input.documentNumber", tc.typ, tc.number, got, errs)
		}
	}
	// The old row itself may be saved again: it is re-stored canonical.
	r := updateCustomer(t, c, legacy.String(), map[string]any{"documentType": "CEDULA"})
	if len(r.UserErrors) != 0 || deref(r.Customer.DocumentNumber) != "4-20-300" {
		t.Fatalf("re-saving the old row: %+v", r)
	}
}

// The stored rows that break a rule of today are listed by kind, newest first, each with its
// kinds; a fix takes a row off the list; no row was rewritten by the migration.
func TestDataQualityIssues_ListsStoredRowsThatBreakARule(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	c := srv.NewOrg(t, auth.Agent)
	insert := func(docType, docNumber, email any, created string) string {
		id := uuid.New()
		mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, document_type, document_number, email, created_at)
			VALUES (?, ?, 'Old', 'Row', ?, ?, ?, ?::timestamptz)`, id, c.Org, docType, docNumber, email, created)
		return id.String()
	}
	hello := insert("cedula", "HELLO-WORLD", nil, "2026-01-01T00:00:00Z")
	xyz := insert("ruc", "XYZ", "no-at-sign", "2026-01-02T00:00:00Z")
	zeros := insert("cedula", "8-0123-004567", nil, "2026-01-03T00:00:00Z")
	badEmail := insert(nil, nil, "ana@localhost", "2026-01-04T00:00:00Z")
	insert("cedula", "8-1-1", "ana@example.com", "2026-01-05T00:00:00Z")
	insert("passport", "AB12345", nil, "2026-01-06T00:00:00Z")
	insert("other", "LIC 99", nil, "2026-01-07T00:00:00Z")
	mustCreateCustomer(t, c, with(ana(), "documentType", "RUC", "documentNumber", "253-92-57027 DV 76"))

	type page struct {
		DataQualityIssues struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   documentOut
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	list := func(kind any, first int, after any) page {
		t.Helper()
		var out page
		c.Must(t, `query($kind: DataQualityIssueKind, $first: Int, $after: String) {
			dataQualityIssues(kind: $kind, first: $first, after: $after) { totalCount edges { cursor node { `+documentFields+` } } pageInfo { hasNextPage } } }`,
			map[string]any{"kind": kind, "first": first, "after": after}, &out)
		return out
	}
	ids := func(p page) []string {
		var out []string
		for _, e := range p.DataQualityIssues.Edges {
			out = append(out, e.Node.ID+":"+strings.Join(e.Node.DataQualityIssues, ","))
		}
		return out
	}
	for _, tc := range []struct {
		kind any
		want []string
	}{
		{nil, []string{badEmail + ":EMAIL", zeros + ":DOCUMENT", xyz + ":DOCUMENT,EMAIL", hello + ":DOCUMENT"}},
		{"DOCUMENT", []string{zeros + ":DOCUMENT", xyz + ":DOCUMENT,EMAIL", hello + ":DOCUMENT"}},
		{"EMAIL", []string{badEmail + ":EMAIL", xyz + ":DOCUMENT,EMAIL"}},
		{"PHONE", nil},
	} {
		p := list(tc.kind, 100, nil)
		if got := ids(p); strings.Join(got, " ") != strings.Join(tc.want, " ") || p.DataQualityIssues.TotalCount != len(tc.want) {
			t.Errorf("kind %v: %v (total %d), want %v", tc.kind, got, p.DataQualityIssues.TotalCount, tc.want)
		}
	}
	// Keyset pages.
	first := list(nil, 3, nil)
	second := list(nil, 3, first.DataQualityIssues.Edges[2].Cursor)
	if !first.DataQualityIssues.PageInfo.HasNextPage || strings.Join(ids(second), " ") != hello+":DOCUMENT" || second.DataQualityIssues.PageInfo.HasNextPage {
		t.Fatalf("pages: %v then %v", ids(first), ids(second))
	}
	// No stored row was rewritten.
	var stored string
	if err := srv.Owner.NewRaw("SELECT document_number FROM customers WHERE customer_id = ?", zeros).Scan(context.Background(), &stored); err != nil || stored != "8-0123-004567" {
		t.Fatalf("stored %q (%v)", stored, err)
	}
	// A fix takes the row off the list.
	ok(t, updateCustomer(t, c, zeros, map[string]any{"documentNumber": "8-0123-004567"}))
	ok(t, updateCustomer(t, c, badEmail, map[string]any{"email": "ana@example.org"}))
	if got := ids(list(nil, 100, nil)); strings.Join(got, " ") != xyz+":DOCUMENT,EMAIL "+hello+":DOCUMENT" {
		t.Fatalf("after the fixes: %v", got)
	}
	// A bad page size is BAD_USER_INPUT.
	if code := c.Do(t, `{ dataQualityIssues(first: 101) { totalCount } }`, nil).ErrorCode(t); code != "BAD_USER_INPUT" {
		t.Fatalf("first: 101: %s", code)
	}
}

// explainAsApp is the plan of sql as the server's role runs it, under row-level security
// with org set, sequential scans discouraged (the test tables are small).
func explainAsApp(t *testing.T, srv *apitest.Server, org uuid.UUID, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	err := srv.App.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if testdb.OnCitus() {
			if _, err := tx.ExecContext(ctx, "SET LOCAL citus.propagate_set_commands = 'local'"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SELECT set_config('app.current_organization_id', ?, true)", org.String()); err != nil {
			return err
		}
		// The parameters as literals, the last first ($1 would match $10).
		for i := len(args); i >= 1; i-- {
			sql = strings.ReplaceAll(sql, "$"+strconv.Itoa(i), "'"+fmt.Sprint(args[i-1])+"'")
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN "+sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// Each kind's page is read through its partial index of broken rows, also under the server's
// role and row-level security: never a scan of the organization's rows.
func TestDataQualityIssues_ReadsThePartialIndexes(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	for kind, index := range map[string]string{
		"app_document_issue(c.document_type, c.document_number)": "customers_document_issue_idx",
		"app_email_issue(c.email)":                               "customers_email_issue_idx",
		"app_phone_issue(c.phone)":                               "customers_phone_issue_idx",
		"(app_document_issue(c.document_type, c.document_number) OR app_email_issue(c.email) OR app_phone_issue(c.phone))": "customers_data_issue_idx",
	} {
		plan := explainAsApp(t, srv, org, `SELECT c.customer_id FROM customers AS c WHERE c.organization_id = '`+org.String()+`'::uuid AND `+kind+`
			ORDER BY c.created_at DESC, c.customer_id DESC LIMIT 21`)
		if !strings.Contains(plan, index) {
			t.Errorf("%s does not use %s:\n%s", kind, index, plan)
		}
	}
}

// A lookup by document is an index condition on the canonical number under row-level
// security too (app_document_canonical is LEAKPROOF), not a filter over the organization.
func TestDocuments_LookupReadsTheCanonicalIndex(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	org := uuid.New()
	plan := explainAsApp(t, srv, org, `SELECT c.customer_id FROM customers AS c WHERE c.organization_id = '`+org.String()+`'::uuid
		AND c.document_type = 'cedula' AND app_document_canonical(c.document_type, c.document_number) = '8-1-1'`)
	if !strings.Contains(plan, "customers_document_canonical_idx") || !regexp.MustCompile(`Index Cond: .*app_document_canonical`).MatchString(plan) {
		t.Fatalf("the lookup does not read the canonical index:\n%s", plan)
	}
}

// The database's canonical number (the index that lookups read) is the one package
// documents computes, and a canonical number has no issue while a refused one has.
func TestDocuments_SQLCanonicalMatchesGo(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	ctx := context.Background()
	inputs := map[models.DocumentType][]string{
		models.DocumentTypeCedula:   {"8-123-4567", "8-0123-004567", " pe - 12 - 345 ", "1av-0-0", "13PI-0001-000001", "E-8-12345", "N-19-1", "HELLO", "1-2-3-4", "14-1-1", "8-1-1 DV 12"},
		models.DocumentTypeRUC:      {"253-92-57027 DV 76", "0000000253-0092-057027DV76", "155587169-2-2014 D.V. 9", "8-0001-2", "8-1-2 dv 5", "XYZ", "12345678901-1-1", "253-92-57027 DV 761"},
		models.DocumentTypePassport: {" ab12345 ", "A1234", "A123", "AB-12345"},
		models.DocumentTypeOther:    {" lic 99 ", "x", strings.Repeat("9", 51)},
	}
	for typ, raws := range inputs {
		for _, raw := range raws {
			var canonical string
			var issueRaw, issueCanonical bool
			err := srv.Owner.NewRaw(`SELECT app_document_canonical(?0, ?1), app_document_issue(?0, ?1), app_document_issue(?0, app_document_canonical(?0, ?1))`,
				string(typ), raw).Scan(ctx, &canonical, &issueRaw, &issueCanonical)
			if err != nil {
				t.Fatal(err)
			}
			d, perr := documents.Parse(typ, raw)
			switch {
			case perr == nil && (canonical != d.Number || issueCanonical || issueRaw != (raw != d.Number)):
				t.Errorf("%s %q: SQL canonical %q (issue %v, raw issue %v), Go %q", typ, raw, canonical, issueCanonical, issueRaw, d.Number)
			case perr != nil && typ != models.DocumentTypeRUC && !issueCanonical:
				t.Errorf("%s %q: refused by Go, no issue in SQL (canonical %q)", typ, raw, canonical)
			}
		}
	}
}

// §7: another organization's broken rows are not in its dataQualityIssues, and its
// customers are not found by any spelling of their documents.
func TestIsolation_DataQualityIssuesAndDocumentLookups(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	owner := srv.NewOrg(t, auth.Viewer)
	other := srv.NewOrg(t, auth.Viewer)
	id := uuid.New()
	mustExec(t, srv, `INSERT INTO customers (customer_id, organization_id, first_name, last_name, document_type, document_number, email)
		VALUES (?, ?, 'Old', 'Row', 'cedula', '8-0123-004567', 'no-at-sign')`, id, owner.Org)
	const q = `{ issues: dataQualityIssues { totalCount nodes { id } }
		docs: dataQualityIssues(kind: DOCUMENT) { totalCount }
		emails: dataQualityIssues(kind: EMAIL) { totalCount }
		canonical: customerByDocument(documentType: CEDULA, documentNumber: "8-123-4567") { id }
		stored: customerByDocument(documentType: CEDULA, documentNumber: "8-0123-004567") { id } }`
	type out struct {
		Issues struct {
			TotalCount int
			Nodes      []struct{ ID string }
		}
		Docs, Emails      struct{ TotalCount int }
		Canonical, Stored *struct{ ID string }
	}
	var mine, theirs out
	owner.Must(t, q, nil, &mine)
	if mine.Issues.TotalCount != 1 || len(mine.Issues.Nodes) != 1 || mine.Issues.Nodes[0].ID != id.String() || mine.Docs.TotalCount != 1 ||
		mine.Emails.TotalCount != 1 || mine.Canonical == nil || mine.Stored == nil {
		t.Fatalf("the owner: %+v", mine)
	}
	other.Must(t, q, nil, &theirs)
	if theirs.Issues.TotalCount != 0 || len(theirs.Issues.Nodes) != 0 || theirs.Docs.TotalCount != 0 || theirs.Emails.TotalCount != 0 ||
		theirs.Canonical != nil || theirs.Stored != nil {
		t.Fatalf("another organization sees: %+v", theirs)
	}
}
