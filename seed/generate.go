package seed

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/models"
)

// plan is one synthetic customer: who it is, and what it did, in the order it did it. A
// plan holds no figure a domain rule derives — no balance, tier, total, segment or credit
// used: the demo plays the history through the domain services, and the bulk load replays
// it with the same rules (ledger.go), so every figure follows from the purchases.
type plan struct {
	n         int             // the customer's number in its organization
	customer  models.Customer // as created: active, no purchase yet
	addresses []models.Address
	history   []event // oldest first
	credit    *creditPlan
	// The status at the end, set after the history (a blocked customer can neither buy nor
	// be charged), with its reason.
	status models.CustomerStatus
	reason *string
}

type eventKind uint8

const (
	evPurchase eventKind = iota // recordPurchase (auto-enrolls, earns)
	evRefund                    // recordRefund of an earlier purchase
	evEnroll                    // enroll without a purchase
	evBonus                     // awardBonus
	evRedeem                    // redeem a share of the balance at that moment
)

// event is one step of a customer's history.
type event struct {
	kind     eventKind
	orderID  string          // purchase, refund
	refundID string          // refund
	amount   decimal.Decimal // purchase, refund
	at       time.Time       // purchase: when it occurred
	channel  string          // purchase
	points   int             // bonus
	percent  int             // redeem: this share of the balance, rounded down to 50 points
	ref      string          // bonus, redeem: the idempotency key
	text     string          // bonus: reason; redeem: description
}

// creditPlan is a company's trade credit: opened, approved unless it stays pending, its
// recent orders charged (those the limit still allows), a payment of a share of what is
// then outstanding, and a suspension for some.
type creditPlan struct {
	limit      decimal.Decimal
	term       int
	status     models.CreditStatus // pending, approved or suspended at the end
	charges    []charge            // oldest first
	payPercent int                 // of what is outstanding after the charges, paid at once
	payDelay   int                 // days after the last charge (at most today)
	reason     string              // of the suspension
}

// charge is one order of the company charged to its account, on the day it was bought.
type charge struct {
	orderID string
	amount  decimal.Decimal
	at      time.Time
}

// generator makes customer number i of an organization. The same organization, seed and i
// give the same plan (times are relative to now), so loads are reproducible; emails,
// phones and documents derive from i, which keeps them unique within the organization.
type generator struct {
	org      uuid.UUID
	seed     uint64
	now      time.Time
	today    time.Time // now's date in UTC, the date the domain rules count from
	approver uuid.UUID // approved_by of the credit accounts
	prefix   string    // of order, refund and redemption ids: unique per generator
}

func newGenerator(org uuid.UUID, seed uint64, now time.Time, approver uuid.UUID, prefix string) generator {
	// Ids are global primary keys: mixing the organization in keeps two organizations
	// seeded with the same seed apart.
	h := fnv.New64a()
	h.Write(org[:])
	now = now.UTC().Truncate(time.Microsecond) // what PostgreSQL stores
	return generator{org: org, seed: seed ^ h.Sum64(), now: now, today: dateOf(now), approver: approver, prefix: prefix}
}

// phoneSpace is how many distinct +507 6xxx-xxxx mobile numbers there are; numbers and
// cédulas come from a permutation of i within it.
const phoneSpace = 10_000_000

// historyDays is how far back purchase histories go: about 15 months.
const historyDays = 455

// ago is a moment `days` days before now, at a time of day 6 to 18 hours away from now's.
// Every day count the domain derives from such a moment (days since the last purchase, the
// 365-day RFM window, the 90 days of a new customer) then stays the same for six hours
// after the load, so a recalculation right after it (the first `jobs run`) finds the same
// segments.
func (g generator) ago(r *rand.Rand, days int) time.Time {
	offset := 6*time.Hour + time.Duration(r.Int64N(int64(12*time.Hour)))
	return g.now.Add(-time.Duration(days)*24*time.Hour - offset).Truncate(time.Microsecond)
}

func (g generator) customer(i int) *plan {
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
			birth := dateOf(g.now.AddDate(-years, 0, -r.IntN(365)))
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
	if r.IntN(100) < 10 {
		c.Notes = ptr(pick(r, notes))
	}

	p := &plan{n: i, status: models.CustomerStatusActive}
	days := purchaseDays(r, c.CustomerType)
	// Created before the first purchase; without purchases, at any time in the last three
	// years, a third of them in the last 90 days (§6: new customers).
	switch {
	case len(days) > 0:
		c.CreatedAt = g.ago(r, days[0]+r.IntN(400))
	case r.IntN(100) < 33:
		c.CreatedAt = g.ago(r, r.IntN(85))
	default:
		c.CreatedAt = g.ago(r, 95+r.IntN(3*365-95))
	}
	c.UpdatedAt = c.CreatedAt
	p.customer = c
	p.addresses = g.addresses(r, &p.customer)
	g.history(r, p, days)
	if c.CustomerType == models.CustomerTypeB2B && r.IntN(100) < 60 {
		g.credit(r, p)
	}
	switch n := r.IntN(100); {
	case n < 6:
		p.status, p.reason = models.CustomerStatusInactive, ptr(pick(r, inactiveReasons))
	case n < 8:
		p.status, p.reason = models.CustomerStatusBlocked, ptr(pick(r, blockedReasons))
	}
	return p
}

// persona is a kind of buyer: how many purchases, and how many days ago (at least from,
// below to); recent > 0 puts the last one in the last `recent` days.
type persona struct {
	weightB2C, weightB2B int
	min, max             int
	from, to             int
	recent               int
}

var personas = []persona{
	{22, 15, 0, 0, 0, 0, 0},               // never bought
	{15, 10, 1, 1, 0, historyDays, 0},     // once
	{20, 20, 2, 3, 0, historyDays, 0},     // now and then
	{20, 30, 4, 7, 0, historyDays, 60},    // regular
	{10, 15, 8, 14, 0, 400, 30},           // frequent
	{8, 6, 2, 5, 200, historyDays, 0},     // lapsed: at risk
	{5, 4, 1, 3, 365 + 5, historyDays, 0}, // gone: nothing in the last year
}

// purchaseDays picks a persona and returns how many days ago each purchase was, oldest
// first.
func purchaseDays(r *rand.Rand, kind models.CustomerType) []int {
	weight := func(p persona) int {
		if kind == models.CustomerTypeB2B {
			return p.weightB2B
		}
		return p.weightB2C
	}
	total := 0
	for _, p := range personas {
		total += weight(p)
	}
	n := r.IntN(total)
	var p persona
	for _, p = range personas {
		if n < weight(p) {
			break
		}
		n -= weight(p)
	}
	if p.max == 0 {
		return nil
	}
	days := make([]int, p.min+r.IntN(p.max-p.min+1))
	for k := range days {
		days[k] = p.from + r.IntN(p.to-p.from)
	}
	if p.recent > 0 {
		days[0] = r.IntN(p.recent)
	}
	slices.SortFunc(days, func(a, b int) int { return b - a })
	return days
}

// orderAmount is what one order paid, in cents: persons mostly small baskets, companies
// larger orders.
func orderAmount(r *rand.Rand, kind models.CustomerType) decimal.Decimal {
	var cents int64
	n := r.IntN(100)
	switch {
	case kind == models.CustomerTypeB2B && n < 80:
		cents = 15_000 + r.Int64N(85_000) // 150.00–999.99
	case kind == models.CustomerTypeB2B:
		cents = 100_000 + r.Int64N(300_000) // 1,000.00–3,999.99
	case n < 70:
		cents = 500 + r.Int64N(7_500) // 5.00–79.99
	case n < 95:
		cents = 8_000 + r.Int64N(22_000) // 80.00–299.99
	default:
		cents = 30_000 + r.Int64N(120_000) // 300.00–1,499.99
	}
	return decimal.New(cents, -2)
}

const (
	signupPoints   = 100
	birthdayPoints = 250
	redeemStep     = 50 // redemptions are multiples of this many points
)

// history writes the customer's purchases (each enrolls on the first, §4 auto-enroll), a
// few refunds, a sign-up and a birthday bonus for some, and redemptions of part of the
// balance for some; some customers without purchases join the program for its sign-up
// bonus.
func (g generator) history(r *rand.Rand, p *plan, days []int) {
	c := &p.customer
	joins := len(days) > 0 || r.IntN(100) < 30
	if !joins {
		return
	}
	signup := r.IntN(100) < 50 || len(days) == 0
	birthday := c.BirthDate != nil && r.IntN(100) < 40
	var redeemAfter []int // the purchase after which each redemption comes
	if len(days) > 0 && r.IntN(100) < 40 {
		for range 1 + r.IntN(2) {
			redeemAfter = append(redeemAfter, len(days)/2+r.IntN(len(days)-len(days)/2))
		}
		slices.Sort(redeemAfter)
	}
	bonus := func(points int, ref, reason string) {
		p.history = append(p.history, event{kind: evBonus, points: points, ref: ref, text: reason})
	}
	signupBonus := func() { bonus(signupPoints, "signup", "Bono de bienvenida al programa") }
	birthdayBonus := func() {
		bonus(birthdayPoints, fmt.Sprintf("birthday-%d", g.now.Year()), "Bono de cumpleaños")
	}
	if len(days) == 0 {
		p.history = append(p.history, event{kind: evEnroll})
		signupBonus()
		if birthday {
			birthdayBonus()
		}
		return
	}
	birthdayAfter := r.IntN(len(days))
	redemptions := 0
	for k, d := range days {
		orderID := fmt.Sprintf("%s-%06d-%02d", g.prefix, p.n, k)
		channel := pick(r, channels)
		if c.CustomerType == models.CustomerTypeB2B {
			channel = pick(r, []string{"web", "phone"})
		}
		amount := orderAmount(r, c.CustomerType)
		p.history = append(p.history, event{kind: evPurchase, orderID: orderID, amount: amount, at: g.ago(r, d), channel: channel})
		if r.IntN(100) < 4 { // a return: the whole order or half of it
			refund := amount
			if r.IntN(2) == 0 {
				refund = decimal.New(max(1, amount.Shift(2).IntPart()/2), -2)
			}
			p.history = append(p.history, event{kind: evRefund, orderID: orderID, refundID: orderID + "-R1", amount: refund})
		}
		if k == 0 && signup {
			signupBonus()
		}
		if birthday && k == birthdayAfter {
			birthdayBonus()
		}
		for ; redemptions < len(redeemAfter) && redeemAfter[redemptions] == k; redemptions++ {
			p.history = append(p.history, event{
				kind: evRedeem, percent: 30 + r.IntN(51),
				ref: fmt.Sprintf("%s-%06d-RW%d", g.prefix, p.n, redemptions), text: pick(r, rewards),
			})
		}
	}
}

// lastPurchase is when the plan's last purchase occurred; nil without purchases.
func (p *plan) lastPurchase() *time.Time {
	var last *time.Time
	for _, e := range p.history {
		if e.kind == evPurchase && (last == nil || e.at.After(*last)) {
			at := e.at
			last = &at
		}
	}
	return last
}

// redeemPoints is what a redemption of percent of balance spends: rounded down to a
// multiple of redeemStep; 0 when that is nothing.
func redeemPoints(balance, percent int) int {
	return balance * percent / 100 / redeemStep * redeemStep
}

// credit plans a trade-credit account for a company: mostly approved, some pending or
// suspended, with its orders of the last 150 days charged to it.
func (g generator) credit(r *rand.Rand, p *plan) {
	cp := &creditPlan{
		limit:  decimal.NewFromInt(int64(500 * (4 + r.IntN(97)))), // 2,000–50,000
		term:   pick(r, []int{30, 30, 45, 60, 90}),
		status: models.CreditStatusApproved,
		reason: pick(r, suspensionReasons),
	}
	switch n := r.IntN(100); {
	case n < 8:
		cp.status = models.CreditStatusPending
	case n < 14:
		cp.status = models.CreditStatusSuspended
	}
	g.charges(r, p, cp)
	p.credit = cp
}

// charges plans the company's orders of the last 150 days (at most the last four) as
// charges, the payment after them: nothing, part or all of what is outstanding.
func (g generator) charges(r *rand.Rand, p *plan, cp *creditPlan) {
	cp.charges = nil
	if cp.status == models.CreditStatusPending {
		return
	}
	since := g.now.Add(-150 * 24 * time.Hour)
	for _, e := range p.history {
		if e.kind == evPurchase && e.at.After(since) {
			cp.charges = append(cp.charges, charge{orderID: e.orderID, amount: e.amount, at: e.at})
		}
	}
	if len(cp.charges) > 4 {
		cp.charges = cp.charges[len(cp.charges)-4:]
	}
	switch n := r.IntN(100); {
	case n < 30:
		cp.payPercent = 0
	case n < 60:
		cp.payPercent = 100
	default:
		cp.payPercent = 30 + r.IntN(61)
	}
	cp.payDelay = 1 + r.IntN(20)
}

// payment is the amount and date of the plan's payment, given what is outstanding.
func (g generator) payment(cp *creditPlan, outstanding decimal.Decimal) (decimal.Decimal, time.Time) {
	amount := outstanding.Mul(decimal.NewFromInt(int64(cp.payPercent))).Div(decimal.NewFromInt(100)).RoundDown(2)
	date := g.today
	if len(cp.charges) > 0 {
		if d := dateOf(cp.charges[len(cp.charges)-1].at).AddDate(0, 0, cp.payDelay); d.Before(date) {
			date = d
		}
	}
	return amount, date
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
