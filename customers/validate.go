package customers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"customerservice/apperr"
	"customerservice/documents"
	"customerservice/models"
)

// The validation and normalization of §3. Every rule reports an INVALID user error on the
// input path of its field, and all the invalid fields of one input are reported together.

// Patch is one field of an update: Set false keeps the stored value; Set with a nil Value
// clears it (§8: omitted fields keep their value, fields given as null are cleared).
type Patch[T any] struct {
	Set   bool
	Value T
}

// To is a patch that sets the field to v.
func To[T any](v T) Patch[T] { return Patch[T]{Set: true, Value: v} }

// NewCustomer is the input of Create. Nil pointers are values not given.
type NewCustomer struct {
	CustomerType      *models.CustomerType // b2c when nil
	FirstName         string
	LastName          string
	Email             *string
	Phone             *string
	DocumentType      *models.DocumentType
	DocumentNumber    *string
	BirthDate         *time.Time
	Gender            *string
	PreferredLanguage *string // "es" when nil
	MarketingConsent  *bool
	Tags              []string
	Metadata          map[string]any
	Notes             *string
	// ExternalID is the customer's key in the system a CSV import comes from (§10, Import):
	// 1–100 characters, unique in the organization. The API does not set it.
	ExternalID *string
}

// MaxExternalID is the length of customers.external_id.
const MaxExternalID = 100

// CustomerChanges is the input of Update.
type CustomerChanges struct {
	CustomerType      Patch[*models.CustomerType]
	FirstName         Patch[*string]
	LastName          Patch[*string]
	Email             Patch[*string]
	Phone             Patch[*string]
	DocumentType      Patch[*models.DocumentType]
	DocumentNumber    Patch[*string]
	BirthDate         Patch[*time.Time]
	Gender            Patch[*string]
	PreferredLanguage Patch[*string]
	MarketingConsent  Patch[*bool]
	Tags              Patch[[]string]
	Metadata          Patch[map[string]any]
	Notes             Patch[*string]
}

// changes is a new customer as changes to an empty one, so creation and update share one
// set of rules.
func (n NewCustomer) changes() CustomerChanges {
	ch := CustomerChanges{
		FirstName:      To(&n.FirstName),
		LastName:       To(&n.LastName),
		Email:          given(n.Email),
		Phone:          given(n.Phone),
		DocumentType:   given(n.DocumentType),
		DocumentNumber: given(n.DocumentNumber),
		BirthDate:      given(n.BirthDate),
		Gender:         given(n.Gender),
		Notes:          given(n.Notes),
		// Absent and null mean the default here, as for the other optional fields.
		CustomerType:      given(n.CustomerType),
		PreferredLanguage: given(n.PreferredLanguage),
		MarketingConsent:  given(n.MarketingConsent),
	}
	if n.Tags != nil {
		ch.Tags = To(n.Tags)
	}
	if n.Metadata != nil {
		ch.Metadata = To(n.Metadata)
	}
	return ch
}

// newCustomerRow is a customer with the defaults of §2, before any input is applied.
func newCustomerRow() models.Customer {
	return models.Customer{
		CustomerType:      models.CustomerTypeB2C,
		Status:            models.CustomerStatusActive,
		PreferredLanguage: "es",
		Tags:              []string{},
		Metadata:          map[string]any{},
	}
}

func given[T any](v *T) Patch[*T] {
	if v == nil {
		return Patch[*T]{}
	}
	return To(v)
}

// Limits of §3.
const (
	maxNameLen           = 100
	maxDocumentNumberLen = 50
	maxGenderLen         = 20
	maxLanguageLen       = 10
	maxTags              = 50
	maxTagLen            = 255
	maxMetadataBytes     = 16 * 1024
	maxNotesLen          = 10_000
	maxStatusReasonLen   = 500

	maxAddressLineLen = 255
	maxRecipientLen   = 255
	maxCityLen        = 100
	maxStateLen       = 100
	maxPostalCodeLen  = 20
	defaultCountry    = "PA"
	minBirthDate      = "1900-01-01"
)

// A plausible BCP 47 tag: a primary language subtag and optional subtags (es, en-US, zh-Hant-TW).
var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

var minBirthDateTime, _ = time.Parse(time.DateOnly, minBirthDate)

// checker collects the invalid fields of one input.
type checker struct{ errs apperr.List }

func (k *checker) invalid(field []string, format string, args ...any) {
	k.errs = append(k.errs, apperr.OnField(apperr.Invalid, field, format, args...))
}

func (k *checker) err() error { return k.errs.Err() }

// required trims a required text field and checks its length; ok is false when invalid.
func (k *checker) required(field []string, p *string, max int) (string, bool) {
	if p == nil {
		k.invalid(field, "cannot be null")
		return "", false
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		k.invalid(field, "cannot be empty")
		return "", false
	}
	if n := utf8.RuneCountInString(s); n > max {
		k.invalid(field, "must be at most %d characters (got %d)", max, n)
		return "", false
	}
	return s, true
}

// optional trims an optional text field: nil or blank clears it.
func (k *checker) optional(field []string, p *string, max int) (*string, bool) {
	if p == nil {
		return nil, true
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil, true
	}
	if n := utf8.RuneCountInString(s); n > max {
		k.invalid(field, "must be at most %d characters (got %d)", max, n)
		return nil, false
	}
	return &s, true
}

// applyTo validates and normalizes the changes onto c. It returns the columns whose value
// changed, or every invalid field of the input. The document pair is checked against what
// c already holds, so a number can change without repeating its type.
func (ch CustomerChanges) applyTo(c *models.Customer) ([]string, error) {
	var k checker
	var changed []string
	set := func(column string, differs bool, apply func()) {
		if differs {
			apply()
			changed = append(changed, column)
		}
	}

	if ch.CustomerType.Set {
		switch t := ch.CustomerType.Value; {
		case t == nil:
			k.invalid([]string{"customerType"}, "cannot be null")
		case *t != models.CustomerTypeB2C && *t != models.CustomerTypeB2B:
			k.invalid([]string{"customerType"}, "must be B2C or B2B")
		default:
			set("customer_type", *t != c.CustomerType, func() { c.CustomerType = *t })
		}
	}
	if ch.FirstName.Set {
		if s, ok := k.required([]string{"firstName"}, ch.FirstName.Value, maxNameLen); ok {
			set("first_name", s != c.FirstName, func() { c.FirstName = s })
		}
	}
	if ch.LastName.Set {
		if s, ok := k.required([]string{"lastName"}, ch.LastName.Value, maxNameLen); ok {
			set("last_name", s != c.LastName, func() { c.LastName = s })
		}
	}
	if ch.Email.Set {
		if v, ok := k.email(ch.Email.Value); ok {
			set("email", !eqPtr(v, c.Email), func() { c.Email = v })
		}
	}
	if ch.Phone.Set {
		if v, ok := k.phone([]string{"phone"}, ch.Phone.Value, DefaultRegion); ok {
			set("phone", !eqPtr(v, c.Phone), func() { c.Phone = v })
		}
	}
	if typ, num, dv, ok := k.document(ch, c.DocumentType, c.DocumentNumber); ok {
		set("document_type", !eqPtr(typ, c.DocumentType), func() { c.DocumentType = typ })
		set("document_number", !eqPtr(num, c.DocumentNumber), func() { c.DocumentNumber = num })
		set("document_check_digit", !eqPtr(dv, c.DocumentCheckDigit), func() { c.DocumentCheckDigit = dv })
	}
	if ch.BirthDate.Set {
		if v, ok := k.birthDate(ch.BirthDate.Value); ok {
			set("birth_date", !eqDate(v, c.BirthDate), func() { c.BirthDate = v })
		}
	}
	if ch.Gender.Set {
		if v, ok := k.optional([]string{"gender"}, ch.Gender.Value, maxGenderLen); ok {
			set("gender", !eqPtr(v, c.Gender), func() { c.Gender = v })
		}
	}
	if ch.PreferredLanguage.Set {
		if v, ok := k.language(ch.PreferredLanguage.Value); ok {
			set("preferred_language", v != c.PreferredLanguage, func() { c.PreferredLanguage = v })
		}
	}
	if ch.MarketingConsent.Set {
		if v := ch.MarketingConsent.Value; v == nil {
			k.invalid([]string{"marketingConsent"}, "cannot be null")
		} else {
			set("marketing_consent", *v != c.MarketingConsent, func() { c.MarketingConsent = *v })
		}
	}
	if ch.Tags.Set {
		if v, ok := k.tags(ch.Tags.Value); ok {
			set("tags", !slices.Equal(v, c.Tags), func() { c.Tags = v })
		}
	}
	if ch.Metadata.Set {
		if v, ok := k.metadata(ch.Metadata.Value); ok {
			set("metadata", !sameJSON(v, c.Metadata), func() { c.Metadata = v })
		}
	}
	if ch.Notes.Set {
		if v, ok := k.optional([]string{"notes"}, ch.Notes.Value, maxNotesLen); ok {
			set("notes", !eqPtr(v, c.Notes), func() { c.Notes = v })
		}
	}
	if err := k.err(); err != nil {
		return nil, err
	}
	return changed, nil
}

// email normalizes an email (§2: trimmed, lower-cased); nil clears it.
func (k *checker) email(p *string) (*string, bool) {
	if p == nil {
		return nil, true
	}
	e, ok := NormalizeEmail(*p)
	if !ok {
		k.invalid([]string{"email"}, "is not a valid email address")
		return nil, false
	}
	return &e, true
}

// phone parses a phone to E.164 (§2), reading a local number in region; nil clears it.
func (k *checker) phone(field []string, p *string, region string) (*string, bool) {
	if p == nil {
		return nil, true
	}
	e, ok := NormalizePhone(*p, region)
	if !ok {
		k.invalid(field, "is not a valid phone number (a local number is read in region %s)", region)
		return nil, false
	}
	return &e, true
}

// document applies the document type and number to the stored pair: given together or not
// at all (§3), null on either clearing both. The number is read by its type's rule (§10,
// package documents) and kept canonical, with a RUC's check digit apart: a changed type
// re-reads the stored number, a changed number is read with the stored type.
func (k *checker) document(ch CustomerChanges, typ *models.DocumentType, num *string) (*models.DocumentType, *string, *string, bool) {
	if !ch.DocumentType.Set && !ch.DocumentNumber.Set {
		return nil, nil, nil, false
	}
	ok := true
	if ch.DocumentType.Set {
		typ = ch.DocumentType.Value
		if typ != nil && !validDocumentType(*typ) {
			k.invalid([]string{"documentType"}, "must be CEDULA, RUC, PASSPORT or OTHER")
			ok = false
		}
	}
	if ch.DocumentNumber.Set {
		num = nil
		if p := ch.DocumentNumber.Value; p != nil {
			n := strings.TrimSpace(*p)
			switch l := utf8.RuneCountInString(n); {
			case l == 0:
				k.invalid([]string{"documentNumber"}, "cannot be empty")
				ok = false
			case l > maxDocumentNumberLen:
				k.invalid([]string{"documentNumber"}, "must be at most %d characters (got %d)", maxDocumentNumberLen, l)
				ok = false
			}
			num = &n
		}
	}
	if !ok {
		return nil, nil, nil, false
	}
	typeCleared := ch.DocumentType.Set && ch.DocumentType.Value == nil
	numberCleared := ch.DocumentNumber.Set && ch.DocumentNumber.Value == nil
	// A null on one side alone clears the pair.
	if typeCleared && !ch.DocumentNumber.Set || numberCleared && !ch.DocumentType.Set {
		return nil, nil, nil, true
	}
	switch {
	case typ == nil && num != nil:
		k.invalid([]string{"documentType"}, "is required with documentNumber")
		return nil, nil, nil, false
	case typ != nil && num == nil:
		k.invalid([]string{"documentNumber"}, "is required with documentType")
		return nil, nil, nil, false
	case typ == nil:
		return nil, nil, nil, true
	}
	d, err := documents.Parse(*typ, *num)
	if err != nil {
		reason := "is not a valid document number"
		var bad *documents.InvalidError
		if errors.As(err, &bad) {
			reason = bad.Reason
		}
		k.invalid([]string{"documentNumber"}, "%s", reason)
		return nil, nil, nil, false
	}
	var dv *string
	if d.CheckDigit != "" {
		dv = &d.CheckDigit
	}
	return typ, &d.Number, dv, true
}

func validDocumentType(t models.DocumentType) bool {
	switch t {
	case models.DocumentTypeCedula, models.DocumentTypeRUC, models.DocumentTypePassport, models.DocumentTypeOther:
		return true
	}
	return false
}

// birthDate is in the past and after 1900-01-01 (§3); nil clears it.
func (k *checker) birthDate(p *time.Time) (*time.Time, bool) {
	if p == nil {
		return nil, true
	}
	d := time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case !d.After(minBirthDateTime):
		k.invalid([]string{"birthDate"}, "must be after %s", minBirthDate)
		return nil, false
	case !d.Before(today):
		k.invalid([]string{"birthDate"}, "must be in the past")
		return nil, false
	}
	return &d, true
}

// language is a plausible BCP 47 tag such as es or en-US.
func (k *checker) language(p *string) (string, bool) {
	field := []string{"preferredLanguage"}
	if p == nil {
		k.invalid(field, "cannot be null")
		return "", false
	}
	s := strings.TrimSpace(*p)
	if len(s) > maxLanguageLen || !languageTag.MatchString(s) {
		k.invalid(field, "must be a language tag such as es or en-US (at most %d characters)", maxLanguageLen)
		return "", false
	}
	return s, true
}

// tags trims each tag and drops repeats; nil clears them. Each tag is 1–255 characters, at
// most 50 of them (§3).
func (k *checker) tags(in []string) ([]string, bool) {
	field := []string{"tags"}
	if len(in) > maxTags {
		k.invalid(field, "must be at most %d tags (got %d)", maxTags, len(in))
		return nil, false
	}
	out := make([]string, 0, len(in))
	ok := true
	for i, raw := range in {
		at := append(slices.Clone(field), strconv.Itoa(i))
		t := strings.TrimSpace(raw)
		switch n := utf8.RuneCountInString(t); {
		case n == 0:
			k.invalid(at, "a tag cannot be empty")
			ok = false
		case n > maxTagLen:
			k.invalid(at, "a tag must be at most %d characters (got %d)", maxTagLen, n)
			ok = false
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out, ok
}

// metadata is a JSON object of at most 16 KB serialized (§3); nil clears it to {}.
func (k *checker) metadata(m map[string]any) (map[string]any, bool) {
	if m == nil {
		return map[string]any{}, true
	}
	b, err := json.Marshal(m)
	if err != nil {
		k.invalid([]string{"metadata"}, "must be a JSON object")
		return nil, false
	}
	if len(b) > maxMetadataBytes {
		k.invalid([]string{"metadata"}, "must be at most %d bytes as JSON (got %d)", maxMetadataBytes, len(b))
		return nil, false
	}
	return m, true
}

// statusReason is required to make a customer inactive or blocked, optional to make it
// active, and at most 500 characters.
func statusReason(status models.CustomerStatus, reason *string) (*string, error) {
	var k checker
	field := []string{"reason"}
	switch status {
	case models.CustomerStatusActive, models.CustomerStatusInactive, models.CustomerStatusBlocked:
	default:
		k.invalid([]string{"status"}, "must be ACTIVE, INACTIVE or BLOCKED")
		return nil, k.err()
	}
	r, _ := k.optional(field, reason, maxStatusReasonLen)
	if r == nil && len(k.errs) == 0 && status != models.CustomerStatusActive {
		k.invalid(field, "is required to make a customer %s", strings.ToUpper(string(status)))
	}
	return r, k.err()
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func eqDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Format(time.DateOnly) == b.Format(time.DateOnly)
}

// sameJSON compares two objects as JSON values: numbers read from the request and from the
// database have different Go types.
func sameJSON(a, b map[string]any) bool {
	return bytes.Equal(canonicalJSON(a), canonicalJSON(b))
}

func canonicalJSON(m map[string]any) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	out, _ := json.Marshal(v)
	return out
}

// AddressChanges is the input of UpdateAddress.
type AddressChanges struct {
	AddressType   Patch[*models.AddressType]
	RecipientName Patch[*string]
	AddressLine1  Patch[*string]
	AddressLine2  Patch[*string]
	City          Patch[*string]
	State         Patch[*string]
	PostalCode    Patch[*string]
	Country       Patch[*string]
	Phone         Patch[*string]
}

// NewAddress is the input of AddAddress. Nil pointers are values not given.
type NewAddress struct {
	AddressType   *models.AddressType // shipping when nil
	RecipientName *string
	AddressLine1  string
	AddressLine2  *string
	City          string
	State         *string
	PostalCode    *string
	Country       *string // PA when nil
	Phone         *string
	IsDefault     bool
}

func (n NewAddress) changes() AddressChanges {
	return AddressChanges{
		AddressType:   given(n.AddressType),
		RecipientName: given(n.RecipientName),
		AddressLine1:  To(&n.AddressLine1),
		AddressLine2:  given(n.AddressLine2),
		City:          To(&n.City),
		State:         given(n.State),
		PostalCode:    given(n.PostalCode),
		Country:       given(n.Country),
		Phone:         given(n.Phone),
	}
}

// newAddressRow is an address with the defaults of §2, before any input is applied.
func newAddressRow() models.Address {
	return models.Address{AddressType: models.AddressTypeShipping, Country: defaultCountry, IsActive: true}
}

// applyTo validates and normalizes the changes onto a, returning the columns whose value
// changed, or every invalid field of the input.
func (ch AddressChanges) applyTo(a *models.Address) ([]string, error) {
	var k checker
	var changed []string
	set := func(column string, differs bool, apply func()) {
		if differs {
			apply()
			changed = append(changed, column)
		}
	}
	if ch.AddressType.Set {
		switch t := ch.AddressType.Value; {
		case t == nil:
			k.invalid([]string{"addressType"}, "cannot be null")
		case *t != models.AddressTypeShipping && *t != models.AddressTypeBilling && *t != models.AddressTypeBoth:
			k.invalid([]string{"addressType"}, "must be SHIPPING, BILLING or BOTH")
		default:
			set("address_type", *t != a.AddressType, func() { a.AddressType = *t })
		}
	}
	if ch.RecipientName.Set {
		if v, ok := k.optional([]string{"recipientName"}, ch.RecipientName.Value, maxRecipientLen); ok {
			set("recipient_name", !eqPtr(v, a.RecipientName), func() { a.RecipientName = v })
		}
	}
	if ch.AddressLine1.Set {
		if v, ok := k.required([]string{"addressLine1"}, ch.AddressLine1.Value, maxAddressLineLen); ok {
			set("address_line1", v != a.AddressLine1, func() { a.AddressLine1 = v })
		}
	}
	if ch.AddressLine2.Set {
		if v, ok := k.optional([]string{"addressLine2"}, ch.AddressLine2.Value, maxAddressLineLen); ok {
			set("address_line2", !eqPtr(v, a.AddressLine2), func() { a.AddressLine2 = v })
		}
	}
	if ch.City.Set {
		if v, ok := k.required([]string{"city"}, ch.City.Value, maxCityLen); ok {
			set("city", v != a.City, func() { a.City = v })
		}
	}
	if ch.State.Set {
		if v, ok := k.optional([]string{"state"}, ch.State.Value, maxStateLen); ok {
			set("state", !eqPtr(v, a.State), func() { a.State = v })
		}
	}
	if ch.PostalCode.Set {
		if v, ok := k.optional([]string{"postalCode"}, ch.PostalCode.Value, maxPostalCodeLen); ok {
			set("postal_code", !eqPtr(v, a.PostalCode), func() { a.PostalCode = v })
		}
	}
	if ch.Country.Set {
		if v, ok := k.country(ch.Country.Value); ok {
			set("country", v != a.Country, func() { a.Country = v })
		}
	}
	if ch.Phone.Set {
		// §3: a local number is read in the address's country (the country as changed).
		if v, ok := k.phone([]string{"phone"}, ch.Phone.Value, phoneRegion(a.Country)); ok {
			set("phone", !eqPtr(v, a.Phone), func() { a.Phone = v })
		}
	}
	if err := k.err(); err != nil {
		return nil, err
	}
	return changed, nil
}

// country is an ISO 3166-1 alpha-2 or alpha-3 code, stored upper-cased.
func (k *checker) country(p *string) (string, bool) {
	field := []string{"country"}
	if p == nil {
		k.invalid(field, "cannot be null")
		return "", false
	}
	c := strings.ToUpper(strings.TrimSpace(*p))
	if !isCountryCode(c) {
		k.invalid(field, "must be an ISO 3166-1 alpha-2 or alpha-3 country code, such as PA or PAN")
		return "", false
	}
	return c, true
}

// phoneRegion is the phone region (alpha-2) of a valid country code.
func phoneRegion(country string) string {
	if len(country) == 3 {
		if a2, ok := alpha3To2[country]; ok {
			return a2
		}
		return DefaultRegion
	}
	if country == "" {
		return DefaultRegion
	}
	return country
}

func isCountryCode(c string) bool {
	switch len(c) {
	case 2:
		return alpha2[c]
	case 3:
		_, ok := alpha3To2[c]
		return ok
	}
	return false
}

// iso3166 is every officially assigned ISO 3166-1 code as alpha-2/alpha-3 (249 countries and
// territories, as of 2024). Taken from github.com/biter777/countries v1.7.5 without its
// withdrawn (AN Netherlands Antilles, YU Yugoslavia) and user-assigned (XK Kosovo) codes; a
// table this small and this stable is simpler to keep here than a dependency.
const iso3166 = `AD/AND AE/ARE AF/AFG AG/ATG AI/AIA AL/ALB AM/ARM AO/AGO AQ/ATA AR/ARG AS/ASM AT/AUT
AU/AUS AW/ABW AX/ALA AZ/AZE BA/BIH BB/BRB BD/BGD BE/BEL BF/BFA BG/BGR BH/BHR BI/BDI BJ/BEN BL/BLM
BM/BMU BN/BRN BO/BOL BQ/BES BR/BRA BS/BHS BT/BTN BV/BVT BW/BWA BY/BLR BZ/BLZ CA/CAN CC/CCK CD/COD
CF/CAF CG/COG CH/CHE CI/CIV CK/COK CL/CHL CM/CMR CN/CHN CO/COL CR/CRI CU/CUB CV/CPV CW/CUW CX/CXR
CY/CYP CZ/CZE DE/DEU DJ/DJI DK/DNK DM/DMA DO/DOM DZ/DZA EC/ECU EE/EST EG/EGY EH/ESH ER/ERI ES/ESP
ET/ETH FI/FIN FJ/FJI FK/FLK FM/FSM FO/FRO FR/FRA GA/GAB GB/GBR GD/GRD GE/GEO GF/GUF GG/GGY GH/GHA
GI/GIB GL/GRL GM/GMB GN/GIN GP/GLP GQ/GNQ GR/GRC GS/SGS GT/GTM GU/GUM GW/GNB GY/GUY HK/HKG HM/HMD
HN/HND HR/HRV HT/HTI HU/HUN ID/IDN IE/IRL IL/ISR IM/IMN IN/IND IO/IOT IQ/IRQ IR/IRN IS/ISL IT/ITA
JE/JEY JM/JAM JO/JOR JP/JPN KE/KEN KG/KGZ KH/KHM KI/KIR KM/COM KN/KNA KP/PRK KR/KOR KW/KWT KY/CYM
KZ/KAZ LA/LAO LB/LBN LC/LCA LI/LIE LK/LKA LR/LBR LS/LSO LT/LTU LU/LUX LV/LVA LY/LBY MA/MAR MC/MCO
MD/MDA ME/MNE MF/MAF MG/MDG MH/MHL MK/MKD ML/MLI MM/MMR MN/MNG MO/MAC MP/MNP MQ/MTQ MR/MRT MS/MSR
MT/MLT MU/MUS MV/MDV MW/MWI MX/MEX MY/MYS MZ/MOZ NA/NAM NC/NCL NE/NER NF/NFK NG/NGA NI/NIC NL/NLD
NO/NOR NP/NPL NR/NRU NU/NIU NZ/NZL OM/OMN PA/PAN PE/PER PF/PYF PG/PNG PH/PHL PK/PAK PL/POL PM/SPM
PN/PCN PR/PRI PS/PSE PT/PRT PW/PLW PY/PRY QA/QAT RE/REU RO/ROU RS/SRB RU/RUS RW/RWA SA/SAU SB/SLB
SC/SYC SD/SDN SE/SWE SG/SGP SH/SHN SI/SVN SJ/SJM SK/SVK SL/SLE SM/SMR SN/SEN SO/SOM SR/SUR SS/SSD
ST/STP SV/SLV SX/SXM SY/SYR SZ/SWZ TC/TCA TD/TCD TF/ATF TG/TGO TH/THA TJ/TJK TK/TKL TL/TLS TM/TKM
TN/TUN TO/TON TR/TUR TT/TTO TV/TUV TW/TWN TZ/TZA UA/UKR UG/UGA UM/UMI US/USA UY/URY UZ/UZB VA/VAT
VC/VCT VE/VEN VG/VGB VI/VIR VN/VNM VU/VUT WF/WLF WS/WSM YE/YEM YT/MYT ZA/ZAF ZM/ZMB ZW/ZWE`

var alpha2, alpha3To2 = countryTables()

func countryTables() (map[string]bool, map[string]string) {
	a2 := map[string]bool{}
	a3 := map[string]string{}
	for _, pair := range strings.Fields(iso3166) {
		two, three, ok := strings.Cut(pair, "/")
		if !ok || len(two) != 2 || len(three) != 3 {
			panic(fmt.Sprintf("customers: bad ISO 3166 pair %q", pair))
		}
		a2[two] = true
		a3[three] = two
	}
	return a2, a3
}
