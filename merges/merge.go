// Package merges owns the merge of duplicate customers (specification §10): the request's
// rules, the one function that plans and carries out a merge over the customers, loyalty and
// credit domains, its idempotency record and its audit. previewCustomerMerge runs that same
// function in a transaction it rolls back; mergeCustomers commits it
// (docs/decisions-merge.md).
package merges

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/credit"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/segments"
)

// MaxMerged is how many customers one merge merges into its survivor at most (§10).
const MaxMerged = 10

// MaxIdempotencyKey bounds an idempotency key (customer_merges.idempotency_key).
const MaxIdempotencyKey = 255

// Service merges customers over PostgreSQL.
type Service struct {
	db       *db.Handle
	segments segmentRuns // the recalculations after merges
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// Request is a merge asked for: the merged customers' order matters where several could
// give the survivor a value it lacks (the first one given that has one gives it).
type Request struct {
	SurvivorID     uuid.UUID
	MergedIDs      []uuid.UUID
	FieldChoices   []customers.FieldChoice
	IdempotencyKey string // mergeCustomers only
}

// Plan is what a merge does (previewCustomerMerge) or did (mergeCustomers): the survivor's
// resulting fields, the conflicts and how each was decided, and what moved.
type Plan struct {
	SurvivorID uuid.UUID                 `json:"survivorId"`
	MergedIDs  []uuid.UUID               `json:"mergedIds"`
	Survivor   SurvivorFields            `json:"survivor"`
	Conflicts  []customers.MergeConflict `json:"conflicts"`
	Addresses  AddressMoves              `json:"addresses"`
	Purchases  loyalty.MovedPurchases    `json:"purchases"`
	Loyalty    *loyalty.CombinedAccount  `json:"loyalty"`
	Credit     *credit.MovedAccount      `json:"credit"`
	Consents   []customers.MergedConsent `json:"consents"`

	freed map[uuid.UUID][]string // per merged customer, the key columns it freed (audited)
}

// SurvivorFields are the survivor's profile after the merge.
type SurvivorFields struct {
	FirstName          string               `json:"firstName"`
	LastName           string               `json:"lastName"`
	Email              *string              `json:"email"`
	Phone              *string              `json:"phone"`
	DocumentType       *models.DocumentType `json:"documentType"`
	DocumentNumber     *string              `json:"documentNumber"`
	DocumentCheckDigit *string              `json:"documentCheckDigit"`
	BirthDate          *time.Time           `json:"birthDate"`
	Gender             *string              `json:"gender"`
	PreferredLanguage  string               `json:"preferredLanguage"`
	Notes              *string              `json:"notes"`
	ExternalID         *string              `json:"externalId"`
	Tags               []string             `json:"tags"`
	Metadata           map[string]any       `json:"metadata"`
	MarketingConsent   bool                 `json:"marketingConsent"`
	LastPurchaseAt     *time.Time           `json:"lastPurchaseAt"`
	ChangedFields      []string             `json:"changedFields"`
}

// AddressMoves are the merged customers' addresses: moved to the survivor, or folded (left
// with their customer: the survivor has the same address).
type AddressMoves struct {
	Moved  int `json:"moved"`
	Folded int `json:"folded"`
}

// Merge is a merge carried out: its plan, and for a replay (§8) the original answer.
type Merge struct {
	ID       uuid.UUID
	Plan     *Plan
	MergedAt time.Time
	Replayed bool
}

// errPreview rolls back a preview's transaction once its plan is read.
var errPreview = errors.New("merges: preview rolled back")

// Preview answers what Merge would do with the same request, and writes nothing: it runs
// Merge's own planning and moving (plan) in a transaction it then rolls back (manager).
// The locks it takes are held for that transaction only.
func (s *Service) Preview(ctx context.Context, r Request) (*Plan, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	var out *Plan
	err := db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, _ auth.Principal) error {
		var err error
		if out, err = plan(ctx, tx, r); err != nil {
			return err
		}
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return out, nil
	}
	return nil, err
}

// Merge merges the customers in one transaction (manager, §10): plan, the merged customers'
// segments dropped, an audit row on every customer involved, and the request with its
// answer stored under its idempotency key; then the organization's segments recalculated. A replay answers the original plan; the same key
// with another request is IDEMPOTENCY_CONFLICT.
func (s *Service) Merge(ctx context.Context, r Request) (*Merge, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	var errs apperr.List
	if n := utf8.RuneCountInString(r.IdempotencyKey); n < 1 || n > MaxIdempotencyKey {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"idempotencyKey"}, "must be 1–%d characters", MaxIdempotencyKey))
	}
	if err := r.validate(); err != nil {
		e, _ := apperr.Of(err)
		errs = append(errs, e...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var out *Merge
	err := db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		var err error
		if out, err = replay(ctx, tx, r); err != nil || out != nil {
			return err
		}
		pl, err := plan(ctx, tx, r)
		if _, refused := apperr.Of(err); refused {
			// A concurrent merge with this key committed while this one waited for the
			// customers' locks: its answer, not a refusal of what it did.
			if replayed, rerr := replay(ctx, tx, r); rerr != nil || replayed != nil {
				out = replayed
				return rerr
			}
		}
		if err != nil {
			return err
		}
		// The merged customers' segments go with the merge; the survivor's is recomputed
		// once it committed (below).
		for _, id := range r.MergedIDs {
			if _, err := segments.Forget(ctx, tx, p.OrganizationID, id); err != nil {
				return err
			}
		}
		if err := auditMerge(ctx, tx, p, pl); err != nil {
			return err
		}
		out = &Merge{ID: uuid.New(), Plan: pl}
		return store(ctx, tx, p, r, out)
	})
	if err != nil {
		return nil, err
	}
	if !out.Replayed {
		s.recalculateSegments(ctx)
	}
	return out, nil
}

// recalculateSegments has the organization's segments recomputed after a merge (§10: the
// survivor's RFM now counts every purchase). The scores are quintiles of the organization,
// so this is the organization's one set-based recalculation (§6), in a transaction of its
// own: run inside the merge it would insert segment rows — foreign keys that take a share
// lock on their customers — while the merge holds its customers locked, and two merges would
// deadlock. It runs in the background (segmentRuns), so a merge never waits for it. The
// merge has committed by then: a failure is logged (no personal data) and the nightly
// recalculation makes up for it.
func (s *Service) recalculateSegments(ctx context.Context) {
	p, _ := auth.FromContext(ctx) // Merge required it
	s.segments.ask(context.WithoutCancel(ctx), p.OrganizationID, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, segmentRunTimeout)
		defer cancel()
		return db.Write(ctx, s.db, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
			_, err := segments.Recalculate(ctx, tx, p.OrganizationID, time.Now())
			return err
		})
	})
}

// segmentRunTimeout bounds one background recalculation (the pool's statement timeout may
// end it sooner on a very large organization; the nightly run then recalculates).
const segmentRunTimeout = 10 * time.Minute

// segmentRuns runs the organizations' recalculations in the background, one at a time per
// organization, and folds the ones asked for while one runs into a single run after it: ten
// merges in a row cost at most two recalculations, and every merge's is counted by one that
// starts after it committed. At shutdown the pool's Close waits for a run's statement in
// flight; a run that has not started yet fails (logged) and the nightly run makes up for it.
type segmentRuns struct {
	mu    sync.Mutex
	again map[uuid.UUID]bool // organizations with a run going: whether another is asked for
}

func (r *segmentRuns) ask(ctx context.Context, org uuid.UUID, run func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, running := r.again[org]; running {
		r.again[org] = true
		return
	}
	if r.again == nil {
		r.again = map[uuid.UUID]bool{}
	}
	r.again[org] = false
	go func() {
		for {
			if err := run(ctx); err != nil {
				zerolog.Ctx(ctx).Error().Err(err).Msg("merge: segments not recalculated; the nightly run will")
			}
			r.mu.Lock()
			if !r.again[org] {
				delete(r.again, org)
				r.mu.Unlock()
				return
			}
			r.again[org] = false
			r.mu.Unlock()
		}
	}()
}

// validate checks the request's own rules (§10): 1 to MaxMerged merged customers, each
// once, none the survivor itself; field choices of known fields and of these customers.
func (r Request) validate() error {
	var errs apperr.List
	switch n := len(r.MergedIDs); {
	case n == 0:
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"mergedIds"}, "name at least one customer to merge"))
	case n > MaxMerged:
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"mergedIds"}, "at most %d customers are merged at once (got %d)", MaxMerged, n))
	}
	for i, id := range r.MergedIDs {
		switch {
		case id == r.SurvivorID:
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{"mergedIds", fmt.Sprint(i)}, "a customer cannot be merged into itself"))
		case slices.Index(r.MergedIDs, id) < i:
			errs = append(errs, apperr.OnField(apperr.Invalid, []string{"mergedIds", fmt.Sprint(i)}, "this customer is named twice"))
		}
	}
	if err := customers.ValidateChoices(r.FieldChoices, append([]uuid.UUID{r.SurvivorID}, r.MergedIDs...), []string{"fieldChoices"}); err != nil {
		e, _ := apperr.Of(err)
		errs = append(errs, e...)
	}
	return errs.Err()
}

// plan carries out the merge in tx (the caller commits it or rolls it back) and answers
// what it did. Locks, in one order for every merge: the customers, then their loyalty
// accounts, then their credit accounts, each by id.
func plan(ctx context.Context, tx bun.Tx, r Request) (*Plan, error) {
	ids := append([]uuid.UUID{r.SurvivorID}, r.MergedIDs...)
	locked, err := customers.LockForMerge(ctx, tx, ids, func(i int) []string {
		if i == 0 {
			return []string{"survivorId"}
		}
		return []string{"mergedIds", fmt.Sprint(i - 1)}
	})
	if err != nil {
		return nil, err
	}
	survivor := locked[r.SurvivorID]
	merged := make([]models.Customer, len(r.MergedIDs))
	var errs apperr.List
	for i, id := range ids {
		c := locked[id]
		field := []string{"survivorId"}
		if i > 0 {
			field = []string{"mergedIds", fmt.Sprint(i - 1)}
			merged[i-1] = *c
		}
		switch {
		case c.Status == models.CustomerStatusMerged:
			errs = append(errs, apperr.OnField(apperr.InvalidState, field, "the customer was already merged into %s", c.MergedInto))
		case c.ErasedAt != nil:
			errs = append(errs, apperr.OnField(apperr.InvalidState, field, "the customer was erased"))
		case c.CustomerType != survivor.CustomerType:
			errs = append(errs, apperr.OnField(apperr.InvalidState, field, "a %s customer cannot be merged with a %s one",
				upper(c.CustomerType), upper(survivor.CustomerType)))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	profile, err := customers.MergeProfile(ctx, tx, survivor, merged, r.FieldChoices)
	if err != nil {
		return nil, err
	}
	combined, purchases, err := loyalty.Combine(ctx, tx, r.SurvivorID, r.MergedIDs)
	if err != nil {
		return nil, err
	}
	moved, err := credit.MoveForMerge(ctx, tx, r.SurvivorID, r.MergedIDs)
	if err != nil {
		return nil, err
	}
	c := profile.Survivor
	changed := profile.Changed
	if changed == nil {
		changed = []string{}
	}
	p := &Plan{
		SurvivorID: r.SurvivorID, MergedIDs: r.MergedIDs,
		Survivor: SurvivorFields{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
			DocumentType: c.DocumentType, DocumentNumber: c.DocumentNumber, DocumentCheckDigit: c.DocumentCheckDigit,
			BirthDate: c.BirthDate, Gender: c.Gender, PreferredLanguage: c.PreferredLanguage, Notes: c.Notes,
			ExternalID: c.ExternalID, Tags: c.Tags, Metadata: c.Metadata, MarketingConsent: c.MarketingConsent,
			LastPurchaseAt: c.LastPurchaseAt, ChangedFields: changed},
		Conflicts: profile.Conflicts, Addresses: AddressMoves{Moved: profile.AddressesMoved, Folded: profile.AddressesFolded},
		Purchases: *purchases, Loyalty: combined, Credit: moved, Consents: profile.Consents,
	}
	if p.Conflicts == nil {
		p.Conflicts = []customers.MergeConflict{}
	}
	if p.Consents == nil {
		p.Consents = []customers.MergedConsent{}
	}
	if p.Survivor.Tags == nil {
		p.Survivor.Tags = []string{}
	}
	if p.Survivor.Metadata == nil {
		p.Survivor.Metadata = map[string]any{}
	}
	p.freed = profile.Freed
	return p, nil
}

// auditMerge writes the merge's audit rows (§8, §10): one on the survivor (the columns it
// changed, what moved) and one on each merged customer (status, merged_into and the keys it
// freed); figures and ids only, never a personal value.
func auditMerge(ctx context.Context, tx bun.Tx, p auth.Principal, pl *Plan) error {
	details := map[string]any{"survivor_id": pl.SurvivorID, "merged_ids": pl.MergedIDs,
		"addresses_moved": pl.Addresses.Moved, "addresses_folded": pl.Addresses.Folded, "purchases_moved": pl.Purchases.Moved}
	if pl.Loyalty != nil {
		details["loyalty_account_id"] = pl.Loyalty.AccountID
		details["loyalty_transactions_moved"] = pl.Loyalty.TransactionsMoved
	}
	if pl.Credit != nil {
		details["credit_account_id"] = pl.Credit.AccountID
		details["credit_account_moved"] = pl.Credit.Moved
	}
	entries := []audit.Entry{{Action: "customer.merge", EntityType: "customer", EntityID: pl.SurvivorID,
		ChangedFields: pl.Survivor.ChangedFields, Details: details}}
	for _, id := range pl.MergedIDs {
		entries = append(entries, audit.Entry{Action: "customer.merge", EntityType: "customer", EntityID: id,
			ChangedFields: append([]string{"status", "merged_into"}, pl.freed[id]...),
			Details:       map[string]any{"survivor_id": pl.SurvivorID, "merged_into": pl.SurvivorID}})
	}
	return audit.RecordAll(ctx, tx, p, entries)
}

// record is a row of customer_merges.
type record struct {
	bun.BaseModel `bun:"table:customer_merges,alias:cm"`

	OrganizationID uuid.UUID       `bun:"organization_id,pk,type:uuid"`
	ID             uuid.UUID       `bun:"merge_id,pk,type:uuid"`
	IdempotencyKey string          `bun:"idempotency_key"`
	SurvivorID     uuid.UUID       `bun:"survivor_id,type:uuid"`
	MergedIDs      []uuid.UUID     `bun:"merged_ids,array,type:uuid[]"`
	FieldChoices   json.RawMessage `bun:"field_choices,type:jsonb"`
	Result         json.RawMessage `bun:"result,type:jsonb"`
	MergedBy       uuid.UUID       `bun:"merged_by,type:uuid"`
	MergedAt       time.Time       `bun:"merged_at,nullzero,default:now()"`
}

// choicesJSON is the field choices as stored: field → customer id, so that their order does
// not make two equal requests differ.
func choicesJSON(choices []customers.FieldChoice) json.RawMessage {
	m := make(map[customers.MergeField]uuid.UUID, len(choices))
	for _, c := range choices {
		m[c.Field] = c.CustomerID
	}
	b, _ := json.Marshal(m) // a map of strings to uuids always marshals
	return b
}

// store records the merge under its idempotency key. A concurrent merge with the same key
// that committed first makes the key's unique violation roll this one back: the caller's
// retry answers the original.
func store(ctx context.Context, tx bun.Tx, p auth.Principal, r Request, m *Merge) error {
	result, err := json.Marshal(m.Plan)
	if err != nil {
		return fmt.Errorf("store merge: %w", err)
	}
	row := &record{OrganizationID: p.OrganizationID, ID: m.ID, IdempotencyKey: r.IdempotencyKey, SurvivorID: r.SurvivorID,
		MergedIDs: r.MergedIDs, FieldChoices: choicesJSON(r.FieldChoices), Result: result, MergedBy: p.UserID}
	if _, err := tx.NewInsert().Model(row).Returning("merged_at").Exec(ctx); err != nil {
		if _, ok := db.IsUniqueViolation(err); ok {
			return apperr.OnField(apperr.IdempotencyConflict, []string{"idempotencyKey"}, "a merge with this idempotency key was being recorded at the same time: retry")
		}
		return fmt.Errorf("store merge: %w", err)
	}
	m.MergedAt = row.MergedAt
	return nil
}

// replay returns the merge stored under the request's key (nil when the key is unused), or
// IDEMPOTENCY_CONFLICT when it was another request (§8).
func replay(ctx context.Context, tx bun.Tx, r Request) (*Merge, error) {
	var row record
	err := tx.NewSelect().Model(&row).Where("cm.organization_id = ?", db.Org(ctx)).
		Where("cm.idempotency_key = ?", r.IdempotencyKey).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read merge: %w", err)
	}
	var stored, asked map[string]string
	_ = json.Unmarshal(row.FieldChoices, &stored)
	_ = json.Unmarshal(choicesJSON(r.FieldChoices), &asked)
	if row.SurvivorID != r.SurvivorID || !slices.Equal(row.MergedIDs, r.MergedIDs) || len(stored) != len(asked) ||
		slices.ContainsFunc(mapKeys(asked), func(k string) bool { return stored[k] != asked[k] }) {
		return nil, apperr.OnField(apperr.IdempotencyConflict, []string{"idempotencyKey"}, "this idempotencyKey was used for another merge")
	}
	var erased struct{ Erased bool }
	if json.Unmarshal(row.Result, &erased) == nil && erased.Erased { // customers.ErasedMergeResult
		return nil, apperr.OnField(apperr.InvalidState, []string{"idempotencyKey"},
			"a customer of this merge was erased since: its answer is no longer kept")
	}
	var pl Plan
	if err := json.Unmarshal(row.Result, &pl); err != nil {
		return nil, fmt.Errorf("read merge result: %w", err)
	}
	return &Merge{ID: row.ID, Plan: &pl, MergedAt: row.MergedAt, Replayed: true}, nil
}

func mapKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func upper(t models.CustomerType) string {
	if t == models.CustomerTypeB2B {
		return "B2B"
	}
	return "B2C"
}
