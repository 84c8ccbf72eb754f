package customers

import (
	"slices"
	"testing"

	"customerservice/apperr"
	"customerservice/models"
)

func TestCountryCode_AcceptsOnlyAssignedISO3166Codes(t *testing.T) {
	if len(alpha2) != 249 || len(alpha3To2) != 249 {
		t.Fatalf("tables hold %d alpha-2 and %d alpha-3 codes, want 249 each", len(alpha2), len(alpha3To2))
	}
	for _, tc := range []struct {
		in   string
		want string // "" when invalid
	}{
		{"PA", "PA"}, {"pa", "PA"}, {" pan ", "PAN"}, {"US", "US"}, {"USA", "USA"}, {"CW", "CW"},
		{"SS", "SS"}, {"GBR", "GBR"}, {"deu", "DEU"},
		{"", ""}, {"P", ""}, {"PANA", ""}, {"XX", ""}, {"ZZZ", ""}, {"UK", ""}, // UK is reserved, GB is assigned
		{"AN", ""}, {"ANT", ""}, {"YU", ""}, {"SU", ""}, {"XK", ""}, {"EU", ""}, {"P1", ""},
	} {
		var k checker
		got, ok := k.country(&tc.in)
		if tc.want == "" {
			if ok || len(k.errs) != 1 || k.errs[0].Code != apperr.Invalid || !slices.Equal(k.errs[0].Field, []string{"country"}) {
				t.Errorf("country(%q) = %q, %v, %v; want INVALID on input.country", tc.in, got, ok, k.errs)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("country(%q) = %q, %v, %v; want %q", tc.in, got, ok, k.errs, tc.want)
		}
	}
}

func TestPhoneRegion_IsTheAddressCountryAsAlpha2(t *testing.T) {
	for in, want := range map[string]string{"PA": "PA", "PAN": "PA", "US": "US", "USA": "US", "CRI": "CR", "": "PA"} {
		if got := phoneRegion(in); got != want {
			t.Errorf("phoneRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

// The document type and number are given together or not at all (§3); in an update a null
// on either side clears both, and one side alone changes it next to the stored other side,
// the number read by the rule of the resulting type (§10) and stored canonical, a RUC's
// check digit apart.
func TestCustomerChanges_DocumentTypeAndNumberGoTogether(t *testing.T) {
	cedula, passport, ruc := models.DocumentTypeCedula, models.DocumentTypePassport, models.DocumentTypeRUC
	str := func(s string) *string { return &s }
	type doc struct {
		typ *models.DocumentType
		num *string
		dv  *string
	}
	for _, tc := range []struct {
		name      string
		stored    doc
		ch        CustomerChanges
		want      doc
		wantField string // the INVALID field; "" when valid
		changed   []string
	}{
		{"both given", doc{}, CustomerChanges{DocumentType: To(&passport), DocumentNumber: To(str(" ab123 "))},
			doc{&passport, str("AB123"), nil}, "", []string{"document_type", "document_number"}},
		{"type alone on none stored", doc{}, CustomerChanges{DocumentType: To(&cedula)}, doc{}, "documentNumber", nil},
		{"number alone on none stored", doc{}, CustomerChanges{DocumentNumber: To(str("8-1-1"))}, doc{}, "documentType", nil},
		{"number alone keeps stored type", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{DocumentNumber: To(str("8-2-2"))},
			doc{&cedula, str("8-2-2"), nil}, "", []string{"document_number"}},
		{"type alone keeps stored number", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{DocumentType: To(&ruc)},
			doc{&ruc, str("8-1-1"), nil}, "", []string{"document_type"}},
		{"type alone re-reads the stored number", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{DocumentType: To(&passport)},
			doc{}, "documentNumber", nil},
		{"type alone makes an old spelling canonical", doc{&cedula, str("8-0001-0001"), nil}, CustomerChanges{DocumentType: To(&cedula)},
			doc{&cedula, str("8-1-1"), nil}, "", []string{"document_number"}},
		{"number stored canonical", doc{}, CustomerChanges{DocumentType: To(&cedula), DocumentNumber: To(str("8-0123-004567"))},
			doc{&cedula, str("8-123-4567"), nil}, "", []string{"document_type", "document_number"}},
		{"invalid cédula", doc{}, CustomerChanges{DocumentType: To(&cedula), DocumentNumber: To(str("HELLO-WORLD"))},
			doc{}, "documentNumber", nil},
		{"RUC check digit kept apart", doc{}, CustomerChanges{DocumentType: To(&ruc), DocumentNumber: To(str("253-92-57027 DV 76"))},
			doc{&ruc, str("253-92-57027"), str("76")}, "", []string{"document_type", "document_number", "document_check_digit"}},
		{"RUC wrong check digit", doc{}, CustomerChanges{DocumentType: To(&ruc), DocumentNumber: To(str("253-92-57027 DV 23"))},
			doc{}, "documentNumber", nil},
		{"same RUC without its check digit drops it", doc{&ruc, str("253-92-57027"), str("76")},
			CustomerChanges{DocumentNumber: To(str("253-92-57027"))}, doc{&ruc, str("253-92-57027"), nil}, "", []string{"document_check_digit"}},
		{"null number clears the check digit", doc{&ruc, str("253-92-57027"), str("76")}, CustomerChanges{DocumentNumber: To[*string](nil)},
			doc{}, "", []string{"document_type", "document_number", "document_check_digit"}},
		{"null type clears both", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{DocumentType: To[*models.DocumentType](nil)},
			doc{}, "", []string{"document_type", "document_number"}},
		{"null number clears both", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{DocumentNumber: To[*string](nil)},
			doc{}, "", []string{"document_type", "document_number"}},
		{"null type with a number", doc{&cedula, str("8-1-1"), nil},
			CustomerChanges{DocumentType: To[*models.DocumentType](nil), DocumentNumber: To(str("9"))}, doc{}, "documentType", nil},
		{"blank number", doc{}, CustomerChanges{DocumentType: To(&cedula), DocumentNumber: To(str("   "))}, doc{}, "documentNumber", nil},
		{"neither given keeps", doc{&cedula, str("8-1-1"), nil}, CustomerChanges{}, doc{&cedula, str("8-1-1"), nil}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := models.Customer{DocumentType: tc.stored.typ, DocumentNumber: tc.stored.num, DocumentCheckDigit: tc.stored.dv}
			changed, err := tc.ch.applyTo(&c)
			if tc.wantField != "" {
				errs, _ := apperr.Of(err)
				if len(errs) != 1 || errs[0].Code != apperr.Invalid || !slices.Equal(errs[0].Field, []string{tc.wantField}) {
					t.Fatalf("err = %v, want INVALID on input.%s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !eqPtr(c.DocumentType, tc.want.typ) || !eqPtr(c.DocumentNumber, tc.want.num) || !eqPtr(c.DocumentCheckDigit, tc.want.dv) ||
				!slices.Equal(changed, tc.changed) {
				t.Fatalf("got %v %v %v changed %v; want %v %v %v changed %v", c.DocumentType, c.DocumentNumber, c.DocumentCheckDigit, changed,
					tc.want.typ, tc.want.num, tc.want.dv, tc.changed)
			}
		})
	}
}

func TestCustomerChanges_MetadataWithEqualNumbersIsUnchanged(t *testing.T) {
	// The request carries json.Number, the database float64; equal values are no change.
	c := models.Customer{Metadata: map[string]any{"n": float64(1), "s": "x"}}
	changed, err := CustomerChanges{Metadata: To(map[string]any{"s": "x", "n": 1})}.applyTo(&c)
	if err != nil || len(changed) != 0 {
		t.Fatalf("changed %v, err %v; want no change", changed, err)
	}
}
