package customers

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/paging"
)

// §10: pairs of customers of an organization that are probably one person, each with a
// score and its reasons. The pairs are found in SQL, one page at a time: the customers are
// walked in id order on the primary key, and each one's candidates are looked up through an
// index per reason (its canonical document, its email, its phone, its birth date, its
// default addresses' line), so a page reads as many customers as it takes to fill it, never
// the whole organization (docs/decisions-data-quality.md; BENCHMARKS.md).

// DuplicateReason is why two customers may be one person.
type DuplicateReason string

const (
	ReasonSameDocument            DuplicateReason = "SAME_DOCUMENT"
	ReasonSameEmail               DuplicateReason = "SAME_EMAIL"
	ReasonSamePhone               DuplicateReason = "SAME_PHONE"
	ReasonSimilarNameAndBirthDate DuplicateReason = "SIMILAR_NAME_AND_BIRTH_DATE"
	ReasonSimilarNameAndAddress   DuplicateReason = "SIMILAR_NAME_AND_ADDRESS"
)

// ReasonWeights are what each reason adds to a pair's score (capped at 100): an identifier
// shared weighs more than a similar name with one shared fact.
var ReasonWeights = map[DuplicateReason]int{
	ReasonSameDocument:            60,
	ReasonSameEmail:               50,
	ReasonSamePhone:               40,
	ReasonSimilarNameAndBirthDate: 50,
	ReasonSimilarNameAndAddress:   40,
}

// NameSimilarity is the least trigram similarity (pg_trgm) of two full names, compared
// lower-cased and without accents, for the name reasons.
const NameSimilarity = 0.6

// DefaultMinScore is the least score listed when the caller gives none.
const DefaultMinScore = 50

// DuplicateParams asks for one page of duplicate candidates.
type DuplicateParams struct {
	First    *int
	After    *string
	MinScore *int // 1–100; DefaultMinScore when nil
}

// DuplicateQuery is the customers' part of a page of candidates: SQL whose rows are
// (customer_id, duplicate_id, score, reasons text[]) in page order, and the page's shape.
type DuplicateQuery struct {
	SQL  string
	Org  string // the SQL of the organization's parameter
	page paging.Page
}

const duplicatesOrder = "duplicates"

// Duplicates validates p and returns its page's query over the customers of org, its
// values added to args. Each pair is listed once, from its customer with the smaller id;
// erased and merged customers are never candidates.
func Duplicates(org uuid.UUID, p DuplicateParams, args *db.Args) (*DuplicateQuery, error) {
	min := DefaultMinScore
	if p.MinScore != nil {
		min = *p.MinScore
		if min < 1 || min > 100 {
			return nil, apperr.OnField(apperr.Invalid, []string{"minScore"}, "minScore must be between 1 and 100")
		}
	}
	page, err := paging.NewPage(p.First, p.After, duplicatesOrder, func(k string) bool { _, err := uuid.Parse(k); return err == nil })
	if err != nil {
		return nil, err
	}
	o := args.Add(org.String()) + "::uuid"
	name := func(r string) string {
		return "app_unaccent(lower(" + r + ".first_name || ' ' || " + r + ".last_name))"
	}
	similar := "similarity(" + name("a") + ", " + name("b") + ") >= " + strconv.FormatFloat(NameSimilarity, 'f', -1, 64)
	candidate := "b.organization_id = " + o + " AND b.customer_id > a.customer_id AND b.erased_at IS NULL AND b.merged_into IS NULL"
	w := func(r DuplicateReason) string { return "'" + string(r) + "'::text, " + strconv.Itoa(ReasonWeights[r]) }
	reasons := []string{
		// A natural person's RUC is their cédula (§10): the two types are one document.
		"SELECT b.customer_id, " + w(ReasonSameDocument) + " FROM customers AS b WHERE " + candidate +
			" AND a.document_number IS NOT NULL AND b.document_type::text = ANY(CASE WHEN a.document_type IN ('cedula', 'ruc') THEN '{cedula,ruc}'::text[] ELSE ARRAY[a.document_type::text] END)" +
			" AND app_document_canonical(b.document_type, b.document_number) = app_document_canonical(a.document_type, a.document_number)",
		"SELECT b.customer_id, " + w(ReasonSameEmail) + " FROM customers AS b WHERE " + candidate + " AND b.email = a.email",
		"SELECT b.customer_id, " + w(ReasonSamePhone) + " FROM customers AS b WHERE " + candidate + " AND b.phone = a.phone",
		"SELECT b.customer_id, " + w(ReasonSimilarNameAndBirthDate) + " FROM customers AS b WHERE " + candidate +
			" AND b.birth_date = a.birth_date AND " + similar,
		// The default addresses of a (shipping, billing), then the other customers' default
		// addresses with the same line, then their customers.
		"SELECT DISTINCT b.customer_id, " + w(ReasonSimilarNameAndAddress) + " FROM addresses AS ad" +
			" JOIN addresses AS bd ON bd.organization_id = " + o + " AND " + AddressLineKeySQL("bd") + " = " + AddressLineKeySQL("ad") +
			" AND bd.is_default AND bd.is_active AND bd.customer_id > a.customer_id" +
			" JOIN customers AS b ON " + candidate + " AND b.customer_id = bd.customer_id" +
			" WHERE ad.organization_id = " + o + " AND ad.customer_id = a.customer_id AND ad.is_default AND ad.is_active AND " + similar,
	}
	minSQL := args.Add(min)
	conds := []string{"a.organization_id = " + o, "a.erased_at IS NULL", "a.merged_into IS NULL"}
	if c := page.After; c != nil {
		ka, kb := args.Add(c.Key)+"::uuid", args.Add(c.ID.String())+"::uuid"
		conds = append(conds, "a.customer_id >= "+ka, "(a.customer_id > "+ka+" OR m.duplicate_id > "+kb+")")
	}
	sql := "SELECT a.customer_id AS customer_id, m.duplicate_id, m.score, m.reasons FROM customers AS a CROSS JOIN LATERAL (" +
		"SELECT r.customer_id AS duplicate_id, least(100, sum(r.weight))::int AS score, array_agg(r.reason ORDER BY r.reason) AS reasons" +
		" FROM (" + strings.Join(reasons, " UNION ALL ") + ") AS r (customer_id, reason, weight)" +
		" GROUP BY r.customer_id HAVING least(100, sum(r.weight)) >= " + minSQL + ") AS m" +
		" WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY a.customer_id, m.duplicate_id LIMIT " + args.Add(page.First+1)
	return &DuplicateQuery{SQL: sql, Org: o, page: page}, nil
}

// AddressLineKeySQL is the form in which two address lines are the same line: lower-case,
// without accents, runs of spaces made one, trimmed (the index
// addresses_default_line_idx holds it for the default addresses).
func AddressLineKeySQL(alias string) string {
	return "app_address_line_key(" + alias + ".address_line1)"
}

// DuplicateRow is one row a page of candidates read.
type DuplicateRow struct {
	CustomerID, DuplicateID uuid.UUID
}

// Page is the shape of the page: how many of the rows read are on it, their cursors, and
// whether there is a next page (one extra row read).
func (q *DuplicateQuery) Page(rows []DuplicateRow) (n int, cursors []string, hasNext bool) {
	n = min(len(rows), q.page.First)
	cursors = make([]string, n)
	for i := range n {
		cursors[i] = paging.Cursor{Order: duplicatesOrder, Key: rows[i].CustomerID.String(), ID: rows[i].DuplicateID}.String()
	}
	return n, cursors, len(rows) > q.page.First
}

// HasPrevious is whether the page starts after a cursor.
func (q *DuplicateQuery) HasPrevious() bool { return q.page.After != nil }
