package customers

import "strings"

// §10: the stored data that breaks a current rule, listed for a person to fix. The rules
// of stored rows are SQL functions of the migration 20261216000001_documents, each with a
// partial index of the broken rows in the list's default order (newest first): a page of
// dataQualityIssues reads index entries of broken rows only, and no row is rewritten to fit
// a rule. docs/decisions-data-quality.md says why indexes and not a maintained flag.

// DataIssue is a kind of broken rule.
type DataIssue string

const (
	DataIssueDocument DataIssue = "document" // a document its type's rule does not read, or not canonical
	DataIssueEmail    DataIssue = "email"    // an email that is not one
	DataIssuePhone    DataIssue = "phone"    // a phone not in E.164
	DataIssueAny      DataIssue = "any"      // any of them
)

// dataIssueSQL is each kind's condition on customers AS c, written as its index's
// predicate is (the planner matches the two).
var dataIssueSQL = map[DataIssue]string{
	DataIssueDocument: "app_document_issue(c.document_type, c.document_number)",
	DataIssueEmail:    "app_email_issue(c.email)",
	DataIssuePhone:    "app_phone_issue(c.phone)",
}

func init() {
	dataIssueSQL[DataIssueAny] = "(" + strings.Join([]string{dataIssueSQL[DataIssueDocument],
		dataIssueSQL[DataIssueEmail], dataIssueSQL[DataIssuePhone]}, " OR ") + ")"
}

// DataIssuesSQL is the kinds of broken rules of the customer at row alias, as a text[] of
// the API's names (DOCUMENT, EMAIL, PHONE), empty when none.
func DataIssuesSQL(row string) string {
	var parts []string
	for _, k := range []DataIssue{DataIssueDocument, DataIssueEmail, DataIssuePhone} {
		cond := strings.ReplaceAll(dataIssueSQL[k], "c.", row+".")
		parts = append(parts, "CASE WHEN "+cond+" THEN '"+strings.ToUpper(string(k))+"' END")
	}
	return "array_remove(ARRAY[" + strings.Join(parts, ", ") + "]::text[], NULL)"
}
