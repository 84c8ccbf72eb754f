package customers

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/documents"
	"customerservice/models"
	"customerservice/paging"
)

// The customers' part of a read that others compose (package customer360 builds the
// answer's JSON around it): which customer a lookup names, and which customers a list page
// holds in which order. Every value of the request is a bind parameter (db.Args), so a
// statement's text depends only on its shape.

// Key names one customer: a condition on customers AS c, its values bind parameters.
type Key struct {
	where func(args *db.Args) string
	none  bool // the value cannot name anyone (an email that is not one): no read needed
}

// Where is the condition, its values added to args.
func (k Key) Where(args *db.Args) string { return k.where(args) }

// None reports a key that matches nobody without reading.
func (k Key) None() bool { return k.none }

// ByID names the customer with id.
func ByID(id uuid.UUID) Key {
	return Key{where: func(a *db.Args) string { return "c.customer_id = " + a.Add(id.String()) + "::uuid" }}
}

// ByEmail names the customer with the email, compared normalized.
func ByEmail(email string) Key {
	e, ok := NormalizeEmail(email)
	return Key{none: !ok, where: func(a *db.Args) string { return "c.email = " + a.Add(e) }}
}

// ByPhone names the customer with the phone, compared in E.164.
func ByPhone(phone string) Key {
	p, ok := NormalizePhone(phone, DefaultRegion)
	return Key{none: !ok, where: func(a *db.Args) string { return "c.phone = " + a.Add(p) }}
}

// ByExternalID names the customer with the external id (trimmed, as it is stored): the
// unique key (organization_id, external_id) serves it.
func ByExternalID(externalID string) Key {
	e := strings.TrimSpace(externalID)
	return Key{none: e == "", where: func(a *db.Args) string { return "c.external_id = " + a.Add(e) }}
}

// CanonicalDocumentSQL is the canonical number of a stored document (§10), as the migration
// 20261216000001_documents defines and indexes it: also for a row stored before the rule.
const CanonicalDocumentSQL = "app_document_canonical(document_type, document_number)"

// ByDocument names the customer with the document, in any spelling of its number (§10: the
// canonical numbers are compared). A number its type's rule does not read is compared
// upper-cased and trimmed, so a row stored before the rule is still found as it is.
func ByDocument(docType models.DocumentType, number string) Key {
	n := normalizeDocumentNumber(number)
	if d, err := documents.Parse(docType, number); err == nil {
		n = d.Number
	}
	return Key{where: func(a *db.Args) string {
		return "c.document_type = " + a.Add(string(docType)) + " AND app_document_canonical(c.document_type, c.document_number) = " + a.Add(n)
	}}
}

// inOrg is the condition that c is a listed customer of org: every statement names its
// organization in SQL beside the row-level security policy (docs/decisions-tenancy-keys.md),
// and the joins and subqueries below join on (organization_id, customer_id). A merged
// customer (§10) is in no list, count or stats: only customer(id) still answers it.
func inOrg(org uuid.UUID, args *db.Args) (cond, param string) {
	param = args.Add(org.String()) + "::uuid"
	return "c.organization_id = " + param + " AND c.merged_into IS NULL", param
}

// joinsSQL is the FROM list of customers AS c with the joins j.
func joinsSQL(j joins) string {
	from := "customers AS c"
	if j&joinLoyalty != 0 {
		from += " LEFT JOIN loyalty_accounts AS la ON la.organization_id = c.organization_id AND la.customer_id = c.customer_id"
	}
	if j&joinSegment != 0 {
		from += " LEFT JOIN customer_segments AS s ON s.organization_id = c.organization_id AND s.customer_id = c.customer_id"
	}
	return from
}

// where is the filter's condition on customers AS c with f.joins() ("true" for none), org
// the SQL of the organization's parameter (subqueries filter on it: on Citus a subquery
// correlated on organization_id is not pushed down, one filtered by the value is routed).
// The list, its count and the stats all filter through here; the tag conditions IndexTags
// marked go through the tags index.
func (f *Filter) where(org string, args *db.Args) string { return f.whereWith(org, args, f.indexed) }

func (f *Filter) whereWith(org string, args *db.Args, indexed map[tagCondition]bool) string {
	var conds []string
	add := func(c string) { conds = append(conds, c) }
	if f.Statuses != nil {
		add("c.status = ANY(" + args.Add(strs(f.Statuses)) + "::text[])")
	}
	if f.Types != nil {
		add("c.customer_type = ANY(" + args.Add(strs(f.Types)) + "::text[])")
	}
	if f.Tiers != nil {
		add("la.tier = ANY(" + args.Add(strs(f.Tiers)) + "::text[])")
	}
	if f.Segments != nil {
		add("s.segment_code = ANY(" + args.Add(strs(f.Segments)) + "::text[])")
	}
	if f.IsVip != nil {
		add("s.is_vip IS " + isTrue(*f.IsVip))
	}
	if f.IsAtRisk != nil {
		add("s.is_at_risk IS " + isTrue(*f.IsAtRisk))
	}
	if f.TagsAny != nil {
		add(tagsSQL(f.TagsAny, false, indexed, args))
	}
	if f.TagsAll != nil {
		add(tagsSQL(f.TagsAll, true, indexed, args))
	}
	if f.HasCreditAccount != nil {
		exists := "EXISTS (SELECT 1 FROM credit_accounts AS ca WHERE ca.organization_id = " + org + " AND ca.customer_id = c.customer_id)"
		if !*f.HasCreditAccount {
			exists = "NOT " + exists
		}
		add(exists)
	}
	if f.DataIssue != "" {
		add(dataIssueSQL[f.DataIssue])
	}
	if f.Consent != nil {
		add(consentGrantedSQL(*f.Consent, args, org))
	}
	f.CreatedAt.where("c.created_at", args, add)
	f.LastPurchaseAt.where("c.last_purchase_at", args, add)
	if terms := searchTerms(f.Search); len(terms) > 0 {
		any := make([]string, len(terms))
		for i, t := range terms {
			any[i] = searchCondition(t, args)
		}
		add("(" + strings.Join(any, " OR ") + ")")
	}
	if f.And != nil {
		if and := f.And.whereWith(org, args, indexed); and != "true" {
			add("(" + and + ")")
		}
	}
	if len(conds) == 0 {
		return "true"
	}
	return strings.Join(conds, " AND ")
}

func (r TimeRange) where(column string, args *db.Args, add func(string)) {
	if r.From != nil {
		add(column + " >= " + args.Add(*r.From) + "::timestamptz")
	}
	if r.To != nil {
		add(column + " < " + args.Add(*r.To) + "::timestamptz")
	}
}

// isTrue is the IS test for want: IS NOT TRUE also holds for NULL, so "not VIP" includes
// customers without a segment (§8).
func isTrue(want bool) string {
	if want {
		return "TRUE"
	}
	return "NOT TRUE"
}

func strs[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

// searchCondition matches customers whose search_text contains term. Under row-level
// security PostgreSQL does not use the trigram index for LIKE (textlike is not leakproof),
// so indexable terms go through customer_search_ids(), which runs the indexed LIKE for the
// caller's organization only (see the init migration).
func searchCondition(term string, args *db.Args) string {
	p := args.Add(escapeLike(term))
	if utf8.RuneCountInString(term) >= minIndexedSearch {
		return "c.customer_id IN (SELECT customer_search_ids(" + p + "))"
	}
	return "c.search_text LIKE '%' || app_unaccent(lower(" + p + ")) || '%'"
}

// ListQuery is the customers' part of one list page: select SortKey and compose
// `FROM From WHERE Where ORDER BY OrderBy LIMIT Limit`; Page then turns the rows read into
// the page. Count, when asked for, is a statement of its own with its own arguments.
type ListQuery struct {
	From, Where, OrderBy, Limit string
	SortKey                     string // the row's sort key as text, for its cursor
	Org                         string // the SQL of the organization's parameter in args
	Count                       *Statement

	order    Order
	n        int
	backward bool
	after    *paging.Cursor
	before   *paging.Cursor
}

// Statement is SQL with its bind parameters.
type Statement struct {
	SQL  string
	Args []any
}

// List validates p and returns its page's query of the customers of org, its values added to
// args (§8: keyset cursors, no OFFSET, so pages stay stable while customers are added).
func List(org uuid.UUID, p ListParams, args *db.Args) (*ListQuery, error) {
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
	q := &ListQuery{order: p.Order, n: n, backward: backward}
	if q.after, err = decodeCursor("after", p.After, p.Order); err != nil {
		return nil, err
	}
	if q.before, err = decodeCursor("before", p.Before, p.Order); err != nil {
		return nil, err
	}

	// In the requested order, the rows after a cursor compare greater (ASC) or less (DESC)
	// on (key, id). Reading backward, the query runs in the reverse order, so its LIMIT takes
	// the rows nearest `before`, and Page reverses it back.
	afterOp, beforeOp := ">", "<"
	if p.Order.Desc {
		afterOp, beforeOp = "<", ">"
	}
	dir := "ASC"
	if p.Order.Desc != backward {
		dir = "DESC"
	}
	j := p.Filter.joins() | key.joins
	q.From = joinsSQL(j)
	orgCond, orgParam := inOrg(org, args)
	q.Org = orgParam
	conds := []string{orgCond, p.Filter.where(orgParam, args)}
	if q.after != nil {
		conds = append(conds, paging.Keyset(key.expr, "c.customer_id", afterOp, key.sqlTyp, *q.after, args))
	}
	if q.before != nil {
		conds = append(conds, paging.Keyset(key.expr, "c.customer_id", beforeOp, key.sqlTyp, *q.before, args))
	}
	q.Where = strings.Join(conds, " AND ")
	q.OrderBy = key.expr + " " + dir + ", c.customer_id " + dir
	q.Limit = args.Add(n + 1)
	q.SortKey = key.selected
	if p.Count {
		var cargs db.Args
		cond, param := inOrg(org, &cargs)
		where := cond + " AND " + p.Filter.where(param, &cargs)
		q.Count = &Statement{SQL: "SELECT count(*)::text FROM " + joinsSQL(p.Filter.joins()) + " WHERE " + where, Args: cargs.Values()}
	}
	return q, nil
}

// Row is one row a list page read: the customer's id and its sort key as the row gave it
// (SortKey's text; nil for a missing value).
type Row struct {
	ID      uuid.UUID
	SortKey *string
}

// PageOf is the shape of the page read with q: which of the rows read are on it, in the
// requested order (Index into the rows read), their cursors (Cursor), and whether there are
// pages on either side. HasNext and HasPrevious come from one extra row read in the paging
// direction. In the other direction a page cannot know without another query, so there it
// reports true when a cursor bounds the page on that side, and false otherwise.
type PageOf struct {
	Index                []int
	HasNext, HasPrevious bool
	q                    *ListQuery
	rows                 []Row
}

// Cursor is the cursor of the page's i-th customer. It is made when asked for: a page whose
// edges and pageInfo are not selected needs none.
func (p PageOf) Cursor(i int) string { return p.q.cursorOf(p.rows[p.Index[i]]) }

// Page turns the rows read into the page.
func (q *ListQuery) Page(rows []Row) PageOf {
	more := len(rows) > q.n
	if more {
		rows = rows[:q.n]
	}
	p := PageOf{q: q, rows: rows}
	p.Index = make([]int, len(rows))
	for i := range rows {
		j := i
		if q.backward {
			j = len(rows) - 1 - i
		}
		p.Index[i] = j
	}
	if q.backward {
		p.HasPrevious, p.HasNext = more || q.after != nil, q.before != nil
	} else {
		p.HasNext, p.HasPrevious = more || q.before != nil, q.after != nil
	}
	return p
}

func (q *ListQuery) cursorOf(r Row) string {
	k := negInfinity
	if r.SortKey != nil {
		k = *r.SortKey
		if sortKeys[q.order.Field].sqlTyp == "timestamptz" {
			k = rfc3339(k)
		}
	}
	return paging.Cursor{Order: q.order.name(), Key: k, ID: r.ID}.String()
}
