// Package paging is how every list of the API pages (§8): a page size, keyset cursors in
// one wire format, and the SQL predicate that continues a list after a cursor. Customers,
// loyalty transactions, purchases, credit usages and payments all page through here.
package paging

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/db"
)

// Page sizes (§8): 20 when not given, at most 100.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// Cursor is a position in a list: the sort key of a row (as text, in the form the list's
// order reads it) and the row's id, which breaks ties. Order names the list's order, so a
// cursor of one order is refused by another.
type Cursor struct {
	Order string    `json:"o"`
	Key   string    `json:"k"`
	ID    uuid.UUID `json:"id"`
}

// String is the cursor as clients see it: base64url (unpadded) of its JSON.
func (c Cursor) String() string {
	var b []byte
	if plainJSON(c.Order) && plainJSON(c.Key) {
		// json.Marshal's bytes, written directly: a page of 50 customers makes 50 cursors.
		b = make([]byte, 0, len(`{"o":"","k":"","id":""}`)+len(c.Order)+len(c.Key)+36)
		b = append(b, `{"o":"`...)
		b = append(b, c.Order...)
		b = append(b, `","k":"`...)
		b = append(b, c.Key...)
		b = append(b, `","id":"`...)
		b = append(b, c.ID.String()...)
		b = append(b, `"}`...)
	} else {
		b, _ = json.Marshal(c)
	}
	out := make([]byte, base64.RawURLEncoding.EncodedLen(len(b)))
	base64.RawURLEncoding.Encode(out, b)
	return string(out)
}

// plainJSON reports a string that encoding/json writes as it is between its quotes: printable
// ASCII without ", \, <, > and & (which it escapes).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Decode reads a cursor of the list ordered by order; valid checks its key. The error is
// INVALID on the argument arg.
func Decode(arg, s, order string, valid func(key string) bool) (Cursor, error) {
	bad := apperr.OnField(apperr.Invalid, []string{arg}, "%s is not a cursor of this list", arg)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	var c Cursor
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.ID == uuid.Nil || c.Order != order || !valid(c.Key) {
		return Cursor{}, bad
	}
	return c, nil
}

// Page is a validated request for one page of a list read forward: First rows after the
// cursor After (nil: from the start).
type Page struct {
	First int
	After *Cursor
}

// NewPage validates the arguments of a connection field: first 1–100 (20 when nil); after a
// cursor of the list ordered by order, whose key valid accepts. An empty after is no cursor,
// as an omitted one: the first page (the same in every list).
func NewPage(first *int, after *string, order string, valid func(string) bool) (Page, error) {
	p := Page{First: DefaultSize}
	if first != nil {
		n, err := Size("first", *first)
		if err != nil {
			return Page{}, err
		}
		p.First = n
	}
	if after != nil && *after != "" {
		c, err := Decode("after", *after, order, valid)
		if err != nil {
			return Page{}, err
		}
		p.After = &c
	}
	return p, nil
}

// Size checks a page size given as the argument arg (first or last).
func Size(arg string, n int) (int, error) {
	if n < 1 || n > MaxSize {
		return 0, apperr.OnField(apperr.Invalid, []string{arg}, "%s must be between 1 and %d", arg, MaxSize)
	}
	return n, nil
}

// Keyset is the condition that continues a list past the cursor c: the rows whose (key, id)
// compare op ("<" for a descending order read forward, ">" for an ascending one) to the
// cursor's, the cursor's key cast to sqlType. Both values are bind parameters of args; on
// an index of (key, id) it is a range scan, not OFFSET.
func Keyset(key, id, op, sqlType string, c Cursor, args *db.Args) string {
	return "(" + key + ", " + id + ") " + op + " (" + args.Add(c.Key) + "::" + sqlType + ", " + args.Add(c.ID.String()) + "::uuid)"
}
