package seed

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/models"
)

// rows are one synthetic customer and everything that belongs to it.
type rows struct {
	customer     models.Customer
	addresses    []models.Address
	loyalty      *models.LoyaltyAccount
	transactions []models.LoyaltyTransaction
	credit       *models.CreditAccount
	usage        *models.CreditUsage
	segment      *models.CustomerSegment
}

// generator makes customer number i of an organization. The same organization, seed and i
// give the same customer (times are relative to now), so loads are reproducible; emails,
// phones and documents derive from i, which keeps them unique within the organization.
type generator struct {
	org      uuid.UUID
	seed     uint64
	now      time.Time
	approver uuid.UUID // approved_by of the credit accounts
}

func newGenerator(org uuid.UUID, seed uint64, now time.Time, approver uuid.UUID) generator {
	// Ids are global primary keys: mixing the organization in keeps two organizations
	// seeded with the same seed apart.
	h := fnv.New64a()
	h.Write(org[:])
	return generator{org: org, seed: seed ^ h.Sum64(), now: now, approver: approver}
}

// phoneSpace is how many distinct +507 6xxx-xxxx mobile numbers there are; numbers and
// cédulas come from a permutation of i within it.
const phoneSpace = 10_000_000

func (g generator) customer(i int) rows {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	c := models.Customer{
		ID:                newID(r),
		OrganizationID:    g.org,
		CustomerType:      models.CustomerTypeB2C,
		Status:            models.CustomerStatusActive,
		PreferredLanguage: "es",
		MarketingConsent:  r.IntN(100) < 55,
		Tags:              []string{},
		Metadata:          map[string]any{"acquisition_channel": pick(r, channels)},
	}
	c.CreatedAt = g.now.Add(-time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
	c.UpdatedAt = c.CreatedAt
	if r.IntN(100) < 12 {
		c.PreferredLanguage = "en"
	}

	// i permuted over the phone space (7919 is prime, so coprime with 10^7): unique per i.
	perm := (i*7919 + 1_234_567) % phoneSpace
	given := pick(r, givenNames)
	surname := pick(r, surnames)
	if r.IntN(100) < 12 {
		company := pick(r, companyKinds) + " " + surname
		c.CustomerType = models.CustomerTypeB2B
		c.FirstName, c.LastName = company, pick(r, legalForms)
		c.Email = ptr(fmt.Sprintf("compras%d@%s.com.pa", i, ascii(company)))
		c.DocumentType, c.DocumentNumber = ptr(models.DocumentTypeRUC), ptr(fmt.Sprintf("%d-2-%d", 1_556_000_000+perm, 2000+perm%25))
		c.Metadata["contact_name"] = given.name + " " + surname
		c.Tags = pickSome(r, businessTags, 2)
	} else {
		c.FirstName, c.LastName = given.name, surname
		if r.IntN(100) < 25 { // two surnames, as on a cédula
			c.LastName += " " + pick(r, surnames)
		}
		if r.IntN(100) < 92 {
			c.Email = ptr(fmt.Sprintf("%s.%s%d@%s", ascii(given.name), ascii(surname), i, pick(r, emailDomains)))
		}
		switch n := r.IntN(100); {
		case n < 85: // province-book-entry
			c.DocumentType, c.DocumentNumber = ptr(models.DocumentTypeCedula), ptr(fmt.Sprintf("%d-%d-%d", 1+perm%9, 1+perm/9/10000, 1+perm/9%10000))
		case n < 92:
			c.DocumentType, c.DocumentNumber = ptr(models.DocumentTypePassport), ptr(fmt.Sprintf("PA%08d", perm))
		}
		if r.IntN(100) < 85 {
			years := 18 + r.IntN(62)
			birth := g.now.AddDate(-years, 0, -r.IntN(365)).Truncate(24 * time.Hour)
			c.BirthDate = &birth
		}
		if r.IntN(100) < 95 {
			c.Gender = ptr(given.gender)
		}
		c.Tags = pickSome(r, customerTags, 3)
	}
	if i < phoneSpace && r.IntN(100) < 95 {
		c.Phone = ptr(fmt.Sprintf("+5076%07d", perm))
	}
	switch n := r.IntN(100); {
	case n < 6:
		c.Status, c.StatusReason = models.CustomerStatusInactive, ptr(pick(r, inactiveReasons))
	case n < 8:
		c.Status, c.StatusReason = models.CustomerStatusBlocked, ptr(pick(r, blockedReasons))
	}
	if r.IntN(100) < 10 {
		c.Notes = ptr(pick(r, notes))
	}
	if r.IntN(100) < 75 {
		last := c.CreatedAt.Add(time.Duration(r.Float64() * float64(g.now.Sub(c.CreatedAt))))
		c.LastPurchaseAt = &last
	}

	out := rows{customer: c}
	out.addresses = g.addresses(r, &c)
	g.loyalty(r, &out)
	if c.CustomerType == models.CustomerTypeB2B && r.IntN(100) < 60 {
		g.credit(r, &out, i)
	}
	g.segment(r, &out)
	return out
}

// addresses gives most customers a default shipping and billing address, as one address of
// type both or as two, and some an extra or a removed (inactive) one.
func (g generator) addresses(r *rand.Rand, c *models.Customer) []models.Address {
	recipient := c.FullName()
	if c.CustomerType == models.CustomerTypeB2B {
		recipient = "Departamento de Compras, " + c.FirstName
	}
	home := pickTown(r)
	addr := func(t town, kind models.AddressType, isDefault bool) models.Address {
		a := models.Address{
			ID:             newID(r),
			OrganizationID: g.org,
			CustomerID:     c.ID,
			AddressType:    kind,
			RecipientName:  ptr(recipient),
			AddressLine1:   streetLine(r, t),
			City:           t.city,
			State:          ptr(t.state),
			Country:        "PA",
			IsDefault:      isDefault,
			IsActive:       true,
			CreatedAt:      c.CreatedAt,
			UpdatedAt:      c.CreatedAt,
		}
		if r.IntN(100) < 30 {
			a.AddressLine2 = ptr(pick(r, landmarks))
		}
		if r.IntN(100) < 50 {
			a.Phone = c.Phone
		}
		return a
	}
	var out []models.Address
	n := r.IntN(100)
	switch {
	case c.CustomerType == models.CustomerTypeB2B || n < 30:
		out = append(out, addr(home, models.AddressTypeShipping, true), addr(pickTown(r), models.AddressTypeBilling, true))
	case n < 75:
		out = append(out, addr(home, models.AddressTypeBoth, true))
	case n < 90:
		out = append(out, addr(home, models.AddressTypeShipping, true), addr(pickTown(r), models.AddressTypeShipping, false))
	default:
		return nil
	}
	if r.IntN(100) < 5 {
		old := addr(pickTown(r), models.AddressTypeShipping, false)
		old.IsActive = false
		out = append(out, old)
	}
	return out
}

// loyalty enrolls about half of the buying persons, with a tier, a balance and the earn (a
// lot, §4) and redeem transactions that explain it.
func (g generator) loyalty(r *rand.Rand, out *rows) {
	c := &out.customer
	if c.CustomerType != models.CustomerTypeB2C || c.LastPurchaseAt == nil || r.IntN(100) >= 55 {
		return
	}
	tier, lifetime, multiplier := models.TierBronze, 50+r.IntN(950), 1.0
	switch n := r.IntN(100); {
	case n < 6:
		tier, lifetime, multiplier = models.TierPlatinum, 15_000+r.IntN(30_000), 2.0
	case n < 20:
		tier, lifetime, multiplier = models.TierGold, 5_000+r.IntN(10_000), 1.5
	case n < 45:
		tier, lifetime, multiplier = models.TierSilver, 1_000+r.IntN(4_000), 1.25
	}
	redeemed := int(float64(lifetime) * r.Float64() * 0.6)
	balance := lifetime - redeemed
	since := dateOf(g.now.AddDate(0, 0, -r.IntN(300)))
	a := &models.LoyaltyAccount{
		ID:             newID(r),
		OrganizationID: g.org,
		CustomerID:     c.ID,
		PointsBalance:  balance,
		LifetimePoints: lifetime,
		PointsRedeemed: redeemed,
		Tier:           tier,
		TierSince:      since,
		TotalPurchases: max(1, lifetime/(40+r.IntN(80))),
		TotalSpent:     decimal.NewFromFloat(float64(lifetime) / multiplier).Add(cents(r, 100)).Round(2),
		CreatedAt:      c.CreatedAt,
		UpdatedAt:      *c.LastPurchaseAt,
	}
	if tier != models.TierBronze {
		expires := since.AddDate(1, 0, 0)
		a.TierExpiresAt = &expires
	}
	out.loyalty = a
	earnedAt := *c.LastPurchaseAt
	expiresAt := earnedAt.AddDate(1, 0, 0)
	out.transactions = append(out.transactions, models.LoyaltyTransaction{
		ID: newID(r), OrganizationID: g.org, LoyaltyAccountID: a.ID, Type: models.TxEarn,
		Points: lifetime, BalanceAfter: lifetime, Description: ptr("Puntos por compras"),
		Metadata: map[string]any{}, PointsRemaining: ptr(balance), ExpiresAt: &expiresAt, CreatedAt: earnedAt,
	})
	if redeemed > 0 {
		out.transactions = append(out.transactions, models.LoyaltyTransaction{
			ID: newID(r), OrganizationID: g.org, LoyaltyAccountID: a.ID, Type: models.TxRedeem,
			Points: -redeemed, BalanceAfter: balance, Description: ptr("Canje en tienda"),
			Metadata: map[string]any{}, CreatedAt: earnedAt.Add(time.Minute),
		})
	}
}

// credit opens a trade-credit account for a company: mostly approved, some with an open
// charge (one usage that explains credit_used), some pending or suspended.
func (g generator) credit(r *rand.Rand, out *rows, i int) {
	c := &out.customer
	limit := decimal.NewFromInt(int64(500 * (2 + r.IntN(99))))
	a := &models.CreditAccount{
		ID:              newID(r),
		OrganizationID:  g.org,
		CustomerID:      c.ID,
		CreditLimit:     limit,
		CreditUsed:      decimal.Zero,
		PaymentTermDays: pick(r, []int{30, 30, 45, 60, 90}),
		Status:          models.CreditStatusApproved,
		CreatedAt:       c.CreatedAt,
		UpdatedAt:       c.CreatedAt,
	}
	approved := c.CreatedAt.Add(72 * time.Hour)
	a.ApprovedAt, a.ApprovedBy, a.ApprovalNotes = &approved, &g.approver, ptr("Aprobado por el comité de crédito")
	switch n := r.IntN(100); {
	case n < 10:
		a.Status, a.ApprovedAt, a.ApprovedBy, a.ApprovalNotes = models.CreditStatusPending, nil, nil, nil
	case n < 18:
		suspended := approved.Add(time.Duration(r.Float64() * float64(g.now.Sub(approved))))
		a.Status, a.SuspendedAt, a.SuspensionReason = models.CreditStatusSuspended, &suspended, ptr("Pagos atrasados más de 60 días")
	}
	if a.Status != models.CreditStatusPending && r.IntN(100) < 65 {
		used := limit.Mul(decimal.NewFromFloat(0.05 + 0.85*r.Float64())).Round(2)
		a.CreditUsed = used
		charged := dateOf(g.now.AddDate(0, 0, -r.IntN(a.PaymentTermDays+30)))
		due := charged.AddDate(0, 0, a.PaymentTermDays)
		status := models.UsagePending
		if due.Before(dateOf(g.now)) {
			status = models.UsageOverdue
		}
		out.usage = &models.CreditUsage{
			ID: newID(r), OrganizationID: g.org, CreditAccountID: a.ID, OrderID: fmt.Sprintf("SEED-%d", i),
			Amount: used, AmountPaid: decimal.Zero, Status: status, DueDate: due, CreatedAt: charged, UpdatedAt: charged,
		}
	}
	out.credit = a
}

// segment gives most customers the RFM row a recalculation would (§6), scored from their
// recency, order count and spend.
func (g generator) segment(r *rand.Rand, out *rows) {
	c := &out.customer
	s := &models.CustomerSegment{ID: newID(r), OrganizationID: g.org, CustomerID: c.ID, CalculatedAt: g.now}
	switch {
	case c.LastPurchaseAt == nil:
		if g.now.Sub(c.CreatedAt) > 90*24*time.Hour {
			return // §6: never bought and not new: no segment
		}
		s.SegmentCode = models.SegmentNew
	default:
		if r.IntN(100) >= 85 {
			return // not recalculated since
		}
		orders, ltv := 1+r.IntN(30), decimal.NewFromInt(int64(20+r.IntN(3000))).Add(cents(r, 100))
		if l := out.loyalty; l != nil {
			orders, ltv = l.TotalPurchases, l.TotalSpent
		}
		days := int(g.now.Sub(*c.LastPurchaseAt).Hours() / 24)
		s.TotalOrders, s.LifetimeValue, s.DaysSinceLastPurchase = orders, ltv, &days
		s.AverageOrderValue = ltv.Div(decimal.NewFromInt(int64(orders))).Round(2)
		if days > 365 {
			s.SegmentCode = models.SegmentLost // §6: no purchase in the window
			break
		}
		rs := score(float64(-days), -270, -120, -45, -14)
		fs := score(float64(orders), 2, 4, 8, 16)
		ms, _ := ltv.Float64()
		m := score(ms, 100, 300, 800, 2000)
		s.RfmRecency, s.RfmFrequency, s.RfmMonetary = &rs, &fs, &m
		s.SegmentCode = segmentOf(rs, fs, m, orders)
	}
	s.IsVip = s.SegmentCode == models.SegmentChampions
	s.IsAtRisk = s.SegmentCode == models.SegmentAtRisk
	out.segment = s
}

// score is 1 plus the number of thresholds v reaches.
func score(v float64, thresholds ...float64) int {
	n := 1
	for _, t := range thresholds {
		if v >= t {
			n++
		}
	}
	return n
}

// segmentOf applies the ordered rules of §6.
func segmentOf(r, f, m, orders int) models.SegmentCode {
	switch {
	case r >= 4 && f >= 4 && m >= 4:
		return models.SegmentChampions
	case f >= 4 && r >= 3:
		return models.SegmentLoyal
	case orders == 1 && r >= 4:
		return models.SegmentNew
	case r >= 4:
		return models.SegmentPotentialLoyalist
	case r <= 2 && f >= 3:
		return models.SegmentAtRisk
	case r <= 2:
		return models.SegmentLost
	default:
		return models.SegmentPotentialLoyalist
	}
}

func streetLine(r *rand.Rand, t town) string {
	street := pick(r, t.streets)
	switch r.IntN(3) {
	case 0:
		return fmt.Sprintf("%s, Casa %d", street, 1+r.IntN(250))
	case 1:
		return fmt.Sprintf("%s, Edificio %s, Apto. %d%c", street, pick(r, surnames), 1+r.IntN(30), 'A'+rune(r.IntN(6)))
	default:
		return fmt.Sprintf("%s, Local %d", street, 1+r.IntN(80))
	}
}

func pickTown(r *rand.Rand) town {
	total := 0
	for _, t := range towns {
		total += t.weight
	}
	n := r.IntN(total)
	for _, t := range towns {
		if n < t.weight {
			return t
		}
		n -= t.weight
	}
	return towns[0]
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickSome picks up to n distinct elements.
func pickSome(r *rand.Rand, xs []string, n int) []string {
	out := []string{}
	for _, j := range r.Perm(len(xs))[:r.IntN(n+1)] {
		out = append(out, xs[j])
	}
	return out
}

func cents(r *rand.Rand, n int) decimal.Decimal { return decimal.New(int64(r.IntN(n)), -2) }

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

// newID is a version 4 UUID from r, so a seeded load is reproducible.
func newID(r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], r.Uint64())
	binary.LittleEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

var toASCII = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n", " ", "", ".", "", ",", "")

// ascii is a name as it appears in an email address: lower-case, no accents or spaces.
func ascii(s string) string { return toASCII.Replace(strings.ToLower(s)) }
