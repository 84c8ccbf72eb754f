// Package credit owns B2B trade credit (specification §5): the account lifecycle, charges, payments
// allocated oldest due first, overdue marking and aging.
//
// Balances change only here, each in one short transaction of the caller's organization:
// credit_used rises through a conditional UPDATE the database checks against the limit
// (charges) and falls under the account's row lock (payments, cancelled charges). The
// CHECK constraints of credit_accounts and credit_usage stay the last line of defence.
package credit

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"customerservice/auth"
	"customerservice/db"
)

// Service is the credit domain over PostgreSQL.
type Service struct {
	db *db.Handle
}

// NewService returns the service over the database handle.
func NewService(h *db.Handle) *Service { return &Service{db: h} }

// today is the date every credit rule counts from: the database's current date in UTC,
// whatever the session's time zone, so due dates, overdue and aging agree across replicas
// and with the daily job (decisions-credit.md).
const today = TodaySQL

// TodaySQL is today's date in UTC, the calendar of due dates and aging (§5).
const TodaySQL = "(now() AT TIME ZONE 'UTC')::date"

func (s *Service) write(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, p auth.Principal) error) error {
	return db.Write(ctx, s.db, fn)
}

// upper is how a stored status is named in messages: as the API spells it (§8).
func upper[S ~string](s S) string { return strings.ToUpper(string(s)) }
