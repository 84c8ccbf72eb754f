package documents

import (
	"errors"
	"testing"

	"customerservice/models"
)

// §10's rules, each bad input it names among the cases.
func TestParse(t *testing.T) {
	const (
		ced   = models.DocumentTypeCedula
		ruc   = models.DocumentTypeRUC
		pass  = models.DocumentTypePassport
		other = models.DocumentTypeOther
	)
	tests := []struct {
		name  string
		typ   models.DocumentType
		raw   string
		want  Document // zero: invalid
		valid bool
	}{
		{"cédula canonical", ced, "8-123-4567", Document{Type: ced, Number: "8-123-4567"}, true},
		{"cédula leading zeros dropped", ced, "8-0123-004567", Document{Type: ced, Number: "8-123-4567"}, true},
		{"cédula spaces removed, lower-case", ced, " pe - 12 - 345 ", Document{Type: ced, Number: "PE-12-345"}, true},
		{"cédula province 13", ced, "13-1-1", Document{Type: ced, Number: "13-1-1"}, true},
		{"cédula AV", ced, "1AV-12-34", Document{Type: ced, Number: "1AV-12-34"}, true},
		{"cédula PI", ced, "10pi-1-1", Document{Type: ced, Number: "10PI-1-1"}, true},
		{"cédula E", ced, "E-8-12345", Document{Type: ced, Number: "E-8-12345"}, true},
		{"cédula N", ced, "N-19-1234", Document{Type: ced, Number: "N-19-1234"}, true},
		{"cédula all-zero book", ced, "8-0000-1", Document{Type: ced, Number: "8-0-1"}, true},
		{"cédula longest parts", ced, "8-1234-123456", Document{Type: ced, Number: "8-1234-123456"}, true},
		{"cédula four parts", ced, "1-2-3-4", Document{}, false},
		{"cédula province 14", ced, "14-1-1", Document{}, false},
		{"cédula HELLO", ced, "HELLO", Document{}, false},
		{"cédula HELLO-WORLD", ced, "HELLO-WORLD", Document{}, false},
		{"cédula province 0", ced, "0-1-1", Document{}, false},
		{"cédula province 08", ced, "08-1-1", Document{}, false},
		{"cédula book of 5 digits", ced, "8-12345-1", Document{}, false},
		{"cédula entry of 7 digits", ced, "8-1-1234567", Document{}, false},
		{"cédula empty", ced, "", Document{}, false},
		{"cédula empty book", ced, "8--1", Document{}, false},
		{"cédula PEAV", ced, "PEAV-1-1", Document{}, false},
		{"cédula with a DV", ced, "8-123-4567 DV 12", Document{}, false},
		{"cédula non-ASCII digits", ced, "8-١٢٣-4567", Document{}, false},

		{"RUC natural person", ruc, "8-0123-004567", Document{Type: ruc, Number: "8-123-4567"}, true},
		{"RUC natural person with DV kept", ruc, "8-123-4567 DV 5", Document{Type: ruc, Number: "8-123-4567", CheckDigit: "05"}, true},
		{"RUC legal DV 76", ruc, "253-92-57027 DV 76", Document{Type: ruc, Number: "253-92-57027", CheckDigit: "76", LegalPerson: true}, true},
		{"RUC legal DV76", ruc, "253-92-57027DV76", Document{Type: ruc, Number: "253-92-57027", CheckDigit: "76", LegalPerson: true}, true},
		{"RUC legal padded with DV", ruc, "0000000253-0092-057027 dv 76", Document{Type: ruc, Number: "253-92-57027", CheckDigit: "76", LegalPerson: true}, true},
		{"RUC legal D.V. 9", ruc, "155587169-2-2014 D.V. 9", Document{Type: ruc, Number: "155587169-2-2014", CheckDigit: "09", LegalPerson: true}, true},
		{"RUC legal D.V. 9 many spaces", ruc, "155587169-2-2014    D.V. 9", Document{Type: ruc, Number: "155587169-2-2014", CheckDigit: "09", LegalPerson: true}, true},
		{"RUC legal without DV", ruc, "253-92-57027", Document{Type: ruc, Number: "253-92-57027", LegalPerson: true}, true},
		{"RUC legal wrong DV 23", ruc, "253-92-57027 DV 23", Document{}, false},
		{"RUC legal wrong DV 8", ruc, "155587169-2-2014 DV 8", Document{}, false},
		{"RUC XYZ", ruc, "XYZ", Document{}, false},
		{"RUC 11-digit first part", ruc, "12345678901-1-1", Document{}, false},
		{"RUC four parts", ruc, "1-2-3-4", Document{}, false},
		{"RUC DV of 3 digits", ruc, "253-92-57027 DV 761", Document{}, false},
		{"RUC DV alone", ruc, "DV 76", Document{}, false},
		{"RUC empty", ruc, "", Document{}, false},

		{"passport upper-cased", pass, " ab12345 ", Document{Type: pass, Number: "AB12345"}, true},
		{"passport 5", pass, "A1234", Document{Type: pass, Number: "A1234"}, true},
		{"passport 20", pass, "ABCDEFGHIJ0123456789", Document{Type: pass, Number: "ABCDEFGHIJ0123456789"}, true},
		{"passport 4", pass, "A123", Document{}, false},
		{"passport 21", pass, "ABCDEFGHIJ01234567890", Document{}, false},
		{"passport hyphen", pass, "AB-12345", Document{}, false},
		{"passport inner space", pass, "AB 12345", Document{}, false},
		{"passport accent", pass, "ÁB12345", Document{}, false},

		{"other upper-cased", other, " lic-99 x ", Document{Type: other, Number: "LIC-99 X"}, true},
		{"other 50", other, "12345678901234567890123456789012345678901234567890", Document{Type: other, Number: "12345678901234567890123456789012345678901234567890"}, true},
		{"other 51", other, "123456789012345678901234567890123456789012345678901", Document{}, false},
		{"other blank", other, "   ", Document{}, false},
		{"other control", other, "A\x00B", Document{}, false},
		{"other newline", other, "A\nB", Document{}, false},
		{"other zero-width", other, "A\u200bB", Document{}, false},

		{"unknown type", models.DocumentType("license"), "123", Document{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.typ, tt.raw)
			if !tt.valid {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) = %+v, %v; want ErrInvalid", tt.raw, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
			}
		})
	}
}

// The vectors of python-stdnum's stdnum/pa/ruc.py.
func TestLegalRUCCheckDigit(t *testing.T) {
	for _, tt := range []struct{ a, b, c, want string }{
		{"253", "92", "57027", "76"},
		{"155587169", "2", "2014", "09"},
	} {
		if got := LegalRUCCheckDigit(tt.a, tt.b, tt.c); got != tt.want {
			t.Errorf("LegalRUCCheckDigit(%s-%s-%s) = %s, want %s", tt.a, tt.b, tt.c, got, tt.want)
		}
	}
}
