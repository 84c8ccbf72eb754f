package seed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"customerservice/models"
)

// The bulk load cannot afford a service call per purchase, so it replays each plan here, in
// memory, with the rules of loyalty.Service and credit.Service (DESIGN §4, §5), and inserts
// the rows the services would have left. The demo, loaded through the services, is the
// reference: the tests play the same plans both ways and compare every figure.
//
// Like the demo, the replay records the whole history now (an organization importing its
// order history into the program): purchases keep the date they occurred, while the points
// they earned are lots recorded now, expiring points_lifetime_months from now, and count
// toward tiers from now. So a load leaves nothing for the expiry or tier jobs to do, and
// the balance of every account is what its lots hold.

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
	g          generator
	prog       *models.LoyaltyProgram
	r          *rand.Rand
	o          *outcome
	byOrder    map[string]int // index in o.purchases
	lots       []int          // indexes in o.transactions, oldest first (FIFO, §4)
	qualifying int            // points counting toward tiers (all of them: recorded now)
	clock      time.Duration  // after now, of the next transaction: they are recorded in order
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
		if acc != nil {
			points = int(earnPoints(l.prog, acc.Tier, e.amount).IntPart())
			to = l.upgradeTo(points)
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
			l.move(models.TxEarn, points, "order", e.orderID, nil, map[string]any{"purchase_id": pur.ID}, true)
			l.qualifying += points
		}
		acc.LifetimePoints += points
		acc.TotalPurchases++
		acc.TotalSpent = acc.TotalSpent.Add(e.amount)
		l.setTier(to)

	case evRefund:
		pur := &o.purchases[l.byOrder[e.orderID]]
		acc := o.account
		reverse := 0
		if acc != nil {
			// loyalty.RecordRefund: the cumulative share of the points, never below zero.
			refunded := pur.RefundedAmount.Add(e.amount)
			target := int(decimal.NewFromInt(int64(pur.PointsEarned)).Mul(refunded).Div(pur.Amount).Floor().IntPart())
			reverse = max(0, min(target-pur.PointsReversed, acc.PointsBalance))
		}
		o.refunds = append(o.refunds, models.PurchaseRefund{
			RefundID: e.refundID, OrganizationID: l.g.org, PurchaseID: pur.ID, Amount: e.amount,
			PointsReversed: reverse, CreatedAt: l.g.now,
		})
		if reverse > 0 {
			acc.PointsBalance -= reverse
			l.move(models.TxAdjust, -reverse, "refund", e.refundID, ptr("Refund of order "+pur.OrderID),
				map[string]any{"purchase_id": pur.ID, "order_id": pur.OrderID, "amount": e.amount.StringFixed(2)}, false)
			l.consume(reverse)
			l.qualifying -= reverse
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
		l.move(models.TxBonus, e.points, "bonus", e.ref, ptr(e.text), nil, true)
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
		l.move(models.TxRedeem, -points, rewardReference, e.ref, ptr(e.text), nil, false)
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
// lot holds its points until they are spent or expire.
func (l *ledger) move(typ models.LoyaltyTransactionType, points int, refType, refID string, description *string, metadata map[string]any, lot bool) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	at := l.g.now.Add(l.clock)
	l.clock += time.Microsecond
	t := models.LoyaltyTransaction{
		ID: newID(l.r), OrganizationID: l.g.org, LoyaltyAccountID: l.o.account.ID, Type: typ, Points: points,
		BalanceAfter: l.o.account.PointsBalance, ReferenceType: ptr(refType), ReferenceID: ptr(refID),
		Description: description, Metadata: metadata, CreatedAt: at,
	}
	if lot {
		remaining, expires := points, addMonths(at, l.prog.PointsLifetimeMonths)
		t.PointsRemaining, t.ExpiresAt = &remaining, &expires
		l.lots = append(l.lots, len(l.o.transactions))
	}
	l.o.transactions = append(l.o.transactions, t)
}

// consume takes points from the lots, oldest first.
func (l *ledger) consume(points int) {
	for _, i := range l.lots {
		if points == 0 {
			return
		}
		rem := l.o.transactions[i].PointsRemaining
		took := min(*rem, points)
		*rem -= took
		points -= took
	}
	if points > 0 {
		panic(fmt.Sprintf("seed: the lots of customer %s hold less than its balance", l.o.customer.ID))
	}
}

// upgradeTo is the tier the account rises to when added qualifying points cross a
// threshold, "" when it stays (loyalty's upgradeTo: immediate, never down).
func (l *ledger) upgradeTo(added int) models.Tier {
	tier := l.o.account.Tier
	if tier == models.TierPlatinum || added <= 0 {
		return ""
	}
	if to := tierFor(l.prog, l.qualifying+added); tierRank(to) > tierRank(tier) {
		return to
	}
	return ""
}

func (l *ledger) setTier(to models.Tier) {
	if to == "" {
		return
	}
	expires := addMonths(l.g.today, l.prog.TierDurationMonths)
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
		left := amount
		for i := range o.usages { // all due the same day when the payment was recorded: in charge order
			u := &o.usages[i]
			share := decimal.Min(left, u.Amount.Sub(u.AmountPaid))
			u.AmountPaid = u.AmountPaid.Add(share)
			left = left.Sub(share)
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

// The loyalty rules of §4, as loyalty/tiers.go has them, in exact decimal arithmetic.

var tierOrder = []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum}

func tierRank(t models.Tier) int {
	for i, x := range tierOrder {
		if x == t {
			return i
		}
	}
	return 0
}

func tierFor(p *models.LoyaltyProgram, qualifying int) models.Tier {
	switch {
	case qualifying >= p.ThresholdPlatinum:
		return models.TierPlatinum
	case qualifying >= p.ThresholdGold:
		return models.TierGold
	case qualifying >= p.ThresholdSilver:
		return models.TierSilver
	}
	return models.TierBronze
}

func earnPoints(p *models.LoyaltyProgram, t models.Tier, amount decimal.Decimal) decimal.Decimal {
	m := p.MultiplierBronze
	switch t {
	case models.TierSilver:
		m = p.MultiplierSilver
	case models.TierGold:
		m = p.MultiplierGold
	case models.TierPlatinum:
		m = p.MultiplierPlatinum
	}
	return amount.Mul(p.PointsPerCurrencyUnit).Mul(m).Floor()
}

// addMonths is t plus months as PostgreSQL adds an interval of months: the same day of the
// month, or the month's last day when it has fewer days.
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
