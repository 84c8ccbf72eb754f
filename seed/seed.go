// Package seed loads sample data through the server's own role, under row-level security:
// the demo organization of the embedded default (DESIGN §9), and any number of synthetic
// customers for exploring the API at scale and for benchmarks. Each batch is one transaction
// of its organization (db.InOrg) with one multi-row INSERT per table.
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
)

var (
	// DemoOrg is the organization of the embedded default's demo data and token.
	DemoOrg = uuid.MustParse("0d3e0000-0000-4000-8000-000000000001")
	// DemoUser is the user of the demo token; it also approved the sample credit accounts.
	DemoUser = uuid.MustParse("0d3e0000-0000-4000-8000-0000000000ad")
)

const (
	// DemoCustomers is the size of the demo organization.
	DemoCustomers = 300
	// DefaultBatchSize is how many customers one transaction inserts.
	DefaultBatchSize = 1000
	// DefaultWorkers is how many batches run at once.
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

// Demo loads the demo organization, all at once, unless it has customers already: a second
// start of the embedded default keeps what the first loaded. It reports whether it loaded.
func Demo(ctx context.Context, pool *bun.DB) (loaded bool, err error) {
	g := newGenerator(DemoOrg, 1, time.Now(), DemoUser)
	err = db.InOrg(ctx, pool, DemoOrg, false, func(ctx context.Context, tx bun.Tx) error {
		// Two processes starting at once must not both load it.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('customer-service demo seed'))"); err != nil {
			return err
		}
		n, err := tx.NewSelect().Table("customers").Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		batch := make([]rows, DemoCustomers)
		for i := range batch {
			batch[i] = g.customer(i)
		}
		_, err = insert(ctx, tx, batch)
		loaded = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("load the demo organization: %w", err)
	}
	return loaded, nil
}

// Customers adds opts.Customers synthetic customers to opts.Org, numbered after the ones it
// already has, in batches run opts.Workers at a time. It returns how many it added: fewer
// when some clashed with existing customers (email, phone or document), which it skips.
func Customers(ctx context.Context, pool *bun.DB, opts Options) (int, error) {
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
	gen := newGenerator(opts.Org, opts.Seed, opts.Now, DemoUser)
	var first int // the number of the first new customer
	err := db.InOrg(ctx, pool, opts.Org, true, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Table("customers").Count(ctx)
		first = int(n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("seed: count customers: %w", err)
	}

	var (
		claimed    atomic.Int64 // customers handed to a worker so far
		added      atomic.Int64
		progressMu sync.Mutex
	)
	group, ctx := errgroup.WithContext(ctx)
	for range opts.Workers {
		group.Go(func() error {
			for {
				end := int(claimed.Add(int64(opts.BatchSize)))
				start := end - opts.BatchSize
				if start >= opts.Customers {
					return nil
				}
				batch := make([]rows, min(end, opts.Customers)-start)
				for i := range batch {
					batch[i] = gen.customer(first + start + i)
				}
				var n int
				err := db.InOrg(ctx, pool, opts.Org, false, func(ctx context.Context, tx bun.Tx) (err error) {
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
	err = group.Wait()
	return int(added.Load()), err
}

// insert writes a batch, skipping the customers whose email, phone or document the
// organization already has (and their rows), and returns how many customers it inserted.
func insert(ctx context.Context, tx bun.Tx, batch []rows) (int, error) {
	customers := make([]models.Customer, len(batch))
	for i := range batch {
		customers[i] = batch[i].customer
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
		accounts     []models.LoyaltyAccount
		transactions []models.LoyaltyTransaction
		credits      []models.CreditAccount
		usages       []models.CreditUsage
		segments     []models.CustomerSegment
	)
	for _, b := range batch {
		if !inserted[b.customer.ID] {
			continue
		}
		addresses = append(addresses, b.addresses...)
		transactions = append(transactions, b.transactions...)
		if b.loyalty != nil {
			accounts = append(accounts, *b.loyalty)
		}
		if b.credit != nil {
			credits = append(credits, *b.credit)
		}
		if b.usage != nil {
			usages = append(usages, *b.usage)
		}
		if b.segment != nil {
			segments = append(segments, *b.segment)
		}
	}
	// In foreign-key order.
	tables := []struct {
		name string
		rows any
		n    int
	}{
		{"addresses", &addresses, len(addresses)},
		{"loyalty accounts", &accounts, len(accounts)},
		{"loyalty transactions", &transactions, len(transactions)},
		{"credit accounts", &credits, len(credits)},
		{"credit usage", &usages, len(usages)},
		{"customer segments", &segments, len(segments)},
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
