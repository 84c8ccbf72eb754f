// Package seed loads sample data through the server's own role, under row-level security:
// the demo organization of the embedded default (specification §11), and any number of synthetic
// customers for exploring the API at scale and for benchmarks.
//
// Both start from the same plans (generate.go): a customer, its addresses, and what it did —
// purchases over the last 15 months, refunds, bonuses, redemptions, trade credit — never a
// figure the domain derives. The demo plays them through the domain services (demo.go);
// the bulk load replays them in memory with the same rules (ledger.go) and inserts the
// result, one transaction of its organization per batch with one multi-row INSERT per
// table. Segments then come from the purchases (segments.RecalculateOrg) either way.
package seed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"customerservice/db"
	"customerservice/models"
	"customerservice/segments"
)

var (
	// DemoOrg is the organization of the embedded default's demo data and token.
	DemoOrg = uuid.MustParse("0d3e0000-0000-4000-8000-000000000001")
	// DemoUser is the user of the demo token; the demo's service calls run as it (its
	// audit rows name it), and it approved the sample credit accounts.
	DemoUser = uuid.MustParse("0d3e0000-0000-4000-8000-0000000000ad")
	// DemoOpener is the manager who opens the demo's credit accounts: DemoUser approves
	// them, and §14's four-eyes rule wants the two to differ.
	DemoOpener = uuid.MustParse("0d3e0000-0000-4000-8000-0000000000ae")
)

const (
	// DefaultBatchSize is how many customers one transaction inserts.
	DefaultBatchSize = 1000
	// DefaultWorkers is how many batches run at once; the pool needs as many connections.
	DefaultWorkers = 2
)

// Options say what to load.
type Options struct {
	Org       uuid.UUID
	Customers int
	Seed      uint64 // the same seed gives the same customers
	BatchSize int    // 0: DefaultBatchSize
	Workers   int    // 0: DefaultWorkers; the pool needs as many connections
	// Progress, when set, is called after each batch with the customers it added.
	Progress func(added int)
	Now      time.Time // the reference for dates; zero: now
}

// Customers adds opts.Customers synthetic customers to opts.Org, numbered after the ones it
// already has, in batches run opts.Workers at a time, then recalculates the organization's
// segments. Each customer comes with its purchases and what they imply under the
// organization's loyalty program (ledger.go): the account, its transactions and lots, tier
// and totals; companies with their credit account, charges and payment. It returns how many
// it added: fewer when some clashed with existing customers (email, phone or document),
// which it skips with all their rows.
func Customers(ctx context.Context, pool bun.IDB, opts Options) (int, error) {
	if opts.Org == uuid.Nil {
		return 0, errors.New("seed: no organization")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var (
		first int // the number of the first new customer
		prog  *models.LoyaltyProgram
	)
	err := db.InOrg(ctx, pool, opts.Org, false, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Table("customers").Where("organization_id = ?", opts.Org).Count(ctx)
		first = int(n)
		if err == nil {
			prog, err = program(ctx, tx, opts.Org)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	gen := newGenerator(opts.Org, opts.Seed, opts.Now, DemoUser, fmt.Sprintf("S%d", opts.Seed))

	var (
		claimed    atomic.Int64 // customers handed to a worker so far
		added      atomic.Int64
		progressMu sync.Mutex
	)
	group, gctx := errgroup.WithContext(ctx)
	for range opts.Workers {
		group.Go(func() error {
			for {
				end := int(claimed.Add(int64(opts.BatchSize)))
				start := end - opts.BatchSize
				if start >= opts.Customers {
					return nil
				}
				batch := make([]*outcome, min(end, opts.Customers)-start)
				for i := range batch {
					batch[i] = gen.replay(gen.customer(first+start+i), prog)
				}
				var n int
				err := db.InOrg(gctx, pool, opts.Org, false, func(ctx context.Context, tx bun.Tx) (err error) {
					n, err = insert(ctx, tx, batch)
					return err
				})
				if err != nil {
					return fmt.Errorf("seed: %w", err)
				}
				added.Add(int64(n))
				if opts.Progress != nil {
					progressMu.Lock()
					opts.Progress(n)
					progressMu.Unlock()
				}
			}
		})
	}
	if err := group.Wait(); err != nil {
		return int(added.Load()), err
	}
	if _, err := segments.RecalculateOrg(ctx, pool, opts.Org); err != nil {
		return int(added.Load()), fmt.Errorf("seed: %w", err)
	}
	return int(added.Load()), nil
}

// program is the organization's loyalty program, created with the defaults of §4 when it
// has none yet (as the loyalty service does on first use); the organization is registered
// too (the jobs visit it).
func program(ctx context.Context, tx bun.Tx, org uuid.UUID) (*models.LoyaltyProgram, error) {
	if err := db.RegisterOrganization(ctx, tx, org); err != nil {
		return nil, fmt.Errorf("register organization: %w", err)
	}
	if _, err := tx.NewRaw("INSERT INTO loyalty_programs (organization_id) VALUES (?) ON CONFLICT DO NOTHING", org).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create loyalty program: %w", err)
	}
	prog := new(models.LoyaltyProgram)
	if err := tx.NewSelect().Model(prog).Where("lp.organization_id = ?", org).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read loyalty program: %w", err)
	}
	return prog, nil
}

// insert writes a batch, skipping the customers whose email, phone or document the
// organization already has (and their rows), and returns how many customers it inserted.
func insert(ctx context.Context, tx bun.Tx, batch []*outcome) (int, error) {
	customers := make([]models.Customer, len(batch))
	for i, o := range batch {
		customers[i] = o.customer
	}
	var ids []uuid.UUID
	if _, err := tx.NewInsert().Model(&customers).On("CONFLICT DO NOTHING").Returning("customer_id").Exec(ctx, &ids); err != nil {
		return 0, fmt.Errorf("insert customers: %w", err)
	}
	inserted := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	var (
		addresses    []models.Address
		purchases    []models.Purchase
		refunds      []models.PurchaseRefund
		accounts     []models.LoyaltyAccount
		transactions []models.LoyaltyTransaction
		credits      []models.CreditAccount
		usages       []models.CreditUsage
		payments     []models.CreditPayment
	)
	for _, o := range batch {
		if !inserted[o.customer.ID] {
			continue
		}
		addresses = append(addresses, o.addresses...)
		purchases = append(purchases, o.purchases...)
		refunds = append(refunds, o.refunds...)
		if o.account != nil {
			accounts = append(accounts, *o.account)
		}
		transactions = append(transactions, o.transactions...)
		if o.credit != nil {
			credits = append(credits, *o.credit)
		}
		usages = append(usages, o.usages...)
		payments = append(payments, o.payments...)
	}
	// In foreign-key order.
	tables := []struct {
		name string
		rows any
		n    int
	}{
		{"addresses", &addresses, len(addresses)},
		{"purchases", &purchases, len(purchases)},
		{"purchase refunds", &refunds, len(refunds)},
		{"loyalty accounts", &accounts, len(accounts)},
		{"loyalty transactions", &transactions, len(transactions)},
		{"credit accounts", &credits, len(credits)},
		{"credit usage", &usages, len(usages)},
		{"credit payments", &payments, len(payments)},
	}
	for _, t := range tables {
		if t.n == 0 {
			continue
		}
		if _, err := tx.NewInsert().Model(t.rows).Exec(ctx); err != nil {
			return 0, fmt.Errorf("insert %s: %w", t.name, err)
		}
	}
	return len(ids), nil
}
