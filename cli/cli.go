// Package cli is the command line of customer-service: it parses the subcommand and its
// flags, reads the configuration, and runs the command — serve (the API and the scheduled
// jobs, until a signal, with the embedded PostgreSQL by default), migrate, seed, token, jobs
// run, segments recalc and import — with the same flags, output and exit status each has always had.
// It owns the process's lifetime (signals, draining, the embedded PostgreSQL's start and
// stop); the API itself is wired by the composition root, server.go, which hands it to Run.
package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/uuid"

	"customerservice/config"
)

const usage = `Customer Service: the GraphQL API of an organization's customers.

Usage:
  customer-service [serve] [--allow-unsafe-role]   serve the API (the default command) and run the daily
                                                    jobs at JOBS_DAILY_AT, once across replicas
  customer-service migrate up|down|status           apply, roll back the last, or list migrations
  customer-service seed [--customers N] [--org UUID] [--seed S]
                                                    load the demo organization, or add N synthetic customers
  customer-service token [--org UUID] [--sub UUID] --roles viewer,agent,manager,admin [--ttl 24h]
                                                    print a development token (HS256)
  customer-service jobs run [--org UUID]            run the daily jobs: points expiry, tier re-evaluation,
                                                    overdue credit, segments (every organization by default)
  customer-service segments recalc [--org UUID | --all]
                                                    recalculate the RFM segments now
  customer-service import customers|purchases FILE.csv --org UUID --actor UUID [--batch N]
                                                    load a CSV file (README, Import); rejected rows are
                                                    printed by line, the others load; re-runs are safe
  customer-service citus distribute                 on Citus: distribute the tables by organization
                                                    (idempotent; README, Scaling out)

Settings come from environment variables (see README.md). Without DATABASE_URL every
command uses the embedded PostgreSQL kept under DATA_DIR (default .data).
`

// Run runs the command of args (the command line without the program's name); serve builds
// its API with wireAPI. An error is the command's failure, to print; flag.ErrHelp means the
// usage was asked for and printed.
func Run(args []string, wireAPI WireAPI) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	if command == "help" {
		fmt.Print(usage)
		return nil
	}
	cfg, err := config.ForCommand(command)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch command {
	case "serve":
		err := serve(ctx, stop, cfg, args, wireAPI)
		if err != nil && ctx.Err() != nil {
			// SIGINT or SIGTERM during start-up: stopping is what was asked for, and serve's
			// deferred steps have stopped what it had started (PostgreSQL included).
			fmt.Fprintf(os.Stderr, "customer-service: stopped during start-up (%v)\n", err)
			return nil
		}
		return err
	case "migrate":
		return migrate(ctx, cfg, args)
	case "seed":
		return seedData(ctx, cfg, args)
	case "token":
		return token(cfg, args)
	case "jobs":
		return runJobs(ctx, cfg, args)
	case "segments":
		return recalcSegments(ctx, cfg, args)
	case "citus":
		return citusCommand(ctx, cfg, args)
	case "import":
		return importFile(ctx, cfg, args)
	default:
		return fmt.Errorf("unknown command %q\n\n%s", command, usage)
	}
}

// help prints the usage and returns flag.ErrHelp (exit 0) when args are just -h, -help or
// --help, as the flags of the commands that have some do; nil otherwise.
func help(args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	return nil
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage, "\nFlags of ", name, ":\n")
		fs.PrintDefaults()
	}
	return fs
}

// orgsFlag reads --org: one organization, or nil for every organization.
func orgsFlag(value string) ([]uuid.UUID, error) {
	if value == "" {
		return nil, nil
	}
	org, err := uuid.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("--org must be an organization UUID: %w", err)
	}
	return []uuid.UUID{org}, nil
}
