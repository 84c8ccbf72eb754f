package seed

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"customerservice/credit"
	"customerservice/loyalty"
	"customerservice/models"
)

// The bulk load cannot afford a service call per purchase, so it replays each plan here, in
// memory, and inserts the rows the services would have left. The rules are the domains'
// own pure functions (loyalty.EarnPoints, UpgradeTo, RefundReversal, ConsumeFIFO,
// AddMonths; credit.Allocate): only the bookkeeping of rows is this file's. The demo,
// loaded through the services, is the reference: the tests play the same plans both ways
// and compare every figure.
//
// Like the demo, the replay records the whole history now (an organization importing its
// order history into the program), as the service treats back-dated purchases (§13): a
// purchase keeps the date it occurred, its points are a lot expiring points_lifetime_months
// after that date — earned and expired at once (an earn and an expire transaction) when that
// has passed — and they count toward tiers at that date. Bonuses and redemptions are
// recorded now. So a load leaves nothing for the expiry or tier jobs to do, and the balance
// of every account is what its lots hold.

// outcome is the rows a plan leaves.
type outcome struct {
	customer     models.Customer
	addresses    []models.Address
	purchases    []models.Purchase
	refunds      []models.PurchaseRefund
	account      *models.LoyaltyAccount
	transactions []models.LoyaltyTransaction
	credit       *models.CreditAccount
	usages       []models.CreditUsage
	payments     []models.CreditPayment
}

// approvalNotes are the notes of the approval of every sample credit account.
const approvalNotes = "Aprobado por el comité de crédito"

// replay plays p's history and credit under prog, as of the generator's now.
func (g generator) replay(p *plan, prog *models.LoyaltyProgram) *outcome {
	o := &outcome{customer: p.customer, addresses: p.addresses}
	o.customer.Status, o.customer.StatusReason = p.status, p.reason
	if p.status != models.CustomerStatusActive {
		o.customer.UpdatedAt = g.now
	}
	l := ledger{
		g: g, prog: prog, o: o, byOrder: map[string]int{},
		// Ids of the rows derived from the plan, from a stream of their own (bit 63 keeps
		// it apart from the customers' streams), so a load is reproducible.
		r: rand.New(rand.NewPCG(g.seed, uint64(p.n)|1<<63)),
	}
	for _, e := range p.history {
		l.apply(e)
	}
	if p.credit != nil {
		l.credit(p)
	}
	return o
}

type ledger struct {
	g       generator
	prog    *models.LoyaltyProgram
	r       *rand.Rand
	o       *outcome
	byOrder map[string]int // index in o.purchases
	lots    []int          // indexes in o.transactions (FIFO, §4: consume orders them)
	// expiredAtOnce: orders whose points expired as they were earned (§13), whose refunds
	// reverse nothing.
	expiredAtOnce map[string]bool
	qualifying    int           // points counting toward tiers: those of the qualification window
	clock         time.Duration // after now, of the next transaction: they are recorded in order
}

func (l *ledger) apply(e event) {
	o := l.o
	switch e.kind {
	case evPurchase:
		if o.account == nil && l.prog.AutoEnroll {
			l.enroll()
		}
		acc := o.account
		points, to := 0, models.Tier("")
		qualifies := e.at.After(loyalty.AddMonths(l.g.now, -l.prog.QualificationMonths))
		if acc != nil {
			points = int(loyalty.EarnPoints(l.prog, acc.Tier, e.amount).IntPart())
			if qualifies {
				to = l.upgradeTo(points)
			}
		}
		channel := e.channel
		pur := models.Purchase{
			ID: newID(l.r), OrganizationID: l.g.org, CustomerID: o.customer.ID, OrderID: e.orderID,
			Amount: e.amount, RefundedAmount: decimal.Zero, PointsEarned: points, Channel: &channel,
			OccurredAt: e.at, CreatedAt: l.g.now,
		}
		l.byOrder[e.orderID] = len(o.purchases)
		o.purchases = append(o.purchases, pur)
		if last := o.customer.LastPurchaseAt; last == nil || e.at.After(*last) {
			at := e.at
			o.customer.LastPurchaseAt = &at
		}
		if acc == nil {
			return
		}
		if points > 0 {
			acc.PointsBalance += points
			at := e.at
			l.move(models.TxEarn, points, "order", e.orderID, nil, map[string]any{"purchase_id": pur.ID}, true, &at)
			if qualifies {
				l.qualifying += points
			}
			if lot := &o.transactions[len(o.transactions)-1]; !lot.ExpiresAt.After(lot.CreatedAt) {
				l.expireAtOnce(lot)
			}
		}
		acc.LifetimePoints += points
		acc.TotalPurchases++
		acc.TotalSpent = acc.TotalSpent.Add(e.amount)
		l.setTier(to)

	case evRefund:
		pur := &o.purchases[l.byOrder[e.orderID]]
		acc := o.account
		reverse := 0
		if acc != nil && !l.expiredAtOnce[pur.OrderID] {
			reverse = loyalty.RefundReversal(pur, e.amount, acc.PointsBalance)
		}
		o.refunds = append(o.refunds, models.PurchaseRefund{
			RefundID: e.refundID, OrganizationID: l.g.org, PurchaseID: pur.ID, Amount: e.amount,
			PointsReversed: reverse, CreatedAt: l.g.now,
		})
		if reverse > 0 {
			acc.PointsBalance -= reverse
			l.move(models.TxAdjust, -reverse, "refund", e.refundID, ptr("Refund of order "+pur.OrderID),
				map[string]any{"purchase_id": pur.ID, "order_id": pur.OrderID, "amount": e.amount.StringFixed(2)}, false, nil)
			l.consume(reverse)
			if pur.OccurredAt.After(loyalty.AddMonths(l.g.now, -l.prog.QualificationMonths)) {
				l.qualifying -= reverse // a reversal counts at the time of the earn it reverses
			}
		}
		pur.RefundedAmount = pur.RefundedAmount.Add(e.amount)
		pur.PointsReversed += reverse
		if acc != nil {
			acc.LifetimePoints -= reverse
			acc.TotalSpent = acc.TotalSpent.Sub(e.amount)
		}

	case evEnroll:
		l.enroll()

	case evBonus:
		l.enroll()
		acc := o.account
		to := l.upgradeTo(e.points)
		acc.PointsBalance += e.points
		l.move(models.TxBonus, e.points, "bonus", e.ref, ptr(e.text), nil, true, nil)
		l.qualifying += e.points
		acc.LifetimePoints += e.points
		l.setTier(to)

	case evRedeem:
		l.enroll()
		acc := o.account
		points := redeemPoints(acc.PointsBalance, e.percent)
		if points < 1 {
			return
		}
		acc.PointsBalance -= points
		l.move(models.TxRedeem, -points, rewardReference, e.ref, ptr(e.text), nil, false, nil)
		l.consume(points)
		acc.PointsRedeemed += points
	}
}

// rewardReference is the reference type of the sample redemptions.
const rewardReference = "reward"

// enroll opens the account if there is none (loyalty.Enroll): bronze, with the totals of the
// purchases so far (their points are not earned after the fact).
func (l *ledger) enroll() {
	if l.o.account != nil {
		return
	}
	acc := &models.LoyaltyAccount{
		ID: newID(l.r), OrganizationID: l.g.org, CustomerID: l.o.customer.ID, Tier: models.TierBronze,
		TierSince: l.g.today, TotalSpent: decimal.Zero, CreatedAt: l.g.now, UpdatedAt: l.g.now,
	}
	for _, p := range l.o.purchases {
		acc.TotalPurchases++
		acc.TotalSpent = acc.TotalSpent.Add(p.Amount.Sub(p.RefundedAmount))
	}
	l.o.account = acc
}

// move writes a transaction with the balance after it (the caller changed the balance); a
// lot holds its points until they are spent or expire, points_lifetime_months after
// occurredAt when given (a purchase's), else after now.
func (l *ledger) move(typ models.LoyaltyTransactionType, points int, refType, refID string, description *string, metadata map[string]any, lot bool, occurredAt *time.Time) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	at := l.g.now.Add(l.clock)
	l.clock += time.Microsecond
	t := models.LoyaltyTransaction{
		ID: newID(l.r), OrganizationID: l.g.org, LoyaltyAccountID: l.o.account.ID, Type: typ, Points: points,
		BalanceAfter: l.o.account.PointsBalance, ReferenceType: ptr(refType), ReferenceID: ptr(refID),
		Description: description, Metadata: metadata, CreatedAt: at, OccurredAt: occurredAt,
	}
	if lot {
		from := at
		if occurredAt != nil {
			from = *occurredAt
		}
		remaining, expires := points, loyalty.AddMonths(from, l.prog.PointsLifetimeMonths)
		t.PointsRemaining, t.ExpiresAt = &remaining, &expires
		l.lots = append(l.lots, len(l.o.transactions))
	}
	l.o.transactions = append(l.o.transactions, t)
}

// expireAtOnce expires a lot whose date had passed when it was recorded (§13): one expire
// transaction, as the purchase's own lazy expiry writes.
func (l *ledger) expireAtOnce(lot *models.LoyaltyTransaction) {
	points := *lot.PointsRemaining
	*lot.PointsRemaining = 0
	if l.expiredAtOnce == nil {
		l.expiredAtOnce = map[string]bool{}
	}
	l.expiredAtOnce[*lot.ReferenceID] = true
	acc := l.o.account
	acc.PointsBalance -= points
	at := l.g.now.Add(l.clock)
	l.clock += time.Microsecond
	l.o.transactions = append(l.o.transactions, models.LoyaltyTransaction{
		ID: newID(l.r), OrganizationID: l.g.org, LoyaltyAccountID: acc.ID, Type: models.TxExpire, Points: -points,
		BalanceAfter: acc.PointsBalance, Description: ptr("Points expired"), Metadata: map[string]any{"lots": 1}, CreatedAt: at,
	})
}

// consume takes points from the lots, the first to expire first (loyalty.ConsumeFIFO; the
// order of consumeLots: expiry, then creation).
func (l *ledger) consume(points int) {
	sort.SliceStable(l.lots, func(a, b int) bool {
		ta, tb := l.o.transactions[l.lots[a]], l.o.transactions[l.lots[b]]
		if !ta.ExpiresAt.Equal(*tb.ExpiresAt) {
			return ta.ExpiresAt.Before(*tb.ExpiresAt)
		}
		return ta.CreatedAt.Before(tb.CreatedAt)
	})
	remaining := make([]int, len(l.lots))
	for k, i := range l.lots {
		remaining[k] = *l.o.transactions[i].PointsRemaining
	}
	took, short := loyalty.ConsumeFIFO(remaining, points)
	if short > 0 {
		panic(fmt.Sprintf("seed: the lots of customer %s hold less than its balance", l.o.customer.ID))
	}
	for k, i := range l.lots {
		*l.o.transactions[i].PointsRemaining -= took[k]
	}
}

// upgradeTo is the tier the account rises to when added qualifying points join the ones
// it has, "" when it stays (loyalty.UpgradeTo).
func (l *ledger) upgradeTo(added int) models.Tier {
	return loyalty.UpgradeTo(l.prog, l.o.account.Tier, l.qualifying, added)
}

func (l *ledger) setTier(to models.Tier) {
	if to == "" {
		return
	}
	expires := loyalty.AddMonths(l.g.today, l.prog.TierDurationMonths)
	acc := l.o.account
	acc.Tier, acc.TierSince, acc.TierExpiresAt = to, l.g.today, &expires
}

// credit plays the credit plan as credit.Service does: open, approve, the charges the limit
// allows (each due its term after the day it was charged), one payment allocated oldest
// due first, then the suspension. Unpaid charges past their due date are overdue.
func (l *ledger) credit(p *plan) {
	g, cp, o := l.g, p.credit, l.o
	acc := &models.CreditAccount{
		ID: newID(l.r), OrganizationID: g.org, CustomerID: o.customer.ID, CreditLimit: cp.limit,
		CreditUsed: decimal.Zero, PaymentTermDays: cp.term, Status: models.CreditStatusPending,
		CreatedAt: g.now, UpdatedAt: g.now,
	}
	if len(cp.charges) > 0 && cp.charges[0].at.Before(acc.CreatedAt) {
		acc.CreatedAt = cp.charges[0].at // opened by its first charged order, as the demo dates it
	}
	o.credit = acc
	if cp.status == models.CreditStatusPending {
		return
	}
	acc.Status, acc.ApprovedAt, acc.ApprovedBy, acc.ApprovalNotes = models.CreditStatusApproved, &g.now, &g.approver, ptr(approvalNotes)
	for _, ch := range cp.charges {
		if ch.amount.GreaterThan(acc.CreditLimit.Sub(acc.CreditUsed)) {
			continue // CREDIT_LIMIT_EXCEEDED: the order was paid otherwise
		}
		o.usages = append(o.usages, models.CreditUsage{
			ID: newID(l.r), OrganizationID: g.org, CreditAccountID: acc.ID, OrderID: ch.orderID,
			Amount: ch.amount, AmountPaid: decimal.Zero, Status: models.UsagePending,
			DueDate: dateOf(ch.at).AddDate(0, 0, cp.term), CreatedAt: ch.at, UpdatedAt: g.now,
		})
		acc.CreditUsed = acc.CreditUsed.Add(ch.amount)
	}
	if amount, date := g.payment(cp, acc.CreditUsed); amount.IsPositive() {
		o.payments = append(o.payments, models.CreditPayment{
			ID: newID(l.r), OrganizationID: g.org, CreditAccountID: acc.ID, Amount: amount,
			PaymentReference: paymentReference(g, p), PaymentDate: date, CreatedAt: g.now,
		})
		acc.CreditUsed = acc.CreditUsed.Sub(amount)
		open := make([]credit.OpenUsage, len(o.usages))
		for i, u := range o.usages {
			open[i] = credit.OpenUsage{ID: u.ID, DueDate: u.DueDate, CreatedAt: u.CreatedAt, Unpaid: u.Amount.Sub(u.AmountPaid)}
		}
		shares, _ := credit.Allocate(amount, open)
		for i := range o.usages {
			o.usages[i].AmountPaid = o.usages[i].AmountPaid.Add(shares[i])
		}
	}
	for i := range o.usages {
		u := &o.usages[i]
		switch {
		case u.AmountPaid.Equal(u.Amount):
			u.Status = models.UsagePaid
		case u.DueDate.Before(g.today):
			u.Status = models.UsageOverdue
		}
	}
	if cp.status == models.CreditStatusSuspended {
		acc.Status, acc.SuspendedAt, acc.SuspensionReason = models.CreditStatusSuspended, &g.now, ptr(cp.reason)
	}
}

func paymentReference(g generator, p *plan) string {
	return fmt.Sprintf("%s-%06d-PAY1", g.prefix, p.n)
}
