package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"golang.org/x/sync/errgroup"

	"customerservice/audit"
	"customerservice/auth"
	"customerservice/credit"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/loyalty"
	"customerservice/models"
	"customerservice/segments"
)

const (
	// DemoCustomers is the size of the demo organization.
	DemoCustomers = 300
	// demoSeed is the seed of the demo organization's plans.
	demoSeed = 1
	// demoWorkers is how many customers the demo plays at once, each service call in its
	// own short transaction; it uses as many connections, plus one that holds the lock.
	demoWorkers = 4
)

// Demo loads the demo organization unless it has customers already: a second start of the
// embedded default keeps what the first loaded. It reports whether it loaded.
//
// The customers and their addresses are inserted; everything else goes through the domain
// services as a client would call them, as an admin of the organization: each customer's
// purchases of the last 15 months (loyalty.RecordPurchase with the date they occurred, which
// enrolls and earns), refunds, sign-up and birthday bonuses and redemptions; trade credit
// for companies (open, approve, charges, a payment, a suspension); then the status of the
// customers who are inactive or blocked, and the segments (segments.RecalculateOrg). So
// balances, lots, tiers, totals, credit used and segments hold by construction.
//
// One step is not a service call: charges are due their term after the day they are
// recorded, so to have charges of the past (and overdue ones) the demo then moves each
// charge's created_at to the day its order was placed and its due date to that day plus
// the term, and runs the overdue job (credit.MarkOverdueFor) as the nightly run would.
//
// Purchases are back-dated (§13): their points expire 12 months after the purchase — those
// of purchases older than that are earned and expired at once — and count toward tiers at
// the purchase's date; bonuses and redemptions are recorded now. The first `jobs run`
// expires nothing, changes no tier, and recalculates the same segments (purchase times keep
// at least six hours from any day boundary, see ago).
//
// The load is many transactions (each service call its own, as for a client), so it marks
// its end: a `seed.demo` audit row of the organization, written in the transaction that
// holds the load's lock and committed only once everything else has. A load that did not
// get there — it failed, or the process was killed — left its customers without the
// marker: the next load deletes them, with everything that hangs from them, and starts
// over (the audit rows of the service calls stay). An organization with other customers
// than the demo's is in use, and is left alone.
func Demo(ctx context.Context, pool *bun.DB) (loaded bool, err error) {
	return loadDemo(ctx, pool, time.Now())
}

// demoPlans are the demo organization's customers: the generator's, with credit accounts
// in every state the API shows — the first company's pending, the second's suspended, the
// others approved.
func demoPlans(g generator) []*plan {
	plans := make([]*plan, DemoCustomers)
	accounts := 0
	for i := range plans {
		p := g.customer(i)
		if p.credit != nil {
			r := rand.New(rand.NewPCG(g.seed, uint64(i)|1<<62)) // a stream of its own
			switch accounts {
			case 0:
				p.credit.status = models.CreditStatusPending
			case 1:
				p.credit.status = models.CreditStatusSuspended
			default:
				p.credit.status = models.CreditStatusApproved
			}
			g.charges(r, p, p.credit)
			accounts++
		}
		plans[i] = p
	}
	return plans
}

func demoGenerator(now time.Time) generator {
	return newGenerator(DemoOrg, demoSeed, now, DemoUser, "DEMO")
}

func loadDemo(ctx context.Context, pool *bun.DB, now time.Time) (loaded bool, err error) {
	g := demoGenerator(now)
	plans := demoPlans(g)
	ids := make([]uuid.UUID, len(plans))
	for i, p := range plans {
		ids[i] = p.customer.ID
	}
	err = db.InOrg(ctx, pool, DemoOrg, false, func(ctx context.Context, tx bun.Tx) error {
		// Two processes starting at once must not both load it: the second waits here, for
		// as long as the first takes, then finds the marker.
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('customer-service demo seed'))"); err != nil {
			return err
		}
		done, err := tx.NewSelect().Model((*models.AuditEntry)(nil)).
			Where("al.organization_id = ?", DemoOrg).
			Where("al.entity_type = 'organization' AND al.entity_id = ? AND al.action = ?", DemoOrg, demoLoadedAction).Exists(ctx)
		if err != nil || done {
			return err
		}
		others, err := tx.NewSelect().Table("customers").Where("organization_id = ?", DemoOrg).
			Where("customer_id NOT IN (?)", bun.List(ids)).Exists(ctx)
		if err != nil || others {
			return err
		}
		if err := removeUnfinishedDemo(ctx, pool, ids); err != nil {
			return err
		}
		play, workers, err := demoPool(ctx, pool)
		if err != nil {
			return err
		}
		if play != pool {
			defer play.Close()
		}
		if err := playDemo(ctx, play, g, plans, workers); err != nil {
			return err
		}
		loaded = true
		return audit.Record(ctx, tx, auth.Principal{UserID: DemoUser, OrganizationID: DemoOrg}, audit.Entry{
			Action: demoLoadedAction, EntityType: "organization", EntityID: DemoOrg,
			Details: map[string]any{"customers": len(plans)},
		})
	})
	if err != nil {
		return false, fmt.Errorf("load the demo organization: %w", err)
	}
	return loaded, nil
}

// demoLoadedAction is the audit action that marks the demo organization as loaded in full.
const demoLoadedAction = "seed.demo"

// removeUnfinishedDemo deletes what an unfinished load left of the demo's customers (and,
// by cascade, their rows), committed before the load starts over: the load's own
// transactions insert the same ids.
func removeUnfinishedDemo(ctx context.Context, pool *bun.DB, ids []uuid.UUID) error {
	return db.InOrg(ctx, pool, DemoOrg, false, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.Customer)(nil)).Where("c.organization_id = ?", DemoOrg).
			Where("c.customer_id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("remove an unfinished demo load: %w", err)
		}
		return nil
	})
}

// demoPool is the pool the demo plays through and how many customers it plays at once: a
// pool of its own, with the connection settings of pool (the same role, under row-level
// security) plus synchronous_commit off — the demo makes a couple of thousand small
// commits, and waiting for each one's WAL flush would make the first start several times
// slower; a crash loses at most the last few of them, never consistency. When pool's
// driver is not pgx, pool itself, with the connections the lock leaves.
func demoPool(ctx context.Context, pool *bun.DB) (*bun.DB, int, error) {
	conn, err := pool.DB.Conn(ctx)
	if err != nil {
		return nil, 0, err
	}
	var cfg *pgx.ConnConfig
	err = conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			cfg = c.Conn().Config()
		}
		return nil
	})
	conn.Close()
	if err != nil {
		return nil, 0, err
	}
	if cfg == nil {
		workers := demoWorkers
		if maxConns := pool.DB.Stats().MaxOpenConnections; maxConns > 0 {
			if maxConns < 2 {
				return nil, 0, fmt.Errorf("the pool has %d connection; the demo needs 2", maxConns)
			}
			workers = min(workers, maxConns-1)
		}
		return pool, workers, nil
	}
	cfg.RuntimeParams["synchronous_commit"] = "off"
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(demoWorkers)
	sqldb.SetMaxIdleConns(demoWorkers)
	return bun.NewDB(sqldb, pgdialect.New(), bun.WithDiscardUnknownColumns()), demoWorkers, nil
}

// player plays plans through the domain services.
type player struct {
	g         generator
	pool      *bun.DB
	loyalty   *loyalty.Service
	credit    *credit.Service
	customers *customers.Service
}

func playDemo(ctx context.Context, pool *bun.DB, g generator, plans []*plan, workers int) error {
	if err := db.InOrg(ctx, pool, g.org, false, func(ctx context.Context, tx bun.Tx) error {
		cs := make([]models.Customer, len(plans))
		var as []models.Address
		for i, p := range plans {
			// With the date of its last purchase already, which recordPurchase would set:
			// the purchases, recorded oldest first, then do not each rewrite the row.
			cs[i] = p.customer
			cs[i].LastPurchaseAt = p.lastPurchase()
			as = append(as, p.addresses...)
		}
		if err := db.RegisterOrganization(ctx, tx, g.org); err != nil {
			return fmt.Errorf("register organization: %w", err)
		}
		if _, err := tx.NewInsert().Model(&cs).Exec(ctx); err != nil {
			return fmt.Errorf("insert customers: %w", err)
		}
		if _, err := tx.NewInsert().Model(&as).Exec(ctx); err != nil {
			return fmt.Errorf("insert addresses: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	h := db.NewHandle(&db.Pool{DB: pool}, nil)
	pl := &player{g: g, pool: pool, loyalty: loyalty.NewService(h), credit: credit.NewService(h), customers: customers.NewService(h)}
	ctx = auth.WithPrincipal(ctx, auth.Principal{UserID: g.approver, OrganizationID: g.org, Roles: []auth.Role{auth.Admin}})
	if _, err := pl.loyalty.Program(ctx); err != nil { // the program's defaults, once
		return err
	}
	var next atomic.Int64
	group, gctx := errgroup.WithContext(ctx)
	for range workers {
		group.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(plans) {
					return nil
				}
				if err := pl.play(gctx, plans[i]); err != nil {
					return fmt.Errorf("customer %d (%s): %w", i, plans[i].customer.ID, err)
				}
			}
		})
	}
	if err := group.Wait(); err != nil {
		return err
	}
	if _, err := credit.MarkOverdueFor(ctx, pool, g.org); err != nil {
		return err
	}
	_, err := segments.RecalculateOrg(ctx, pool, g.org)
	return err
}

// play plays one customer's plan: its history, its credit, then its status.
func (pl *player) play(ctx context.Context, p *plan) error {
	id := p.customer.ID
	var acc *models.LoyaltyAccount // as the last call left it; nil: not enrolled
	enroll := func() error {
		if acc != nil {
			return nil
		}
		var err error
		acc, err = pl.loyalty.Enroll(ctx, id)
		return err
	}
	for _, e := range p.history {
		switch e.kind {
		case evPurchase:
			at, channel := e.at, e.channel
			res, err := pl.loyalty.RecordPurchase(ctx, loyalty.NewPurchase{
				CustomerID: id, OrderID: e.orderID, Amount: e.amount, OccurredAt: &at, Channel: &channel,
			})
			if err != nil {
				return fmt.Errorf("purchase %s: %w", e.orderID, err)
			}
			if res.Account != nil {
				acc = res.Account
			}
		case evRefund:
			res, err := pl.loyalty.RecordRefund(ctx, loyalty.NewRefund{OrderID: e.orderID, RefundID: e.refundID, Amount: e.amount})
			if err != nil {
				return fmt.Errorf("refund %s: %w", e.refundID, err)
			}
			if res.Account != nil {
				acc = res.Account
			}
		case evEnroll:
			if err := enroll(); err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
		case evBonus:
			if err := enroll(); err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
			res, err := pl.loyalty.AwardBonus(ctx, loyalty.Bonus{CustomerID: id, Points: e.points, Reason: e.text, ReferenceID: e.ref})
			if err != nil {
				return fmt.Errorf("bonus %s: %w", e.ref, err)
			}
			acc = res.Account
		case evRedeem:
			if err := enroll(); err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
			points := redeemPoints(acc.PointsBalance, e.percent)
			if points < 1 {
				continue
			}
			text := e.text
			res, err := pl.loyalty.Redeem(ctx, loyalty.Redemption{
				CustomerID: id, Points: points, ReferenceType: rewardReference, ReferenceID: e.ref, Description: &text,
			})
			if err != nil {
				return fmt.Errorf("redeem %s: %w", e.ref, err)
			}
			acc = res.Account
		}
	}
	if p.credit != nil {
		if err := pl.playCredit(ctx, p); err != nil {
			return fmt.Errorf("credit: %w", err)
		}
	}
	if p.status != models.CustomerStatusActive {
		if _, err := pl.customers.SetStatus(ctx, id, p.status, p.reason); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	return nil
}

func (pl *player) playCredit(ctx context.Context, p *plan) error {
	cp, id := p.credit, p.customer.ID
	opener := auth.WithPrincipal(ctx, auth.Principal{UserID: DemoOpener, OrganizationID: pl.g.org, Roles: []auth.Role{auth.Manager}})
	acc, err := pl.credit.Open(opener, credit.OpenAccount{CustomerID: id, CreditLimit: cp.limit, PaymentTermDays: cp.term})
	if err != nil || cp.status == models.CreditStatusPending {
		return err
	}
	if acc, err = pl.credit.Approve(ctx, acc.ID, ptr(approvalNotes)); err != nil {
		return err
	}
	type charged struct {
		id uuid.UUID
		at time.Time
	}
	var usages []charged
	for _, ch := range cp.charges {
		if ch.amount.GreaterThan(acc.CreditAvailable) {
			continue // it would be CREDIT_LIMIT_EXCEEDED: the order was paid otherwise
		}
		a, u, err := pl.credit.Charge(ctx, credit.Charge{CustomerID: id, OrderID: ch.orderID, Amount: ch.amount})
		if err != nil {
			return fmt.Errorf("charge %s: %w", ch.orderID, err)
		}
		acc = a
		usages = append(usages, charged{u.ID, ch.at})
	}
	if amount, date := pl.g.payment(cp, acc.CreditUsed); amount.IsPositive() {
		// Not a service call: the account was opened by its first charged order, and a
		// payment may not predate its account (credit.checkPaymentDate).
		if err := db.InOrg(ctx, pl.pool, pl.g.org, false, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewUpdate().Model((*models.CreditAccount)(nil)).
				Set("created_at = LEAST(created_at, ?)", cp.charges[0].at).
				Where("ca.organization_id = ?", pl.g.org).Where("ca.credit_account_id = ?", acc.ID).Exec(ctx)
			return err
		}); err != nil {
			return fmt.Errorf("date account: %w", err)
		}
		if acc, _, err = pl.credit.RecordPayment(ctx, credit.Payment{
			CustomerID: id, Amount: amount, PaymentReference: paymentReference(pl.g, p), PaymentDate: &date,
		}); err != nil {
			return fmt.Errorf("payment: %w", err)
		}
	}
	// The seeding step that is not a service call: the charges happened on the day of their
	// order, so they fall due then plus the term (the service dates them today).
	if len(usages) > 0 {
		if err := db.InOrg(ctx, pl.pool, pl.g.org, false, func(ctx context.Context, tx bun.Tx) error {
			for _, u := range usages {
				if _, err := tx.NewUpdate().Model((*models.CreditUsage)(nil)).
					Set("created_at = ?", u.at).
					Set("due_date = ?", dateOf(u.at).AddDate(0, 0, cp.term).Format(time.DateOnly)).
					Where("cu.organization_id = ?", pl.g.org).Where("cu.usage_id = ?", u.id).Exec(ctx); err != nil {
					return fmt.Errorf("date charge: %w", err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if cp.status == models.CreditStatusSuspended {
		if _, err := pl.credit.Suspend(ctx, acc.ID, cp.reason); err != nil {
			return err
		}
	}
	return nil
}
