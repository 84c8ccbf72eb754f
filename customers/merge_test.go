package customers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"customerservice/apperr"
	"customerservice/models"
)

func strp(s string) *string { return &s }

// §10: the survivor's non-null value wins, else the first merged customer's that has one,
// unless a choice picks a customer's value (null included); conflicts are the fields with
// two different non-null values.
func TestResolveFields_SurvivorWinsThenFirstMergedUnlessChosen(t *testing.T) {
	birth := time.Date(1990, 4, 1, 0, 0, 0, 0, time.UTC)
	cedula := models.DocumentTypeCedula
	s := models.Customer{ID: uuid.New(), FirstName: "Ana", LastName: "Pérez", Email: strp("ana@example.com"), PreferredLanguage: "es"}
	m1 := models.Customer{ID: uuid.New(), FirstName: "Ana", LastName: "Perez", Email: strp("anap@example.com"), Phone: strp("+50761234567"),
		PreferredLanguage: "es", Notes: strp("first")}
	m2 := models.Customer{ID: uuid.New(), FirstName: "Ana María", LastName: "Pérez", Phone: strp("+50769999999"), BirthDate: &birth,
		DocumentType: &cedula, DocumentNumber: strp("8-123-4567"), PreferredLanguage: "en", Notes: strp("second")}
	name := map[uuid.UUID]string{s.ID: "s", m1.ID: "m1", m2.ID: "m2"}
	describe := func(out models.Customer, changed []string, conflicts []MergeConflict) string {
		var c []string
		for _, k := range conflicts {
			c = append(c, string(k.Field)+"→"+name[k.ChosenCustomerID])
		}
		doc := "-"
		if out.DocumentNumber != nil {
			doc = *out.DocumentNumber
		}
		email := "-"
		if out.Email != nil {
			email = *out.Email
		}
		return fmt.Sprintf("%s %s %s %s %s %s %s | %s | %s", out.FirstName, out.LastName, email, *out.Phone, doc,
			out.PreferredLanguage, *out.Notes, strings.Join(changed, ","), strings.Join(c, ","))
	}
	for _, tc := range []struct {
		name    string
		choices []FieldChoice
		want    string
	}{
		{"the rule", nil, "Ana Pérez ana@example.com +50761234567 8-123-4567 es first | phone,document_type,document_number,document_check_digit,birth_date,notes | " +
			"FIRST_NAME→s,LAST_NAME→s,EMAIL→s,PHONE→m1,PREFERRED_LANGUAGE→s,NOTES→m1"},
		{"choices", []FieldChoice{{MergeFirstName, m2.ID}, {MergePhone, m2.ID}, {MergeEmail, m2.ID}, {MergeNotes, m2.ID}},
			"Ana María Pérez - +50769999999 8-123-4567 es second | first_name,email,phone,document_type,document_number,document_check_digit,birth_date,notes | " +
				"FIRST_NAME→m2,LAST_NAME→s,EMAIL→m2,PHONE→m2,PREFERRED_LANGUAGE→s,NOTES→m2"},
		{"choosing the survivor keeps its value", []FieldChoice{{MergeLastName, s.ID}},
			"Ana Pérez ana@example.com +50761234567 8-123-4567 es first | phone,document_type,document_number,document_check_digit,birth_date,notes | " +
				"FIRST_NAME→s,LAST_NAME→s,EMAIL→s,PHONE→m1,PREFERRED_LANGUAGE→s,NOTES→m1"},
	} {
		out, changed, conflicts := ResolveFields(s, []models.Customer{m1, m2}, tc.choices)
		if got := describe(out, changed, conflicts); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if s.Phone != nil || s.LastName != "Pérez" {
		t.Error("ResolveFields changed its argument")
	}
}

// fieldChoices: known fields, each once, of a customer of the merge.
func TestValidateChoices_RefusesUnknownRepeatedAndForeign(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	ids := []uuid.UUID{a, b}
	for _, tc := range []struct {
		choices []FieldChoice
		want    string
	}{
		{[]FieldChoice{{MergeEmail, b}, {MergeDocument, a}}, ""},
		{[]FieldChoice{{"SHOE_SIZE", b}}, "INVALID@fieldChoices.0.field"},
		{[]FieldChoice{{MergeEmail, b}, {MergeEmail, a}}, "INVALID@fieldChoices.1.field"},
		{[]FieldChoice{{MergeEmail, uuid.New()}}, "INVALID@fieldChoices.0.customerId"},
	} {
		got := ""
		if errs, ok := apperr.Of(ValidateChoices(tc.choices, ids, []string{"fieldChoices"})); ok {
			got = string(errs[0].Code) + "@" + strings.Join(errs[0].Field, ".")
		}
		if got != tc.want {
			t.Errorf("%v: %s, want %s", tc.choices, got, tc.want)
		}
	}
}
