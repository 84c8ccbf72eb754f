package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"customerservice/config"
	"customerservice/db"
	"customerservice/internal/progress"
	"customerservice/seed"
)

// seedData loads the demo organization (once), or adds N synthetic customers to an
// organization, through the server's role under row-level security.
func seedData(ctx context.Context, cfg config.Config, args []string) error {
	fs := newFlags("seed")
	n := fs.Int("customers", 0, "add this many synthetic customers (without it: load the demo organization unless it is loaded)")
	orgFlag := fs.String("org", seed.DemoOrg.String(), "the organization to add the customers to")
	seedValue := fs.Uint64("seed", 1, "random seed: the same seed gives the same customers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	org, err := uuid.Parse(*orgFlag)
	if err != nil || org == uuid.Nil {
		return fmt.Errorf("--org %q is not an organization UUID", *orgFlag)
	}
	if *n < 0 {
		return errors.New("--customers must be a positive number")
	}
	d, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	pool, err := db.Open(ctx, d.appURL, db.Options{MaxConns: seed.DefaultWorkers})
	if err != nil {
		return err
	}
	defer pool.Close()

	if *n == 0 {
		if org != seed.DemoOrg {
			return errors.New("--org goes with --customers N: without it, seed loads the demo organization")
		}
		loaded, err := seed.Demo(ctx, pool.DB)
		if err != nil {
			return err
		}
		if !loaded {
			fmt.Println("the demo organization is loaded already (or has customers of its own): nothing to do")
			return nil
		}
		fmt.Printf("loaded the demo organization %s: %d customers\n", seed.DemoOrg, seed.DemoCustomers)
		return nil
	}

	start := time.Now()
	bar := progress.New(os.Stderr, *n, "customers")
	added, err := seed.Customers(ctx, pool.DB, seed.Options{
		Org: org, Customers: *n, Seed: *seedValue,
		Progress: func(k int) { _ = bar.Add(k) },
	})
	if err != nil {
		return err
	}
	fmt.Printf("added %d customers to organization %s in %s\n", added, org, time.Since(start).Round(100*time.Millisecond))
	return nil
}
