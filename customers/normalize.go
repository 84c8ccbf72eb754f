package customers

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion reads local phone numbers (§3: 'PA' unless an address says otherwise).
const DefaultRegion = "PA"

// NormalizeEmail trims and lower-cases an email and checks its syntax (§2, §3).
func NormalizeEmail(raw string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" || len(e) > 255 {
		return "", false
	}
	addr, err := mail.ParseAddress(e)
	// ParseAddress accepts "Name <a@b>"; only a bare address is an email here.
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", false
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", false
	}
	return e, true
}

// NormalizePhone parses a phone number to E.164 (§2), reading a local number in region.
func NormalizePhone(raw, region string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", false
	}
	if region == "" {
		region = DefaultRegion
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// normalizeDocumentNumber trims a document number and upper-cases its letters, so
// "pe-12-345" and "PE-12-345" are one document.
func normalizeDocumentNumber(raw string) string { return strings.ToUpper(strings.TrimSpace(raw)) }
