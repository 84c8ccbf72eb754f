// Package documents owns the rules of the identity documents of a customer (§10): what a
// cédula, a RUC, a passport and any other document look like, their canonical stored form
// and the check digit of a legal person's RUC. It knows nothing of storage: the customers
// service and the import both call Parse, so the API and a CSV row are validated alike.
package documents

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"customerservice/models"
)

// Document is a parsed document in its canonical form.
type Document struct {
	Type   models.DocumentType
	Number string // canonical: what is stored, compared for uniqueness and looked up
	// CheckDigit is a RUC's verification digits (DV), two digits ("76", "09"), or "" when
	// none was given; kept apart from Number (§10: uniqueness ignores it).
	CheckDigit string
	// LegalPerson is a RUC of a legal person (its check digit was verified when given).
	LegalPerson bool
}

// Limits of §10.
const (
	MinPassportLen = 5
	MaxPassportLen = 20
	MaxOtherLen    = 50
)

// ErrInvalid is the class of every refusal of Parse (errors.Is); the refusal itself is an
// *InvalidError that says which rule.
var ErrInvalid = errors.New("invalid document")

// InvalidError is a refusal of Parse: Reason says, in words a person can act on, which
// rule the number breaks.
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return "invalid document: " + e.Reason }

// Is makes every InvalidError an ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

var (
	// §10: a province 1–13 optionally followed by AV or PI, or PE, E, N; a book of 1–4
	// digits and an entry of 1–6.
	cedulaPattern = regexp.MustCompile(`^(PE|E|N|(?:1[0-3]|[1-9])(?:AV|PI)?)-([0-9]{1,4})-([0-9]{1,6})$`)
	// §10: a legal person's RUC.
	legalRUCPattern = regexp.MustCompile(`^([0-9]{1,10})-([0-9]{1,4})-([0-9]{1,6})$`)
	// A check-digit suffix: "DV 76", "D.V. 9", "DV76" (spaces already removed).
	checkDigitSuffix = regexp.MustCompile(`^(.*?)D\.?V\.?([0-9]{1,2})$`)
	passportPattern  = regexp.MustCompile(`^[A-Z0-9]+$`)
)

// Parse validates raw as a document of type t and returns its canonical form. Any error
// wraps ErrInvalid and says, in words a person can act on, what is wrong.
func Parse(t models.DocumentType, raw string) (Document, error) {
	switch t {
	case models.DocumentTypeCedula:
		n, err := cedula(compact(raw))
		return Document{Type: t, Number: n}, err
	case models.DocumentTypeRUC:
		return ruc(compact(raw))
	case models.DocumentTypePassport:
		s := strings.ToUpper(strings.TrimSpace(raw))
		if l := len(s); !passportPattern.MatchString(s) || l < MinPassportLen || l > MaxPassportLen {
			return Document{}, invalid("a passport number is %d–%d letters or digits", MinPassportLen, MaxPassportLen)
		}
		return Document{Type: t, Number: s}, nil
	case models.DocumentTypeOther:
		s := strings.ToUpper(strings.TrimSpace(raw))
		n := utf8.RuneCountInString(s)
		if n == 0 || n > MaxOtherLen {
			return Document{}, invalid("a document number is 1–%d characters", MaxOtherLen)
		}
		for _, r := range s {
			if !unicode.IsPrint(r) {
				return Document{}, invalid("a document number holds printable characters only")
			}
		}
		return Document{Type: t, Number: s}, nil
	}
	return Document{}, invalid("unknown document type %q", string(t))
}

// compact is the cédula and RUC spelling the patterns read: upper-case, no spaces.
func compact(raw string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, raw)
}

// cedula is the canonical cédula: book and entry without leading zeros
// (8-0123-004567 → 8-123-4567).
func cedula(s string) (string, error) {
	m := cedulaPattern.FindStringSubmatch(s)
	if m == nil {
		return "", invalid("a cédula is a province (1–13, optionally followed by AV or PI; or PE, E, N), a book of 1–4 digits and an entry of 1–6 digits, such as 8-123-4567")
	}
	return m[1] + "-" + noLeadingZeros(m[2]) + "-" + noLeadingZeros(m[3]), nil
}

// ruc is a natural person's RUC (a cédula) or a legal person's, with an optional check
// digit, verified for a legal person (§10).
func ruc(s string) (Document, error) {
	d := Document{Type: models.DocumentTypeRUC}
	if m := checkDigitSuffix.FindStringSubmatch(s); m != nil {
		s = m[1]
		d.CheckDigit = fmt.Sprintf("%02s", m[2])
	}
	if n, err := cedula(s); err == nil {
		d.Number = n
		return d, nil
	}
	m := legalRUCPattern.FindStringSubmatch(s)
	if m == nil {
		return Document{}, invalid("a RUC is a cédula (8-123-4567) or a legal person's number of 1–10, 1–4 and 1–6 digits (253-92-57027), optionally followed by its check digit (DV 76)")
	}
	d.LegalPerson = true
	d.Number = noLeadingZeros(m[1]) + "-" + noLeadingZeros(m[2]) + "-" + noLeadingZeros(m[3])
	if d.CheckDigit != "" {
		want := LegalRUCCheckDigit(m[1], m[2], m[3])
		if d.CheckDigit != want {
			return Document{}, invalid("the check digit (DV) %s does not match the RUC", d.CheckDigit)
		}
	}
	return d, nil
}

func noLeadingZeros(digits string) string {
	if t := strings.TrimLeft(digits, "0"); t != "" {
		return t
	}
	return "0"
}

// oldRUCCodes re-codes two digits of an old legal person's RUC before its check digit is
// computed: the DGI's table, as python-stdnum's stdnum/pa/ruc.py documents it.
var oldRUCCodes = map[string]string{
	"00": "00", "10": "01", "11": "02", "12": "03", "13": "04", "14": "05", "15": "06", "16": "07",
	"17": "08", "18": "09", "19": "01", "20": "02", "21": "03", "22": "04", "23": "07", "24": "08",
	"25": "09", "26": "02", "27": "03", "28": "04", "29": "05", "30": "06", "31": "07", "32": "08",
	"33": "09", "34": "01", "35": "02", "36": "03", "37": "04", "38": "05", "39": "06", "40": "07",
	"41": "08", "42": "09", "43": "01", "44": "02", "45": "03", "46": "04", "47": "05", "48": "06",
	"49": "07",
}

// LegalRUCCheckDigit is the two-digit DV of a legal person's RUC (the DGI's algorithm): the
// parts padded to 10, 4 and 6 digits; a modulo-11 digit over them, then another over them
// followed by the first.
func LegalRUCCheckDigit(a, b, c string) string {
	n := pad(a, 10) + pad(b, 4) + pad(c, 6)
	old := false
	switch n[3:6] {
	case "000", "001", "002", "003", "004":
		old = true
		if code, ok := oldRUCCodes[n[5:7]]; ok {
			n = n[:5] + code + n[7:]
		}
	}
	dv1 := mod11(n, old)
	dv2 := mod11(n+dv1, old)
	return dv1 + dv2
}

func pad(digits string, width int) string {
	return strings.Repeat("0", max(0, width-len(digits))) + digits
}

// mod11 weighs the digits from the right by 2, 3, 4, … (an old RUC: 2 … 11, then 11, 12, …,
// the weight 11 twice) and answers 11 − (sum mod 11), or 0 when the remainder is 0 or 1.
func mod11(digits string, old bool) string {
	sum := 0
	for i := range len(digits) {
		w := i + 2 // i counts from the right
		if old && i >= 10 {
			w = i + 1
		}
		sum += int(digits[len(digits)-1-i]-'0') * w
	}
	if r := sum % 11; r > 1 {
		return fmt.Sprint(11 - r)
	}
	return "0"
}
