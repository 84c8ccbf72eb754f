package customers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"customerservice/apperr"
	"customerservice/db"
	"customerservice/models"
)

// §10 merge: the customers' part — the survivor's resulting profile, the merged customers'
// rows (status merged, unique keys freed), addresses and consents. Package merges runs it
// with the loyalty and credit parts in one transaction.

// MergeField is a field of the profile whose value a merge may take from a merged customer
// (fieldChoices). DOCUMENT is the type, number and check digit together.
type MergeField string

const (
	MergeFirstName         MergeField = "FIRST_NAME"
	MergeLastName          MergeField = "LAST_NAME"
	MergeEmail             MergeField = "EMAIL"
	MergePhone             MergeField = "PHONE"
	MergeDocument          MergeField = "DOCUMENT"
	MergeBirthDate         MergeField = "BIRTH_DATE"
	MergeGender            MergeField = "GENDER"
	MergePreferredLanguage MergeField = "PREFERRED_LANGUAGE"
	MergeNotes             MergeField = "NOTES"
	MergeExternalID        MergeField = "EXTERNAL_ID"
)

// MergeFields are the fields in the order a merge reports them.
var MergeFields = []MergeField{MergeFirstName, MergeLastName, MergeEmail, MergePhone, MergeDocument,
	MergeBirthDate, MergeGender, MergePreferredLanguage, MergeNotes, MergeExternalID}

// mergeField is how a field is read from a customer (display: nil when the customer has no
// value) and copied from one to another, and the columns it writes.
type mergeField struct {
	value   func(c *models.Customer) *string
	copy    func(dst, src *models.Customer)
	columns []string
}

var mergeFieldTable = map[MergeField]mergeField{
	MergeFirstName: {func(c *models.Customer) *string { return &c.FirstName },
		func(d, s *models.Customer) { d.FirstName = s.FirstName }, []string{"first_name"}},
	MergeLastName: {func(c *models.Customer) *string { return &c.LastName },
		func(d, s *models.Customer) { d.LastName = s.LastName }, []string{"last_name"}},
	MergeEmail: {func(c *models.Customer) *string { return c.Email },
		func(d, s *models.Customer) { d.Email = s.Email }, []string{"email"}},
	MergePhone: {func(c *models.Customer) *string { return c.Phone },
		func(d, s *models.Customer) { d.Phone = s.Phone }, []string{"phone"}},
	MergeDocument: {documentValue, func(d, s *models.Customer) {
		d.DocumentType, d.DocumentNumber, d.DocumentCheckDigit = s.DocumentType, s.DocumentNumber, s.DocumentCheckDigit
	}, []string{"document_type", "document_number", "document_check_digit"}},
	MergeBirthDate: {func(c *models.Customer) *string {
		if c.BirthDate == nil {
			return nil
		}
		d := c.BirthDate.Format(time.DateOnly)
		return &d
	}, func(d, s *models.Customer) { d.BirthDate = s.BirthDate }, []string{"birth_date"}},
	MergeGender: {func(c *models.Customer) *string { return c.Gender },
		func(d, s *models.Customer) { d.Gender = s.Gender }, []string{"gender"}},
	MergePreferredLanguage: {func(c *models.Customer) *string { return &c.PreferredLanguage },
		func(d, s *models.Customer) { d.PreferredLanguage = s.PreferredLanguage }, []string{"preferred_language"}},
	MergeNotes: {func(c *models.Customer) *string { return c.Notes },
		func(d, s *models.Customer) { d.Notes = s.Notes }, []string{"notes"}},
	MergeExternalID: {func(c *models.Customer) *string { return c.ExternalID },
		func(d, s *models.Customer) { d.ExternalID = s.ExternalID }, []string{"external_id"}},
}

// documentValue shows a document as its type and number, with the check digit when there
// is one ("RUC 155587169-2-2014 DV 09").
func documentValue(c *models.Customer) *string {
	if c.DocumentType == nil || c.DocumentNumber == nil {
		return nil
	}
	v := strings.ToUpper(string(*c.DocumentType)) + " " + *c.DocumentNumber
	if c.DocumentCheckDigit != nil {
		v += " DV " + *c.DocumentCheckDigit
	}
	return &v
}

// FieldChoice picks the customer whose value of Field the survivor takes.
type FieldChoice struct {
	Field      MergeField
	CustomerID uuid.UUID
}

// MergeValue is one customer's value of a field.
type MergeValue struct {
	CustomerID uuid.UUID `json:"customerId"`
	Value      string    `json:"value"`
}

// MergeConflict is a field for which the customers merged hold different values: the
// values, each customer's, and whose the survivor keeps.
type MergeConflict struct {
	Field            MergeField   `json:"field"`
	Values           []MergeValue `json:"values"`
	ChosenCustomerID uuid.UUID    `json:"chosenCustomerId"`
}

// ValidateChoices checks fieldChoices against the customers of a merge (survivor first):
// a known field, at most one choice per field, a customer of the merge. field is the path
// of the choices in the caller's input.
func ValidateChoices(choices []FieldChoice, ids []uuid.UUID, field []string) error {
	var errs apperr.List
	seen := map[MergeField]bool{}
	for i, ch := range choices {
		at := append(slices.Clone(field), fmt.Sprint(i))
		if _, ok := mergeFieldTable[ch.Field]; !ok {
			errs = append(errs, apperr.OnField(apperr.Invalid, append(at, "field"), "unknown field %q", ch.Field))
			continue
		}
		if seen[ch.Field] {
			errs = append(errs, apperr.OnField(apperr.Invalid, append(at, "field"), "%s is chosen more than once", ch.Field))
		}
		seen[ch.Field] = true
		if !slices.Contains(ids, ch.CustomerID) {
			errs = append(errs, apperr.OnField(apperr.Invalid, append(at, "customerId"), "not one of the customers of this merge"))
		}
	}
	return errs.Err()
}

// ResolveFields is the rule of §10 for the survivor's fields: the survivor's non-null value
// wins, else the first merged customer's (in the order given) that has one, unless a choice
// picks a customer's value (null included). It returns the resulting survivor (a copy), the
// columns that changed, and the conflicts: the fields with two or more different non-null
// values among the customers.
func ResolveFields(survivor models.Customer, merged []models.Customer, choices []FieldChoice) (models.Customer, []string, []MergeConflict) {
	out := survivor
	all := append([]models.Customer{survivor}, merged...)
	chosen := map[MergeField]uuid.UUID{}
	for _, ch := range choices {
		chosen[ch.Field] = ch.CustomerID
	}
	var changed []string
	var conflicts []MergeConflict
	for _, f := range MergeFields {
		mf := mergeFieldTable[f]
		from := survivor.ID
		if id, ok := chosen[f]; ok {
			from = id
		} else if mf.value(&survivor) == nil {
			for i := range merged {
				if mf.value(&merged[i]) != nil {
					from = merged[i].ID
					break
				}
			}
		}
		var values []MergeValue
		distinct := map[string]bool{}
		for i := range all {
			if v := mf.value(&all[i]); v != nil {
				values = append(values, MergeValue{CustomerID: all[i].ID, Value: *v})
				distinct[*v] = true
			}
		}
		if len(distinct) > 1 {
			conflicts = append(conflicts, MergeConflict{Field: f, Values: values, ChosenCustomerID: from})
		}
		if from == survivor.ID {
			continue
		}
		for i := range merged {
			if merged[i].ID == from {
				before := mf.value(&out)
				if before != nil {
					v := *before // value reads some fields in place: keep what it was
					before = &v
				}
				mf.copy(&out, &merged[i])
				if after := mf.value(&out); (before == nil) != (after == nil) || before != nil && *before != *after {
					changed = append(changed, mf.columns...)
				}
			}
		}
	}
	return out, changed, conflicts
}

// MaxMetadataBytes bounds a customer's metadata (§3: 16 KB).
const MaxMetadataBytes = 16 << 10

// unionProfile adds to c what a merge unions: tags (the survivor's first, then each merged
// customer's new ones, in order), metadata keys (the survivor's value of a key wins) and
// the latest purchase. It returns the columns that changed, or INVALID_STATE when the union
// breaks a limit of §3.
func unionProfile(c *models.Customer, merged []models.Customer) ([]string, error) {
	var changed []string
	tags := slices.Clone(c.Tags)
	meta := map[string]any{}
	for i := len(merged) - 1; i >= 0; i-- {
		for k, v := range merged[i].Metadata {
			meta[k] = v
		}
	}
	for k, v := range c.Metadata {
		meta[k] = v
	}
	last := c.LastPurchaseAt
	for _, m := range merged {
		for _, t := range m.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if m.LastPurchaseAt != nil && (last == nil || m.LastPurchaseAt.After(*last)) {
			last = m.LastPurchaseAt
		}
	}
	if len(tags) > maxTags {
		return nil, apperr.OnField(apperr.InvalidState, []string{"mergedIds"}, "the customers' tags together are more than %d", maxTags)
	}
	if len(tags) != len(c.Tags) {
		c.Tags = tags
		changed = append(changed, "tags")
	}
	if len(meta) != len(c.Metadata) {
		b, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("merge metadata: %w", err)
		}
		if len(b) > MaxMetadataBytes {
			return nil, apperr.OnField(apperr.InvalidState, []string{"mergedIds"}, "the customers' metadata together is more than %d bytes", MaxMetadataBytes)
		}
		c.Metadata = meta
		changed = append(changed, "metadata")
	}
	if last != c.LastPurchaseAt {
		c.LastPurchaseAt = last
		changed = append(changed, "last_purchase_at")
	}
	return changed, nil
}

// LockForMerge reads and locks (FOR UPDATE) the organization's customers among ids, in
// the order of their ids: every merge locks its customers in this one order, so two merges
// of overlapping sets wait for each other instead of deadlocking, and the second reads what
// the first left. A missing id (or another organization's) is NOT_FOUND on field and its
// index in ids.
func LockForMerge(ctx context.Context, tx bun.Tx, ids []uuid.UUID, field func(i int) []string) (map[uuid.UUID]*models.Customer, error) {
	var rows []models.Customer
	err := tx.NewSelect().Model(&rows).Where("c.organization_id = ?", db.Org(ctx)).
		Where("c.customer_id = ANY(?)", pgdialect.Array(ids)).OrderExpr("c.customer_id").For("UPDATE").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock customers: %w", err)
	}
	out := make(map[uuid.UUID]*models.Customer, len(rows))
	for i := range rows {
		out[rows[i].ID] = &rows[i]
	}
	var errs apperr.List
	for i, id := range ids {
		if out[id] == nil {
			errs = append(errs, apperr.OnField(apperr.NotFound, field(i), "no customer with this id"))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ProfileMerge is what a merge did to the customers' profiles.
type ProfileMerge struct {
	Survivor        models.Customer // as it is after the merge
	Changed         []string        // the survivor's columns that changed
	Conflicts       []MergeConflict
	AddressesMoved  int
	AddressesFolded int
	Consents        []MergedConsent
	// Freed are, per merged customer, the columns of its unique keys it gave up.
	Freed map[uuid.UUID][]string
}

// MergedConsent is the survivor's current state of a purpose after a merge: the most recent
// record of the purpose among the customers (§10), and whose it was.
type MergedConsent struct {
	Purpose        models.ConsentPurpose `json:"purpose"`
	Granted        bool                  `json:"granted"`
	RecordedAt     time.Time             `json:"recordedAt"`
	FromCustomerID uuid.UUID             `json:"fromCustomerId"`
}

// MergeProfile merges the profiles of merged (locked, in the order given) into survivor
// (locked): the merged rows become status merged with merged_into set and their unique keys
// (email, phone, document, external id) freed — written first, so the survivor may take
// them — then the survivor takes its resolved fields, the union of tags and metadata, and
// the latest purchase time; addresses move, identical ones folded; consents become the most
// recent per purpose.
func MergeProfile(ctx context.Context, tx bun.Tx, survivor *models.Customer, merged []models.Customer, choices []FieldChoice) (*ProfileMerge, error) {
	out := &ProfileMerge{Freed: map[uuid.UUID][]string{}}
	result, changed, conflicts := ResolveFields(*survivor, merged, choices)
	more, err := unionProfile(&result, merged)
	if err != nil {
		return nil, err
	}
	changed = append(changed, more...)
	out.Conflicts = conflicts

	for i := range merged {
		m := &merged[i]
		freed := freeKeys(m)
		out.Freed[m.ID] = freed
		m.Status, m.MergedInto = models.CustomerStatusMerged, &survivor.ID
		if err := updateCustomer(ctx, tx, m, append([]string{"status", "merged_into"}, freed...)); err != nil {
			return nil, err
		}
	}
	moved, folded, err := mergeAddresses(ctx, tx, survivor.ID, merged)
	if err != nil {
		return nil, err
	}
	out.AddressesMoved, out.AddressesFolded = moved, folded
	consents, err := mergeConsents(ctx, tx, &result, merged)
	if err != nil {
		return nil, err
	}
	out.Consents = consents
	if i := slices.IndexFunc(consents, func(c MergedConsent) bool { return c.Purpose == models.ConsentMarketingEmail }); i >= 0 &&
		consents[i].Granted != result.MarketingConsent {
		result.MarketingConsent = consents[i].Granted
		changed = append(changed, "marketing_consent")
	}
	if err := updateCustomer(ctx, tx, &result, changed); err != nil {
		return nil, err
	}
	*survivor = result
	out.Survivor, out.Changed = result, changed
	return out, nil
}

// freeKeys clears the unique keys of a merged customer (§10: freed for the survivor and for
// new customers) and returns their columns.
func freeKeys(c *models.Customer) []string {
	var cols []string
	if c.Email != nil {
		c.Email = nil
		cols = append(cols, "email")
	}
	if c.Phone != nil {
		c.Phone = nil
		cols = append(cols, "phone")
	}
	if c.DocumentNumber != nil {
		c.DocumentType, c.DocumentNumber, c.DocumentCheckDigit = nil, nil, nil
		cols = append(cols, "document_type", "document_number", "document_check_digit")
	}
	if c.ExternalID != nil {
		c.ExternalID = nil
		cols = append(cols, "external_id")
	}
	return cols
}

// addressKey is what makes two addresses identical: every field of the address, compared
// trimmed and case-insensitively (the line as the duplicate candidates compare it).
func addressKey(a *models.Address) string {
	norm := func(s *string) string {
		if s == nil {
			return ""
		}
		return strings.ToLower(strings.Join(strings.Fields(*s), " "))
	}
	return strings.Join([]string{string(a.AddressType), norm(a.RecipientName), norm(&a.AddressLine1), norm(a.AddressLine2),
		norm(&a.City), norm(a.State), norm(a.PostalCode), strings.ToUpper(a.Country), norm(a.Phone)}, "\x00")
}

// serves are the default slots (shipping, billing) an address type fills.
func serves(t models.AddressType) []models.AddressType {
	if t == models.AddressTypeBoth {
		return []models.AddressType{models.AddressTypeShipping, models.AddressTypeBilling}
	}
	return []models.AddressType{t}
}

// mergeAddresses moves the merged customers' addresses to the survivor in one statement,
// except an active one identical to an active address the survivor has (or gets first),
// which is folded: it stays, unchanged, with its merged customer. A moved default address
// stays a default only where the survivor has none of its types (§3: one default per type).
func mergeAddresses(ctx context.Context, tx bun.Tx, survivorID uuid.UUID, merged []models.Customer) (moved, folded int, err error) {
	ids := []uuid.UUID{survivorID}
	for _, m := range merged {
		ids = append(ids, m.ID)
	}
	var rows []models.Address
	if err := tx.NewSelect().Model(&rows).Where("a.organization_id = ?", db.Org(ctx)).
		Where("a.customer_id = ANY(?)", pgdialect.Array(ids)).OrderExpr("a.created_at, a.address_id").Scan(ctx); err != nil {
		return 0, 0, fmt.Errorf("read addresses: %w", err)
	}
	have := map[string]bool{}
	defaults := map[models.AddressType]bool{}
	for _, a := range rows {
		if a.CustomerID == survivorID && a.IsActive {
			have[addressKey(&a)] = true
			if a.IsDefault {
				for _, t := range serves(a.AddressType) {
					defaults[t] = true
				}
			}
		}
	}
	var move, keepDefault []uuid.UUID
	for _, id := range ids[1:] {
		for _, a := range rows {
			if a.CustomerID != id {
				continue
			}
			if a.IsActive {
				k := addressKey(&a)
				if have[k] {
					folded++
					continue
				}
				have[k] = true
			}
			move = append(move, a.ID)
			if a.IsActive && a.IsDefault && !slices.ContainsFunc(serves(a.AddressType), func(t models.AddressType) bool { return defaults[t] }) {
				keepDefault = append(keepDefault, a.ID)
				for _, t := range serves(a.AddressType) {
					defaults[t] = true
				}
			}
		}
	}
	if len(move) == 0 {
		return 0, folded, nil
	}
	if keepDefault == nil {
		keepDefault = []uuid.UUID{}
	}
	_, err = tx.NewUpdate().Model((*models.Address)(nil)).Set("customer_id = ?", survivorID).
		Set("is_default = a.is_default AND a.address_id = ANY(?)", pgdialect.Array(keepDefault)).
		Where("a.organization_id = ?", db.Org(ctx)).Where("a.address_id = ANY(?)", pgdialect.Array(move)).Exec(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("move addresses: %w", err)
	}
	return len(move), folded, nil
}

// mergeConsents makes the survivor's current consents the most recent record of each
// purpose among the customers (§10): where a merged customer's latest record of a purpose is
// more recent than the survivor's (or the survivor has none), a copy of it — with its time,
// recorder, channel and evidence — is appended to the survivor's history. It returns the
// survivor's resulting state per purpose that has a record.
func mergeConsents(ctx context.Context, tx bun.Tx, survivor *models.Customer, merged []models.Customer) ([]MergedConsent, error) {
	ids := []uuid.UUID{survivor.ID}
	for _, m := range merged {
		ids = append(ids, m.ID)
	}
	var latest []models.Consent
	err := tx.NewRaw(`SELECT * FROM (SELECT DISTINCT ON (customer_id, purpose) * FROM customer_consents
		WHERE organization_id = ? AND customer_id = ANY(?) ORDER BY customer_id, purpose, recorded_at DESC, consent_id DESC) AS k
		ORDER BY purpose, recorded_at DESC, consent_id DESC`, db.Org(ctx), pgdialect.Array(ids)).Scan(ctx, &latest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read consents: %w", err)
	}
	var out []MergedConsent
	var copies []models.Consent
	for i, k := range latest {
		if i > 0 && latest[i-1].Purpose == k.Purpose {
			continue // not the purpose's most recent
		}
		out = append(out, MergedConsent{Purpose: k.Purpose, Granted: k.Granted, RecordedAt: k.RecordedAt, FromCustomerID: k.CustomerID})
		if k.CustomerID != survivor.ID {
			k.ID, k.CustomerID = uuid.New(), survivor.ID
			copies = append(copies, k)
		}
	}
	if len(copies) > 0 {
		if _, err := tx.NewInsert().Model(&copies).Exec(ctx); err != nil {
			return nil, fmt.Errorf("copy consents: %w", err)
		}
	}
	return out, nil
}
