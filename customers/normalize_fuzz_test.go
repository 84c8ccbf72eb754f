package customers

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"customerservice/models"
)

// Fuzz targets of the normalizers and validators of §2–§3. Each checks, for any input: no
// panic, and what is accepted is already normal (normalizing it again changes nothing). The
// committed corpus (testdata/fuzz) holds hostile inputs; CI runs each target briefly.

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@example.com", " Ana.Nunez@Example.COM ", "a@b.co", "Ana <ana@example.com>",
		`"a@b"@example.com`, "a@@example.com", "a@example..com", "a@.example.com", "ana@example.com.", "ñandú@correo.pa",
		"a\x00@example.com", strings.Repeat("a", 250) + "@example.com", "@example.com", "a@localhost"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, ok := NormalizeEmail(raw)
		if !ok {
			if e != "" {
				t.Fatalf("rejected %q but returned %q", raw, e)
			}
			return
		}
		if e == "" || len(e) > 255 || e != strings.ToLower(e) || e != strings.TrimSpace(e) || strings.Count(e, "@") < 1 {
			t.Fatalf("%q normalized to %q: not a trimmed, lower-case address of at most 255 bytes", raw, e)
		}
		if again, ok := NormalizeEmail(e); !ok || again != e {
			t.Fatalf("%q normalized to %q, which normalizes to %q (ok %v)", raw, e, again, ok)
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range [][2]string{{"6987-6543", "PA"}, {"+507 6987 6543", ""}, {"(212) 555-0123", "US"},
		{"+1 212 555 0123", "PA"}, {"00507 6987 6543", "PA"}, {"6987-6543", "pa"}, {"6987-6543", "XX"},
		{"+", "PA"}, {"++5076987", "PA"}, {"6987-6543 ext. 12", "PA"}, {"٦٩٨٧٦٥٤٣", "PA"}, {"tel:+507-6987-6543", "PA"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		p, ok := NormalizePhone(raw, region)
		if !ok {
			return
		}
		if !e164.MatchString(p) {
			t.Fatalf("%q (%s) normalized to %q: not E.164", raw, region, p)
		}
		// E.164 carries its country: any region reads it the same.
		for _, r := range []string{region, DefaultRegion, "US"} {
			if again, ok := NormalizePhone(p, r); !ok || again != p {
				t.Fatalf("%q normalized to %q, which normalizes to %q in %s (ok %v)", raw, p, again, r, ok)
			}
		}
	})
}

func FuzzNormalizeDocumentNumber(f *testing.F) {
	for _, s := range []string{"8-123-4567", " pe-12-345 ", "ñ-1", "ß-ǆ-ﬀ", "\t\n", "E-8-123456", "N-19-1234", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n := normalizeDocumentNumber(raw)
		if n != strings.TrimSpace(n) || n != strings.ToUpper(n) {
			t.Fatalf("%q normalized to %q: not trimmed and upper-cased", raw, n)
		}
		if again := normalizeDocumentNumber(n); again != n {
			t.Fatalf("%q normalized to %q, then to %q", raw, n, again)
		}
	})
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2,3}$`)

func FuzzCountryCode(f *testing.F) {
	for _, s := range []string{"PA", "pa", " pan ", "USA", "XK", "AN", "", "P", "PANA", "ÅL", "p\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var k checker
		c, ok := k.country(&raw)
		if ok != (len(k.errs) == 0) {
			t.Fatalf("%q: ok %v with %d errors", raw, ok, len(k.errs))
		}
		if !ok {
			return
		}
		if !countryPattern.MatchString(c) {
			t.Fatalf("%q accepted as %q", raw, c)
		}
		if again, ok := k.country(&c); !ok || again != c {
			t.Fatalf("%q accepted as %q, which reads as %q", raw, c, again)
		}
		if r := phoneRegion(c); !alpha2[r] {
			t.Fatalf("country %q has phone region %q, not an assigned alpha-2 code", c, r)
		}
	})
}

// The whole customer input: whatever is accepted is stored normalized, so validating the
// stored customer again changes nothing.
func FuzzCustomerInput(f *testing.F) {
	f.Add("Ana", "Núñez", " Ana@Example.com ", "6987-6543", uint8(0), "8-123-4567", "F", "es", "vip, vip ,nuevo", "notas", `{"source":"pos"}`)
	f.Add(" ", "x", "not-an-email", "123", uint8(9), "", "", "EN-us", ",,,", "", `[1,2]`)
	f.Add("Robert'); DROP TABLE customers;--", "\u202eevil", "a@b.co", "+1 212 555 0123", uint8(2), "  p-1  ", strings.Repeat("g", 30), "zh-Hant-TW", strings.Repeat("t,", 60), strings.Repeat("n", 10_001), `{"a":{"b":[null,true,1e400]}}`)
	f.Fuzz(func(t *testing.T, first, last, email, phone string, docType uint8, docNumber, gender, lang, tags, notes, metadata string) {
		docTypes := []models.DocumentType{models.DocumentTypeCedula, models.DocumentTypeRUC, models.DocumentTypePassport, models.DocumentTypeOther, "driver"}
		in := NewCustomer{FirstName: first, LastName: last, Email: &email, Phone: &phone, Gender: &gender, PreferredLanguage: &lang, Notes: &notes}
		if docNumber != "" {
			in.DocumentType, in.DocumentNumber = &docTypes[int(docType)%len(docTypes)], &docNumber
		}
		if tags != "" {
			in.Tags = strings.Split(tags, ",")
		}
		var m map[string]any
		if json.Unmarshal([]byte(metadata), &m) == nil {
			in.Metadata = m
		}
		c := newCustomerRow()
		if _, err := in.changes().applyTo(&c); err != nil {
			return
		}
		for _, s := range []string{c.FirstName, c.LastName} {
			if s == "" || s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > maxNameLen {
				t.Fatalf("accepted name %q", s)
			}
		}
		if len(c.Tags) > maxTags {
			t.Fatalf("accepted %d tags", len(c.Tags))
		}
		if (c.DocumentType == nil) != (c.DocumentNumber == nil) {
			t.Fatalf("accepted a document type without a number or the reverse: %v %v", c.DocumentType, c.DocumentNumber)
		}
		stored := c
		again := CustomerChanges{
			CustomerType: To(&stored.CustomerType), FirstName: To(&stored.FirstName), LastName: To(&stored.LastName),
			Email: To(stored.Email), Phone: To(stored.Phone), DocumentType: To(stored.DocumentType),
			DocumentNumber: To(stored.DocumentNumber), BirthDate: To(stored.BirthDate), Gender: To(stored.Gender),
			PreferredLanguage: To(&stored.PreferredLanguage), MarketingConsent: To(&stored.MarketingConsent),
			Tags: To(stored.Tags), Metadata: To(stored.Metadata), Notes: To(stored.Notes),
		}
		changed, err := again.applyTo(&c)
		if err != nil || len(changed) > 0 {
			t.Fatalf("the stored customer does not validate to itself: changed %v, err %v\n%+v", changed, err, stored)
		}
	})
}
