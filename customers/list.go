package customers

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"customerservice/apperr"
	"customerservice/models"
	"customerservice/paging"
)

// Page sizes of the list (§8).
const (
	DefaultPageSize = paging.DefaultSize
	MaxPageSize     = paging.MaxSize
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
	// DataIssue selects the customers whose stored data breaks a rule of this kind (§10);
	// "" is no condition.
	DataIssue DataIssue
	// Consent selects the customers who currently consent to the purpose (§11); nil is no
	// condition.
	Consent *models.ConsentPurpose
	// Search is a case- and accent-insensitive substring of the name, email, phone or
	// document number; blank is no search.
	Search string
	// And is a further filter every customer must also match (a saved segment's, §12). It
	// was validated when it was saved and is not validated again: a stored filter always
	// evaluates.
	And *Filter

	// indexed are the tag conditions of the filter and of And that go through the tags
	// index (IndexTags); nil: none.
	indexed map[tagCondition]bool
}

// MaxSearchLength bounds a search string: longer than any searchable text, so it cannot
// match, and an unbounded one only costs the index work.
const MaxSearchLength = 200

// Validate checks what the types of the filter do not (a saved segment's filter is checked
// as the live one).
func (f *Filter) Validate() error { return f.validate() }

// validate checks what the types of the filter do not.
func (f *Filter) validate() error {
	if f.Consent != nil && !validConsentPurpose(*f.Consent) {
		return apperr.OnField(apperr.Invalid, []string{"filter", "consent"}, "unknown consent purpose %q", *f.Consent)
	}
	if _, ok := dataIssueSQL[f.DataIssue]; f.DataIssue != "" && !ok {
		return apperr.OnField(apperr.Invalid, []string{"kind"}, "unknown data quality issue %q", f.DataIssue)
	}
	if utf8.RuneCountInString(strings.TrimSpace(f.Search)) > MaxSearchLength {
		return apperr.OnField(apperr.Invalid, []string{"search"}, "search must be at most %d characters", MaxSearchLength)
	}
	return nil
}

// TimeRange is from inclusive, to exclusive; either may be nil.
type TimeRange struct{ From, To *time.Time }

// joins are the tables besides customers a query reads, each joined at most once; both
// hold at most one row per customer, so a LEFT JOIN never repeats a customer.
type joins uint8

const (
	joinLoyalty joins = 1 << iota // loyalty_accounts AS la
	joinSegment                   // customer_segments AS s
)

// joins are the tables the filter's conditions read.
func (f *Filter) joins() joins {
	var j joins
	if f.Tiers != nil {
		j |= joinLoyalty
	}
	if f.Segments != nil || f.IsVip != nil || f.IsAtRisk != nil {
		j |= joinSegment
	}
	if f.And != nil {
		j |= f.And.joins()
	}
	return j
}

// minIndexedSearch is the shortest term the trigram index can serve (a trigram is three
// characters); shorter terms scan the organization's rows.
const minIndexedSearch = 3

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
	After, Before *string // cursors of a previous page of the same order ("" none)
	Filter        Filter
	Order         Order
	Count         bool // also count all the matches (TotalCount)
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
	arg := "first"
	if backward {
		arg = "last"
	}
	n, err = paging.Size(arg, n)
	return n, backward, err
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
