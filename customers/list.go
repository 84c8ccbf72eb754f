package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/models"
)

// Page sizes of the list (§8).
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Filter selects customers (§8 CustomerFilter); every condition given must hold. A nil list
// or pointer is no condition; an empty list is "any of none" and matches nobody (except
// TagsAll, where "carries all of none" holds for everyone).
type Filter struct {
	Statuses         []models.CustomerStatus
	Types            []models.CustomerType
	Tiers            []models.Tier // enrolled in loyalty with one of these tiers
	Segments         []models.SegmentCode
	IsVip            *bool // false includes customers without a segment
	IsAtRisk         *bool // false includes customers without a segment
	TagsAny          []string
	TagsAll          []string
	HasCreditAccount *bool
	CreatedAt        TimeRange
	LastPurchaseAt   TimeRange
	// Search is a case- and accent-insensitive substring of the name, email, phone or
	// document number; blank is no search.
	Search string
}

// MaxSearchLength bounds a search string: longer than any searchable text, so it cannot
// match, and an unbounded one only costs the index work.
const MaxSearchLength = 200

// validate checks what the types of the filter do not.
func (f *Filter) validate() error {
	if utf8.RuneCountInString(strings.TrimSpace(f.Search)) > MaxSearchLength {
		return apperr.OnField(apperr.Invalid, []string{"search"}, "search must be at most %d characters", MaxSearchLength)
	}
	return nil
}

// TimeRange is from inclusive, to exclusive; either may be nil.
type TimeRange struct{ From, To *time.Time }

// joins are the tables besides customers a query reads, each joined at most once.
type joins uint8

const (
	joinLoyalty joins = 1 << iota // loyalty_accounts AS la
	joinSegment                   // customer_segments AS s
)

// withJoins adds the joins. Both tables hold at most one row per customer, so a LEFT JOIN
// never repeats a customer; a customer without a row reads NULLs.
func withJoins(q *bun.SelectQuery, j joins) *bun.SelectQuery {
	if j&joinLoyalty != 0 {
		q = q.Join("LEFT JOIN loyalty_accounts AS la ON la.customer_id = c.customer_id")
	}
	if j&joinSegment != 0 {
		q = q.Join("LEFT JOIN customer_segments AS s ON s.customer_id = c.customer_id")
	}
	return q
}

// joins are the tables the filter's conditions read.
func (f *Filter) joins() joins {
	var j joins
	if f.Tiers != nil {
		j |= joinLoyalty
	}
	if f.Segments != nil || f.IsVip != nil || f.IsAtRisk != nil {
		j |= joinSegment
	}
	return j
}

// apply adds the filter's conditions to a query over customers AS c that has f.joins().
// The list, its count and the stats all filter through here.
func (f *Filter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Statuses != nil {
		q = q.Where("c.status = ANY(?)", pgdialect.Array(strs(f.Statuses)))
	}
	if f.Types != nil {
		q = q.Where("c.customer_type = ANY(?)", pgdialect.Array(strs(f.Types)))
	}
	if f.Tiers != nil {
		q = q.Where("la.tier = ANY(?)", pgdialect.Array(strs(f.Tiers)))
	}
	if f.Segments != nil {
		q = q.Where("s.segment_code = ANY(?)", pgdialect.Array(strs(f.Segments)))
	}
	if f.IsVip != nil {
		q = q.Where("s.is_vip IS " + isTrue(*f.IsVip))
	}
	if f.IsAtRisk != nil {
		q = q.Where("s.is_at_risk IS " + isTrue(*f.IsAtRisk))
	}
	if f.TagsAny != nil {
		q = q.Where("c.tags && ?", pgdialect.Array(f.TagsAny))
	}
	if f.TagsAll != nil {
		q = q.Where("c.tags @> ?", pgdialect.Array(f.TagsAll))
	}
	if f.HasCreditAccount != nil {
		exists := "EXISTS (SELECT 1 FROM credit_accounts AS ca WHERE ca.customer_id = c.customer_id)"
		if !*f.HasCreditAccount {
			exists = "NOT " + exists
		}
		q = q.Where(exists)
	}
	q = f.CreatedAt.apply(q, "c.created_at")
	q = f.LastPurchaseAt.apply(q, "c.last_purchase_at")
	if terms := searchTerms(f.Search); len(terms) > 0 {
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, t := range terms {
				q = q.WhereOr(searchCondition(t), escapeLike(t))
			}
			return q
		})
	}
	return q
}

// isTrue is the IS test for want: IS NOT TRUE also holds for NULL, so "not VIP" includes
// customers without a segment (§8).
func isTrue(want bool) string {
	if want {
		return "TRUE"
	}
	return "NOT TRUE"
}

func (r TimeRange) apply(q *bun.SelectQuery, column string) *bun.SelectQuery {
	if r.From != nil {
		q = q.Where(column+" >= ?", *r.From)
	}
	if r.To != nil {
		q = q.Where(column+" < ?", *r.To)
	}
	return q
}

func strs[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

// minIndexedSearch is the shortest term the trigram index can serve (a trigram is three
// characters); shorter terms scan the organization's rows.
const minIndexedSearch = 3

// searchCondition matches customers whose search_text contains term (escaped for LIKE).
// Under row-level security PostgreSQL does not use the trigram index for LIKE (textlike is
// not leakproof), so indexable terms go through customer_search_ids(), which runs the
// indexed LIKE for the caller's organization only (see the init migration).
func searchCondition(term string) string {
	if utf8.RuneCountInString(term) >= minIndexedSearch {
		return "c.customer_id IN (SELECT customer_search_ids(?))"
	}
	return "c.search_text LIKE '%' || app_unaccent(lower(?)) || '%'"
}

// searchTerms are what a search string matches: the string trimmed with its runs of
// spaces made one (search_text joins its parts with single spaces) and, when it looks like
// a phone number ("6123-4567", "+507 6123 4567"), also its digits alone, since phones are
// stored in E.164 (§2). Blank: no terms.
func searchTerms(raw string) []string {
	term := strings.Join(strings.Fields(raw), " ")
	if term == "" {
		return nil
	}
	terms := []string{term}
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == '+' || r == '-' || r == '(' || r == ')' || r == '.' || unicode.IsSpace(r):
			return -1
		default:
			return utf8.RuneError
		}
	}, term)
	if digits != term && digits != "" && !strings.ContainsRune(digits, utf8.RuneError) {
		terms = append(terms, digits)
	}
	return terms
}

// escapeLike makes LIKE's wildcards and its escape character literal.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListParams asks for one page of the customer list. Give First (with After) to page
// forward or Last (with Before) to page backward; neither means the first 20.
type ListParams struct {
	First, Last   *int
	After, Before *string // cursors of a previous page of the same order
	Filter        Filter
	Order         Order
	Columns       []string // the customer columns to read (customer_id is always read); nil: all
	Count         bool     // also count all the matches (TotalCount)
	Include       Include  // related rows to read along with the page
}

// Page is one page of the customer list, in the requested order.
type Page struct {
	Customers []models.Customer
	Cursors   []string // Cursors[i] is the position of Customers[i]
	// HasNext and HasPrevious come from one extra row read in the paging direction. In the
	// other direction a page cannot know without another query, so there it reports true
	// when a cursor bounds the page on that side (the cursor's own row precedes or follows
	// it), and false otherwise.
	HasNext, HasPrevious bool
	TotalCount           int // when ListParams.Count
	Related              Related
}

// listRow is a customer and its sort key (as the cursor stores it; nil only for a
// missing timestamp).
type listRow struct {
	models.Customer `bun:",extend"`
	SortKey         *string `bun:"sort_key,scanonly"`
}

// List returns one page of the customers that match, with keyset cursors (§8): no OFFSET,
// so pages stay stable while customers are added.
func (s *Service) List(ctx context.Context, p ListParams) (*Page, error) {
	if err := auth.Require(ctx, auth.Viewer); err != nil {
		return nil, err
	}
	if p.Order.Field == "" {
		p.Order = DefaultOrder
	}
	key, ok := sortKeys[p.Order.Field]
	if !ok {
		return nil, apperr.OnField(apperr.Invalid, []string{"orderBy", "field"}, "unknown order field %q", p.Order.Field)
	}
	n, backward, err := pageSize(p.First, p.Last)
	if err != nil {
		return nil, err
	}
	if err := p.Filter.validate(); err != nil {
		return nil, err
	}
	var after, before *cursor
	if p.After != nil {
		c, err := decodeCursor("after", *p.After, p.Order)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	if p.Before != nil {
		c, err := decodeCursor("before", *p.Before, p.Order)
		if err != nil {
			return nil, err
		}
		before = &c
	}
	cols, err := s.customerColumns(p.Columns)
	if err != nil {
		return nil, err
	}

	// In the requested order, the rows after a cursor compare greater (ASC) or less (DESC)
	// on (key, id). Reading backward, the query runs in the reverse order, so its LIMIT takes
	// the rows nearest `before`, and the page is reversed back below.
	afterOp, beforeOp := ">", "<"
	if p.Order.Desc {
		afterOp, beforeOp = "<", ">"
	}
	dir := "ASC"
	if p.Order.Desc != backward {
		dir = "DESC"
	}
	keyset := "(" + key.expr + ", c.customer_id) %s (?::" + key.sqlTyp + ", ?)"

	v, err := newView360(p.Include)
	if err != nil {
		return nil, err
	}
	q := s.db.NewSelect().Model((*models.Customer)(nil)).ColumnExpr(customerRow(cols)).ColumnExpr("(" + key.selected + ")::text AS sort_key")
	q = withJoins(q, p.Filter.joins()|key.joins)
	q = p.Filter.apply(q)
	if after != nil {
		q = q.Where(fmt.Sprintf(keyset, afterOp), after.Key, after.ID)
	}
	if before != nil {
		q = q.Where(fmt.Sprintf(keyset, beforeOp), before.Key, before.ID)
	}
	q = q.OrderExpr(key.expr + " " + dir + ", c.customer_id " + dir).Limit(int64(n) + 1)
	var count *bun.SelectQuery
	page := &Page{}
	if p.Count {
		count = p.Filter.apply(withJoins(s.db.NewSelect().TableExpr("customers AS c"), p.Filter.joins())).ColumnExpr("count(*)")
	}
	var sortKeys []*string
	// A first page's text repeats (a dashboard's): keep it prepared. Cursors and searches
	// make texts that rarely do.
	prepare := after == nil && before == nil && p.Filter.Search == ""
	customers, rel, err := s.read360(ctx, q, nil, prepare, cols, v, func(values [][]byte) {
		var k *string
		if values[0] != nil {
			sk := string(values[0])
			if key.sqlTyp == "timestamptz" {
				sk = rfc3339(sk)
			}
			k = &sk
		}
		sortKeys = append(sortKeys, k)
	}, count, &page.TotalCount)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	rows := make([]listRow, len(customers))
	for i := range customers {
		rows[i] = listRow{Customer: customers[i], SortKey: sortKeys[i]}
	}
	more := len(rows) > n
	if more {
		rows = rows[:n]
		if rel.Nodes != nil {
			rel.Nodes = rel.Nodes[:n]
		}
	}
	if backward {
		slices.Reverse(rows)
		slices.Reverse(rel.Nodes)
		page.HasPrevious, page.HasNext = more || after != nil, before != nil
	} else {
		page.HasNext, page.HasPrevious = more || before != nil, after != nil
	}
	page.Related = rel
	page.Customers = make([]models.Customer, len(rows))
	page.Cursors = make([]string, len(rows))
	for i, r := range rows {
		page.Customers[i] = r.Customer
		k := negInfinity
		if r.SortKey != nil {
			k = *r.SortKey
		}
		page.Cursors[i] = cursor{Field: p.Order.Field, Desc: p.Order.Desc, Key: k, ID: r.ID}.encode()
	}
	return page, nil
}

// pageSize checks first and last (§8: 1–100, not both) and returns the page size and
// whether the page is read backward.
func pageSize(first, last *int) (n int, backward bool, err error) {
	switch {
	case first != nil && last != nil:
		return 0, false, apperr.New(apperr.Invalid, "give first or last, not both")
	case first != nil:
		n = *first
	case last != nil:
		n, backward = *last, true
	default:
		return DefaultPageSize, false, nil
	}
	if n < 1 || n > MaxPageSize {
		arg := "first"
		if backward {
			arg = "last"
		}
		return 0, false, apperr.OnField(apperr.Invalid, []string{arg}, "%s must be between 1 and %d", arg, MaxPageSize)
	}
	return n, backward, nil
}

// customerColumns checks the requested columns against the customers model and adds
// customer_id, which cursors and loaders need. None requested: every column.
func (s *Service) customerColumns(requested []string) ([]string, error) {
	table := s.db.Table(customerType)
	if len(requested) == 0 {
		cols := make([]string, len(table.Fields))
		for i, f := range table.Fields {
			cols[i] = f.Name
		}
		return cols, nil
	}
	cols := []string{"customer_id"}
	for _, c := range requested {
		if _, ok := table.FieldMap[c]; !ok {
			return nil, fmt.Errorf("customers: no column %q", c)
		}
		if !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols, nil
}

// rfc3339 is a timestamptz in PostgreSQL's text form as cursors write it (RFC 3339, UTC);
// what cannot be parsed is kept, and the cursor then fails validation.
func rfc3339(s string) string {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z07:00:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return s
}
