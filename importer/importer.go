// Package importer loads customers and purchases from CSV files (specification §10,
// Import): a header row names the columns, each data row goes through the same service
// call the API makes (customers.Service.Create, loyalty.Service.RecordPurchase), so it is
// validated and audited as the API's, and a row the service refuses is reported with its
// line number and reason while the others still load. The file is read as a stream, a
// record at a time, and rows are committed in batches: each batch is one transaction in
// which every row is a savepoint (db.InBatch). A re-run loads nothing twice: a customer is
// known by its externalId, a purchase by its orderId.
package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/db"
)

// MaxRecordBytes bounds one CSV record (a row, quoted line breaks included): a larger one
// stops the import at its line, so a malformed file cannot make the import hold it whole.
const MaxRecordBytes = 1 << 20

// DefaultBatchSize is how many rows one transaction commits.
const DefaultBatchSize = 500

// Options are an import's settings and reports.
type Options struct {
	// Actor is the person running the import: the audit log's actor of every row it writes.
	Actor uuid.UUID
	// BatchSize is how many rows one transaction commits (DefaultBatchSize when ≤ 0).
	BatchSize int
	// Rejected is told of each rejected row, in file order (nil: not reported).
	Rejected func(Rejection)
	// Progress is told of each row read (nil: not reported).
	Progress func()
}

// Rejection is a data row that was not loaded: its line in the file (1 is the header;
// a record spanning lines is named by its first), the column at fault ("" for the whole
// row) and why, with the code the API would answer.
type Rejection struct {
	Line    int
	Column  string
	Code    apperr.Code
	Message string
}

func (r Rejection) String() string {
	if r.Column == "" {
		return fmt.Sprintf("line %d: %s: %s", r.Line, r.Code, r.Message)
	}
	return fmt.Sprintf("line %d: %s: %s: %s", r.Line, r.Column, r.Code, r.Message)
}

// Summary counts an import's data rows: Created were loaded now, Existing had been by an
// earlier run (same externalId or orderId) and were left as they are, Rejected were not
// loaded. Rows = Created + Existing + Rejected.
type Summary struct {
	Rows, Created, Existing, Rejected int
}

// ErrHeader is a header row the import does not accept: nothing is loaded.
var ErrHeader = errors.New("CSV header")

// Stopped is an import that stopped before the end of the file (a record too large, the
// database failing, an interrupt): the batch it was in is rolled back, the batches before
// it are committed. A re-run of the file loads what is missing and skips the rest.
type Stopped struct {
	After int // the line of the last record read (1: the header)
	Err   error
}

func (e *Stopped) Error() string {
	return fmt.Sprintf("import stopped after line %d (the batches committed before stay loaded; re-run the file to load the rest): %v", e.After, e.Err)
}

func (e *Stopped) Unwrap() error { return e.Err }

// outcome of one row.
type outcome int

const (
	created outcome = iota
	existing
	rejected
)

// column is one column a file may have.
type column struct {
	name     string
	required bool
	freeText bool // tab, line feed and carriage return allowed (the API's rule for free text)
}

// row is one data record by column name.
type row struct {
	line   int
	values map[string]string
}

// get is the column's value with surrounding white space removed; "" when empty or absent.
func (r row) get(name string) string { return strings.TrimSpace(r.values[name]) }

// opt is the column's trimmed value, nil when empty or absent.
func (r row) opt(name string) *string {
	if v := r.get(name); v != "" {
		return &v
	}
	return nil
}

// loader loads one row: tx is the batch's transaction, for the loader's look-ups; the
// service it calls under ctx writes the row in a savepoint of it (db.InBatch), rolled back
// when the service refuses the row.
type loader func(ctx context.Context, tx bun.Tx, r row) (outcome, *Rejection, error)

// run reads the CSV of in against columns and loads each row with load, in batches.
func run(ctx context.Context, h *db.Handle, org uuid.UUID, in io.Reader, columns []column, opts Options, load loader) (Summary, error) {
	var sum Summary
	if opts.Actor == uuid.Nil {
		return sum, errors.New("import: no actor (the user the audit log records)")
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{UserID: opts.Actor, OrganizationID: org, Roles: []auth.Role{auth.Agent}})
	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	lim := &recordLimit{r: bufio.NewReaderSize(in, 64<<10)}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return sum, fmt.Errorf("%w: the file is empty", ErrHeader)
		}
		return sum, fmt.Errorf("%w: %v", ErrHeader, err)
	}
	names, err := readHeader(header, columns)
	if err != nil {
		return sum, err
	}
	cr.FieldsPerRecord = len(names)
	byName := make(map[string]column, len(columns))
	for _, c := range columns {
		byName[c.name] = c
	}
	last := 1 // the line of the last record read
	for eof := false; !eof; {
		var batch Summary
		var pending []Rejection // reported once the batch commits
		err := db.InBatch(ctx, h.DB, org, func(ctx context.Context, tx bun.Tx) error {
			for n := 0; n < batchSize; n++ {
				lim.reset()
				rec, err := cr.Read()
				if errors.Is(err, io.EOF) {
					eof = true
					return nil
				}
				var perr *csv.ParseError
				if err != nil && !errors.As(err, &perr) {
					return err // the record limit, a read error: the file cannot be read on
				}
				if opts.Progress != nil {
					opts.Progress()
				}
				batch.Rows++
				if err != nil {
					last = perr.StartLine
					msg := perr.Err.Error()
					if errors.Is(err, csv.ErrFieldCount) {
						msg = fmt.Sprintf("%d fields where the header has %d", len(rec), len(names))
					}
					pending = append(pending, Rejection{Line: last, Code: apperr.Invalid, Message: "malformed CSV: " + msg})
					batch.Rejected++
					continue
				}
				last, _ = cr.FieldPos(0)
				r := row{line: last, values: make(map[string]string, len(names))}
				if rej := r.fill(names, rec, byName); rej != nil {
					pending = append(pending, *rej)
					batch.Rejected++
					continue
				}
				out, rej, err := load(ctx, tx, r)
				if err != nil {
					return err
				}
				switch out {
				case created:
					batch.Created++
				case existing:
					batch.Existing++
				case rejected:
					pending = append(pending, *rej)
					batch.Rejected++
				}
			}
			return nil
		})
		if err != nil {
			return sum, &Stopped{After: last, Err: err}
		}
		for _, r := range pending {
			if opts.Rejected != nil {
				opts.Rejected(r)
			}
		}
		sum.Rows += batch.Rows
		sum.Created += batch.Created
		sum.Existing += batch.Existing
		sum.Rejected += batch.Rejected
	}
	return sum, nil
}

// readHeader checks the header row: every name a known column (case as documented), none
// twice, the required ones present.
func readHeader(header []string, columns []column) ([]string, error) {
	known := make(map[string]bool, len(columns))
	for _, c := range columns {
		known[c.name] = true
	}
	names := make([]string, len(header))
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // a spreadsheet's byte order mark
		}
		if !known[h] {
			return nil, fmt.Errorf("%w: unknown column %q (the columns are %s)", ErrHeader, h, columnList(columns))
		}
		if seen[h] {
			return nil, fmt.Errorf("%w: column %q twice", ErrHeader, h)
		}
		seen[h] = true
		names[i] = h
	}
	for _, c := range columns {
		if c.required && !seen[c.name] {
			return nil, fmt.Errorf("%w: no column %q (the columns are %s)", ErrHeader, c.name, columnList(columns))
		}
	}
	return names, nil
}

func columnList(columns []column) string {
	s := make([]string, len(columns))
	for i, c := range columns {
		s[i] = c.name
	}
	return strings.Join(s, ",")
}

// fill copies rec into r, refusing what the API's edge refuses in any string
// (graph/inputcheck.go): text that is not UTF-8, and control characters other than tab,
// line feed and carriage return in free text or around a value.
func (r *row) fill(names, rec []string, byName map[string]column) *Rejection {
	for i, v := range rec {
		name := names[i]
		if !utf8.ValidString(v) {
			return &Rejection{Line: r.line, Column: name, Code: apperr.Invalid, Message: "not valid UTF-8"}
		}
		check := strings.TrimSpace(v)
		if byName[name].freeText {
			check = v
		}
		for _, c := range check {
			if unicode.Is(unicode.Cc, c) && !(byName[name].freeText && (c == '\t' || c == '\n' || c == '\r')) {
				return &Rejection{Line: r.line, Column: name, Code: apperr.Invalid, Message: fmt.Sprintf("control character %U", c)}
			}
		}
		r.values[name] = strings.Clone(v)
	}
	return nil
}

// refusal is the rejection of a row the service refused with a user error; other errors
// (the database failing) are returned as they are and stop the import.
func refusal(line int, err error, columnOf func(field []string) string) (*Rejection, error) {
	errs, ok := apperr.Of(err)
	if !ok || len(errs) == 0 {
		return nil, err
	}
	var msgs []string
	for _, e := range errs[1:] {
		msgs = append(msgs, fieldText(columnOf(e.Field), e.Message))
	}
	first := errs[0]
	msg := first.Message
	if len(msgs) > 0 {
		msg += "; " + strings.Join(msgs, "; ")
	}
	return &Rejection{Line: line, Column: columnOf(first.Field), Code: first.Code, Message: msg}, nil
}

func fieldText(column, msg string) string {
	if column == "" {
		return msg
	}
	return column + ": " + msg
}

// errRecordTooLarge is a record over MaxRecordBytes.
var errRecordTooLarge = fmt.Errorf("a record larger than %d bytes", MaxRecordBytes)

// recordLimit fails the read once more than MaxRecordBytes (plus what the CSV reader
// buffers ahead) have been read since the last reset, done before each record.
type recordLimit struct {
	r *bufio.Reader
	n int
}

func (l *recordLimit) reset() { l.n = 0 }

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.n > MaxRecordBytes+64<<10 {
		return 0, errRecordTooLarge
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}
