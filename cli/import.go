package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"

	"customerservice/config"
	"customerservice/db"
	"customerservice/importer"
	"customerservice/internal/progress"
)

// importFile loads a CSV of customers or purchases into one organization (README, Import):
// each rejected row is printed to standard output as "line N: column: CODE: reason", the
// progress and the counts to standard error. The exit status is 1 when a row was rejected
// or the import stopped, so a script notices; the rows that loaded stay loaded either way.
func importFile(ctx context.Context, cfg config.Config, args []string) error {
	if err := help(args); err != nil {
		return err
	}
	const use = "usage: customer-service import customers|purchases FILE.csv --org UUID --actor UUID [--batch N]"
	if len(args) == 0 || args[0] != "customers" && args[0] != "purchases" {
		return errors.New(use)
	}
	kind := args[0]
	fs := newFlags("import " + kind)
	orgFlag := fs.String("org", "", "the organization to load into (required)")
	actorFlag := fs.String("actor", "", "the user running the import, recorded as the actor of its audit rows (required)")
	batch := fs.Int("batch", importer.DefaultBatchSize, "rows committed per transaction")
	// The file may come before or after the flags.
	rest := args[1:]
	var files []string
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New(use)
	}
	org, err := uuid.Parse(*orgFlag)
	if err != nil {
		return fmt.Errorf("--org must be an organization UUID: %w", err)
	}
	actor, err := uuid.Parse(*actorFlag)
	if err != nil {
		return fmt.Errorf("--actor must be a user's UUID (the audit log's actor): %w", err)
	}
	if *batch < 1 || *batch > 10000 {
		return errors.New("--batch must be between 1 and 10000")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	pool, closePool, err := appPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer closePool()

	bar := progress.New(os.Stderr, -1, "rows")
	opts := importer.Options{
		Actor: actor, BatchSize: *batch,
		Progress: func() { bar.Add(1) }, //nolint:errcheck // progress display only
		Rejected: func(r importer.Rejection) { fmt.Fprintln(os.Stdout, r) },
	}
	load := importer.Customers
	if kind == "purchases" {
		load = importer.Purchases
	}
	start := time.Now()
	sum, err := load(ctx, db.NewHandle(pool, nil), org, f, opts)
	bar.Finish() //nolint:errcheck
	printSummary(os.Stderr, kind, sum, time.Since(start))
	if err != nil {
		return err
	}
	if sum.Rejected > 0 {
		return fmt.Errorf("%d of %d rows rejected (listed above, by line); the others are loaded", sum.Rejected, sum.Rows)
	}
	return nil
}

func printSummary(w io.Writer, kind string, sum importer.Summary, took time.Duration) {
	fmt.Fprintf(w, "%s: %d rows: %d created, %d already imported, %d rejected in %s\n",
		kind, sum.Rows, sum.Created, sum.Existing, sum.Rejected, took.Round(time.Millisecond))
}
