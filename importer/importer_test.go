package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// sampleRejections is what the import of docs/import/customers.csv reports
// (docs/import/customers.rejected.txt, shown in the README).
var sampleRejections = func() []string {
	b, err := os.ReadFile("../docs/import/customers.rejected.txt")
	if err != nil {
		panic(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}()

// customerRow is what a test checks of a stored customer.
type customerRow struct {
	ExternalID, FirstName, LastName, Email string
	Phone, DocType, DocNumber, CheckDigit  *string
	Notes                                  *string
	Tags                                   []string
	Consent                                bool
}

func (e *env) customers(org uuid.UUID) []customerRow {
	e.t.Helper()
	var out []customerRow
	rows, err := e.owner.QueryContext(ctx(), `SELECT external_id, first_name, last_name, coalesce(email, ''), phone, document_type, document_number,
		document_check_digit, notes, array_to_string(tags, '|'), marketing_consent FROM customers WHERE organization_id = ? ORDER BY external_id`, org)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c customerRow
		var tags string
		if err := rows.Scan(&c.ExternalID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &c.DocType, &c.DocNumber,
			&c.CheckDigit, &c.Notes, &tags, &c.Consent); err != nil {
			e.t.Fatal(err)
		}
		if tags != "" {
			c.Tags = strings.Split(tags, "|")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func sp(s string) *string { return &s }

func show(rows []customerRow) string {
	var b strings.Builder
	d := func(p *string) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%q", *p)
	}
	for _, c := range rows {
		fmt.Fprintf(&b, "%s %s %s %s %s %s %s %s %s %v %v\n", c.ExternalID, c.FirstName, c.LastName, c.Email, d(c.Phone),
			d(c.DocType), d(c.DocNumber), d(c.CheckDigit), d(c.Notes), c.Tags, c.Consent)
	}
	return b.String()
}

// The sample file: the valid rows are stored as the API stores them (email lower-cased,
// phone in E.164, documents canonical, the RUC's check digit apart, the multi-line note
// kept), each rejected row is reported with its line and the API's code and message, the
// repeated externalId is not created twice, and each creation is audited with the
// import's actor. A re-run creates nothing, reports the same rejections and the created
// rows as already imported.
func TestImportCustomers_SampleFileByLineAndReRun(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	r := e.importCustomers(org, e.file("../docs/import/customers.csv"), 0)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := (Summary{Rows: 14, Created: 5, Existing: 1, Rejected: 8}); r.sum != want || r.progress != 14 {
		t.Errorf("summary %+v, progress %d; want %+v, 13", r.sum, r.progress, want)
	}
	if !slices.Equal(r.rejected, sampleRejections) {
		t.Errorf("rejected:\n%s\nwant:\n%s", strings.Join(r.rejected, "\n"), strings.Join(sampleRejections, "\n"))
	}
	want := []customerRow{
		{ExternalID: "shop-1001", FirstName: "Ana", LastName: "Pérez", Email: "ana.perez@example.com", Phone: sp("+50761234567"),
			DocType: sp("cedula"), DocNumber: sp("8-123-4567"), Tags: []string{"vip", "newsletter"}, Consent: true},
		{ExternalID: "shop-1002", FirstName: "Luis", LastName: "Gómez", Email: "luis@example.com", Phone: sp("+50762345678"),
			DocType: sp("cedula"), DocNumber: sp("8-456-789"), Notes: sp("Prefiere entregas\npor la tarde")},
		{ExternalID: "shop-1003", FirstName: "Comercial", LastName: "Istmo S.A.", Email: "compras@istmo.example",
			DocType: sp("ruc"), DocNumber: sp("155587169-2-2014"), CheckDigit: sp("09"), Tags: []string{"mayorista"}},
		{ExternalID: "shop-1012", FirstName: "Diego", LastName: "Morales", Email: "diego@example.com", Phone: sp("+50765556666"),
			DocType: sp("passport"), DocNumber: sp("AB123456"), Consent: true},
		{ExternalID: "shop-1013", FirstName: "Ana", LastName: "Perez", Email: "ana.p@example.org"},
	}
	if got := e.customers(org); show(got) != show(want) {
		t.Errorf("customers:\n%s\nwant:\n%s", show(got), show(want))
	}
	audits := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = ? AND action = 'customer.create' AND actor_id = ?`, org, e.actor)
	if audits != 5 {
		t.Errorf("%d customer.create audit rows of the actor; want 5", audits)
	}
	allAudits := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = ?`, org)

	r = e.importCustomers(org, e.file("../docs/import/customers.csv"), 0)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := (Summary{Rows: 14, Created: 0, Existing: 6, Rejected: 8}); r.sum != want {
		t.Errorf("re-run summary %+v; want %+v", r.sum, want)
	}
	if !slices.Equal(r.rejected, sampleRejections) {
		t.Errorf("re-run rejected:\n%s", strings.Join(r.rejected, "\n"))
	}
	if got := e.customers(org); show(got) != show(want) {
		t.Errorf("customers after the re-run:\n%s", show(got))
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = ?`, org); n != allAudits {
		t.Errorf("the re-run wrote %d audit rows; want none", n-allAudits)
	}
}

// The batch size changes the transactions, not the outcome: one row per batch, a batch
// boundary inside the file, and the whole file in one batch load and reject the same rows.
func TestImportCustomers_SameOutcomeWhateverTheBatchSize(t *testing.T) {
	e := newEnv(t)
	for _, batch := range []int{1, 3, 10000} {
		org := uuid.New()
		r := e.importCustomers(org, e.file("../docs/import/customers.csv"), batch)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if want := (Summary{Rows: 14, Created: 5, Existing: 1, Rejected: 8}); r.sum != want || !slices.Equal(r.rejected, sampleRejections) {
			t.Errorf("batch %d: %+v %v", batch, r.sum, r.rejected)
		}
		if n := e.count(`SELECT count(*) FROM customers WHERE organization_id = ?`, org); n != 5 {
			t.Errorf("batch %d: %d customers; want 5", batch, n)
		}
	}
}

const header = "externalId,firstName,lastName,email,notes\n"

// Malformed files: a header the import does not know refuses the file before any row; a
// malformed row (ragged, a stray or unterminated quote, text that is not UTF-8, a control
// character the API refuses) is rejected by its line and the rows around it load; a record
// larger than MaxRecordBytes stops the import, the batch it was in rolled back and the
// batches before it loaded.
func TestImportCustomers_MalformedHeaderLoadsNothing(t *testing.T) {
	e := newEnv(t)
	{
		for name, file := range map[string]string{
			"empty":           "",
			"unknown column":  "externalId,fristName,lastName\nx,A,B\n",
			"missing column":  "externalId,firstName\nx,A\n",
			"column twice":    "externalId,firstName,lastName,firstName\nx,A,B,C\n",
			"no header":       "x-1,Ana,Pérez\n",
			"quote in header": "externalId,\"firstName,lastName\nx,A,B\n",
		} {
			org := uuid.New()
			r := e.importCustomers(org, strings.NewReader(file), 0)
			if !errors.Is(r.err, ErrHeader) || r.sum != (Summary{}) {
				t.Errorf("%s: %+v, %v; want ErrHeader and nothing read", name, r.sum, r.err)
			}
			if n := e.count(`SELECT count(*) FROM customers WHERE organization_id = ?`, org); n != 0 {
				t.Errorf("%s: %d customers loaded", name, n)
			}
		}
	}
}

// Malformed rows (ragged, a stray or unterminated quote, text that is not UTF-8, a
// control character the API refuses, a field longer than the domain allows) are rejected
// by their line, and the rows around them load.
func TestImportCustomers_MalformedRowsRejectedByLine(t *testing.T) {
	e := newEnv(t)
	{
		org := uuid.New()
		file := "\uFEFF" + header + // a spreadsheet's byte order mark
			"r-1,Ana,Uno,,\n" +
			"r-2,Bad\xff,Dos,,\n" + // not UTF-8
			"r-3,Ana,Tr\x00es,,\n" + // NUL
			"r-4,Ana,Cuatro,,\"tab\there\r\nand lines\"\n" + // free text: tab and line breaks kept
			"r-5,Ana,Cinco,,bell\x07\n" + // a control character even in free text
			"r-6,Ana,Seis\n" + // ragged
			"r-7,Ana,Siete,,x,y\n" + // ragged
			"r-8,A\"na,Ocho,,\n" + // a stray quote
			"r-9," + strings.Repeat("N", 10000) + ",Nueve,,\n" + // a long field: the domain's length rule
			"\"r-10\",\"Ana\",\"Diez\",\"\",\"\"\n" +
			"r-11,\x01Ana,Once,,\n" + // a control character in a trimmed field
			"r-12,Ana,\"Doce,,\n" // an unterminated quote to the end of the file
		r := e.importCustomers(org, strings.NewReader(file), 4)
		if r.err != nil {
			t.Fatal(r.err)
		}
		want := []string{
			"line 3: firstName: INVALID: not valid UTF-8",
			"line 4: lastName: INVALID: control character U+0000",
			"line 7: notes: INVALID: control character U+0007",
			"line 8: INVALID: malformed CSV: 3 fields where the header has 5",
			"line 9: INVALID: malformed CSV: 6 fields where the header has 5",
			`line 10: INVALID: malformed CSV: bare " in non-quoted-field`,
			"line 11: firstName: INVALID: must be at most 100 characters (got 10000)",
			"line 13: firstName: INVALID: control character U+0001",
			`line 14: INVALID: malformed CSV: extraneous or missing " in quoted-field`,
		}
		if !slices.Equal(r.rejected, want) {
			t.Errorf("rejected:\n%s", strings.Join(r.rejected, "\n"))
		}
		if want := (Summary{Rows: 12, Created: 3, Rejected: 9}); r.sum != want {
			t.Errorf("summary %+v; want %+v", r.sum, want)
		}
		wantRows := []customerRow{
			{ExternalID: "r-1", FirstName: "Ana", LastName: "Uno"},
			{ExternalID: "r-10", FirstName: "Ana", LastName: "Diez"},
			{ExternalID: "r-4", FirstName: "Ana", LastName: "Cuatro", Notes: sp("tab\there\nand lines")},
		}
		if got := e.customers(org); show(got) != show(wantRows) {
			t.Errorf("customers:\n%s\nwant:\n%s", show(got), show(wantRows))
		}
	}
}

// A record larger than MaxRecordBytes stops the import (the file is not read whole into
// memory): the batch it was in rolls back, the batches before it stay loaded.
func TestImportCustomers_HugeRecordStopsTheImport(t *testing.T) {
	e := newEnv(t)
	file := header + "h-1,Ana,Uno,,\n" + "h-2,Ana,Dos,,\n" + "h-3,Ana,Tres,,\"" + strings.Repeat("x", 2*MaxRecordBytes) + "\"\n" + "h-4,Ana,Cuatro,,\n"
	for _, tc := range []struct {
		batch  int
		loaded []string
	}{{1, []string{"h-1", "h-2"}}, {2, []string{"h-1", "h-2"}}, {3, nil}} {
		org := uuid.New()
		r := e.importCustomers(org, strings.NewReader(file), tc.batch)
		var stopped *Stopped
		if !errors.As(r.err, &stopped) || stopped.After != 3 || !errors.Is(r.err, errRecordTooLarge) {
			t.Fatalf("batch %d: %v; want stopped after line 3 on the record limit", tc.batch, r.err)
		}
		var ids []string
		for _, c := range e.customers(org) {
			ids = append(ids, c.ExternalID)
		}
		if !slices.Equal(ids, tc.loaded) || r.sum.Created != len(tc.loaded) {
			t.Errorf("batch %d: loaded %v (summary %+v); want %v", tc.batch, ids, r.sum, tc.loaded)
		}
	}
}

func ctx() context.Context { return context.Background() }

// externalId is required and 1–100 characters (customers.external_id), checked by the
// customers service with the row's other fields.
func TestImportCustomers_ExternalIDBounds(t *testing.T) {
	e := newEnv(t)
	org := uuid.New()
	long := strings.Repeat("é", 100)
	file := header + long + ",Ana,Cien,,\n" + long + "x,Ana,CientoUno,,\n" + ",Ana,Vacío,,\n" + "  ,Ana,Blanco,,\n" + long + "y,,Dos,,\n"
	r := e.importCustomers(org, strings.NewReader(file), 0)
	want := []string{
		"line 3: externalId: INVALID: must be 1–100 characters",
		"line 4: externalId: INVALID: externalId is required",
		"line 5: externalId: INVALID: externalId is required",
		"line 6: firstName: INVALID: cannot be empty; externalId: must be 1–100 characters",
	}
	if r.err != nil || !slices.Equal(r.rejected, want) || r.sum != (Summary{Rows: 5, Created: 1, Rejected: 4}) {
		t.Errorf("%+v %v\n%s", r.sum, r.err, strings.Join(r.rejected, "\n"))
	}
	if got := e.customers(org); len(got) != 1 || got[0].ExternalID != long {
		t.Errorf("customers:\n%s", show(got))
	}
}
