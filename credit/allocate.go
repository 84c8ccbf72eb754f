package credit

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// OpenUsage is what allocation needs of an open (pending or overdue) charge.
type OpenUsage struct {
	ID        uuid.UUID
	DueDate   time.Time
	CreatedAt time.Time
	Unpaid    decimal.Decimal // amount − amount_paid
}

// Allocate spreads a payment over open usages (§5): oldest due date first, then oldest
// charge, then id; each takes min(unpaid, what is left of the payment). It returns each
// usage's share, in the order given, and what is left over (zero when amount ≤ what the
// usages owe, which RecordPayment checks first). RecordPayment applies it to the open usages
// it read under the account's lock; the seeder and the tests call it too.
func Allocate(amount decimal.Decimal, open []OpenUsage) (shares []decimal.Decimal, left decimal.Decimal) {
	order := make([]int, len(open))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := open[a], open[b]
		if c := x.DueDate.Compare(y.DueDate); c != 0 {
			return c
		}
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.ID.String(), y.ID.String())
	})
	shares = make([]decimal.Decimal, len(open))
	left = amount
	for _, i := range order {
		share := decimal.Max(decimal.Zero, decimal.Min(left, open[i].Unpaid))
		shares[i] = share
		left = left.Sub(share)
	}
	return shares, left
}
