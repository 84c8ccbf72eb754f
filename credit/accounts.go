package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/audit"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/models"
)

// Free-text limits (characters): approval notes and the reasons of a suspension or a
// cancellation (the same 500 as a customer's status reason).
const (
	maxNotes  = 2000
	maxReason = 500
)

// OpenAccount is a credit account requested for a B2B customer.
type OpenAccount struct {
	CustomerID      uuid.UUID
	CreditLimit     decimal.Decimal
	PaymentTermDays int
}

// Open opens a pending credit account (§5): only for a B2B customer, one per customer, with
// a limit ≥ 0 of at most two decimals and a term of 1–365 days. A customer who already has
// an account, in any status (a cancelled one included: the schema has no reopening), is
// INVALID_STATE naming that status. The customer's status does not matter here: a blocked
// or inactive customer cannot be charged, which chargeCredit enforces.
func (s *Service) Open(ctx context.Context, in OpenAccount) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	var errs apperr.List
	if err := checkLimit(in.CreditLimit, []string{"creditLimit"}); err != nil {
		errs = append(errs, err)
	}
	if in.PaymentTermDays < 1 || in.PaymentTermDays > 365 {
		errs = append(errs, apperr.OnField(apperr.Invalid, []string{"paymentTermDays"}, "must be between 1 and 365 days"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var acc models.CreditAccount
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		// FOR SHARE serializes with a change of the customer's type (customers.Update locks
		// the row and refuses b2c while a credit account exists).
		var c models.Customer
		err := tx.NewSelect().Model(&c).Column("customer_id", "customer_type", "status").
			Where("c.organization_id = ?", p.OrganizationID).Where("c.customer_id = ?", in.CustomerID).For("SHARE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.OnField(apperr.NotFound, []string{"customerId"}, "no customer with this id")
		}
		if err != nil {
			return fmt.Errorf("read customer: %w", err)
		}
		if c.Status == models.CustomerStatusMerged {
			return merged()
		}
		if c.CustomerType != models.CustomerTypeB2B {
			return apperr.OnField(apperr.Invalid, []string{"customerId"}, "only B2B customers can have a credit account")
		}
		pol, _, err := policyOf(ctx, tx, false)
		if err != nil {
			return err
		}
		acc = models.CreditAccount{
			ID:              uuid.New(),
			OrganizationID:  p.OrganizationID,
			CustomerID:      in.CustomerID,
			CreditLimit:     in.CreditLimit,
			CreditUsed:      decimal.Zero,
			PaymentTermDays: in.PaymentTermDays,
			Status:          models.CreditStatusPending,
			OpenedBy:        &p.UserID,
			// the policy of now decides whether the approval needs another manager
			OpenRequiresSecondApprover:  pol.RequireSecondApprover,
			LimitRequiresSecondApprover: pol.RequireSecondApprover,
		}
		res, err := tx.NewInsert().Model(&acc).On("CONFLICT (organization_id, customer_id) DO NOTHING").Returning("*").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert credit account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var status models.CreditStatus
			if err := tx.NewSelect().Model((*models.CreditAccount)(nil)).Column("status").
				Where("ca.organization_id = ?", p.OrganizationID).Where("ca.customer_id = ?", in.CustomerID).Scan(ctx, &status); err != nil {
				return fmt.Errorf("read existing credit account: %w", err)
			}
			return apperr.OnField(apperr.InvalidState, []string{"customerId"},
				"the customer already has a credit account, which is %s", upper(status))
		}
		if err := recordLimit(ctx, tx, p, &acc); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: "credit.open", EntityType: "credit_account", EntityID: acc.ID,
			ChangedFields: []string{"customer_id", "credit_limit", "payment_term_days", "status", "opened_by"},
			Details: map[string]any{
				"customer_id": acc.CustomerID, "credit_limit": money(acc.CreditLimit),
				"payment_term_days": acc.PaymentTermDays,
			},
		})
	})
	if err != nil {
		return nil, err
	}
	return &acc, nil
}

// Approve approves a pending account; the caller is recorded as the approver (§5). When the
// policy required a second approver as the account was opened (or its limit raised), §14,
// the caller may not be the manager who opened it (or who last raised its limit):
// SECOND_APPROVER_REQUIRED. The policy of the request's time counts, stored with it.
func (s *Service) Approve(ctx context.Context, id uuid.UUID, notes *string) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	n, verr := optionalText(notes, maxNotes, []string{"notes"})
	if verr != nil {
		return nil, verr
	}
	return s.transition(ctx, id, "credit.approve", func(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, p auth.Principal) ([]set, map[string]any, error) {
		if acc.Status != models.CreditStatusPending {
			return nil, nil, wrongStatus("approved", acc.Status, models.CreditStatusPending)
		}
		if err := fourEyes(p, "approve this account", madeBy{acc.OpenedBy, acc.OpenRequiresSecondApprover, "opened it"},
			madeBy{acc.LimitRequestedBy, acc.LimitRequiresSecondApprover, "asked for its limit"}); err != nil {
			return nil, nil, err
		}
		sets := []set{
			{"status", "?", models.CreditStatusApproved},
			{"approved_at", "now()", nil},
			{"approved_by", "?", p.UserID},
			{"approval_notes", "?", n},
		}
		if acc.LimitRequestedBy != nil { // the limit asked for is approved with the account
			sets = append(sets, set{"limit_requested_by", "NULL", nil}, set{"limit_requested_at", "NULL", nil})
		}
		return sets, nil, nil
	})
}

// Suspend closes an approved account to charges until it is reinstated; a reason is
// required. Payments are still accepted.
func (s *Service) Suspend(ctx context.Context, id uuid.UUID, reason string) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	r, verr := optionalText(&reason, maxReason, []string{"reason"})
	if verr != nil {
		return nil, verr
	}
	if r == nil {
		return nil, apperr.OnField(apperr.Invalid, []string{"reason"}, "a reason is required")
	}
	return s.transition(ctx, id, "credit.suspend", func(_ context.Context, _ bun.Tx, acc *models.CreditAccount, _ auth.Principal) ([]set, map[string]any, error) {
		if acc.Status != models.CreditStatusApproved {
			return nil, nil, wrongStatus("suspended", acc.Status, models.CreditStatusApproved)
		}
		return []set{
			{"status", "?", models.CreditStatusSuspended},
			{"suspended_at", "now()", nil},
			{"suspension_reason", "?", *r},
		}, nil, nil
	})
}

// Reinstate approves a suspended account again. suspended_at and suspension_reason keep
// describing the last suspension (the schema documents them as "last"); the audit log
// holds every one.
func (s *Service) Reinstate(ctx context.Context, id uuid.UUID) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, "credit.reinstate", func(_ context.Context, _ bun.Tx, acc *models.CreditAccount, _ auth.Principal) ([]set, map[string]any, error) {
		if acc.Status != models.CreditStatusSuspended {
			return nil, nil, wrongStatus("reinstated", acc.Status, models.CreditStatusSuspended)
		}
		return []set{{"status", "?", models.CreditStatusApproved}}, nil, nil
	})
}

// Cancel closes an account for good: from pending, approved or suspended, and only when
// nothing is outstanding (credit_used = 0), §5.
func (s *Service) Cancel(ctx context.Context, id uuid.UUID, reason *string) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	r, verr := optionalText(reason, maxReason, []string{"reason"})
	if verr != nil {
		return nil, verr
	}
	return s.transition(ctx, id, "credit.cancel", func(_ context.Context, _ bun.Tx, acc *models.CreditAccount, _ auth.Principal) ([]set, map[string]any, error) {
		if acc.Status == models.CreditStatusCancelled {
			return nil, nil, apperr.OnField(apperr.InvalidState, []string{"id"}, "the credit account is already CANCELLED")
		}
		if acc.CreditUsed.IsPositive() {
			return nil, nil, apperr.OnField(apperr.InvalidState, []string{"id"},
				"the credit account is %s with %s outstanding; it can be cancelled only when nothing is outstanding",
				upper(acc.Status), money(acc.CreditUsed))
		}
		return append([]set{
			{"status", "?", models.CreditStatusCancelled},
			{"cancelled_at", "now()", nil},
			{"cancellation_reason", "?", r},
		}, dropRequest(acc)...), nil, nil
	})
}

// UpdateLimit changes the limit of an account that is not cancelled. A limit below what is
// used is INVALID on creditLimit (the argument is what the caller must change; the
// account's state is fine), naming the credit used. The audit row holds the old and the
// new limit; the same limit again writes only that row, with no changed fields (§8).
//
// Four-eyes (§14): under a policy that requires a second approver, an increase of an
// approved or suspended account does not change the limit: it is stored as the account's
// requestedCreditLimit, asked for by the caller, until another manager approves it
// (ApproveLimit). A decrease, or any change without that policy, applies at once and drops
// a waiting increase. On a pending account the limit changes at once (it is approved with
// the account) and an increase makes the caller its requester, who may then not approve
// the account. deferred reports an increase left waiting for a second manager (the limit
// unchanged).
func (s *Service) UpdateLimit(ctx context.Context, id uuid.UUID, limit decimal.Decimal) (acc *models.CreditAccount, deferred bool, err error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, false, err
	}
	field := []string{"creditLimit"}
	if verr := checkLimit(limit, field); verr != nil {
		return nil, false, verr
	}
	acc, err = s.transition(ctx, id, "credit.update_limit", func(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, p auth.Principal) ([]set, map[string]any, error) {
		deferred = false // the transaction may run again
		if acc.Status == models.CreditStatusCancelled {
			return nil, nil, apperr.OnField(apperr.InvalidState, []string{"id"}, "the credit account is CANCELLED; its limit cannot change")
		}
		if limit.LessThan(acc.CreditUsed) {
			return nil, nil, apperr.OnField(apperr.Invalid, field,
				"the new limit %s is below the credit used (%s)", money(limit), money(acc.CreditUsed))
		}
		details := map[string]any{"old_credit_limit": money(acc.CreditLimit), "new_credit_limit": money(limit)}
		increase := limit.GreaterThan(acc.CreditLimit)
		var pol models.CreditPolicy
		if increase {
			var err error
			if pol, _, err = policyOf(ctx, tx, false); err != nil {
				return nil, nil, err
			}
		}
		if acc.Status == models.CreditStatusPending {
			if !increase {
				if limit.Equal(acc.CreditLimit) {
					return nil, details, nil
				}
				return []set{{"credit_limit", "?", limit}}, details, nil
			}
			return []set{{"credit_limit", "?", limit}, {"limit_requested_by", "?", p.UserID}, {"limit_requested_at", "now()", nil},
				{"limit_requires_second_approver", "?", pol.RequireSecondApprover}}, details, nil
		}
		if increase {
			if pol.RequireSecondApprover {
				deferred = true
				details["deferred"] = true // the limit stays old_credit_limit until approveCreditLimit
				return []set{{"requested_limit", "?", limit}, {"limit_requested_by", "?", p.UserID}, {"limit_requested_at", "now()", nil},
					{"limit_requires_second_approver", "?", true}}, details, nil
			}
		}
		sets := dropRequest(acc)
		if !limit.Equal(acc.CreditLimit) {
			sets = append(sets, set{"credit_limit", "?", limit})
		}
		return sets, details, nil
	})
	return acc, deferred && err == nil, err
}

// ApproveLimit applies the limit increase waiting on an account (§14): the caller may not
// be the manager who asked for it while the policy requires a second approver
// (SECOND_APPROVER_REQUIRED). An account with no increase waiting, or a cancelled one, is
// INVALID_STATE. The audit row holds the old and the new limit and who asked for it.
func (s *Service) ApproveLimit(ctx context.Context, id uuid.UUID) (*models.CreditAccount, error) {
	if err := auth.Require(ctx, auth.Manager); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, "credit.approve_limit", func(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, p auth.Principal) ([]set, map[string]any, error) {
		if acc.RequestedLimit == nil || acc.Status == models.CreditStatusCancelled {
			return nil, nil, apperr.OnField(apperr.InvalidState, []string{"id"},
				"the credit account is %s with no limit increase waiting for approval", upper(acc.Status))
		}
		if err := fourEyes(p, "approve this limit increase", madeBy{acc.LimitRequestedBy, acc.LimitRequiresSecondApprover, "asked for it"}); err != nil {
			return nil, nil, err
		}
		details := map[string]any{"old_credit_limit": money(acc.CreditLimit), "new_credit_limit": money(*acc.RequestedLimit),
			"requested_by": acc.LimitRequestedBy}
		return append([]set{{"credit_limit", "?", *acc.RequestedLimit}}, dropRequest(acc)...), details, nil
	})
}

// dropRequest clears a limit increase waiting on the account, if there is one.
func dropRequest(acc *models.CreditAccount) []set {
	if acc.RequestedLimit == nil {
		return nil
	}
	return []set{{"requested_limit", "NULL", nil}, {"limit_requested_by", "NULL", nil}, {"limit_requested_at", "NULL", nil}}
}

// madeBy is a request awaiting approval: the manager who made it (nil: not recorded),
// whether the policy required a second approver when it was made, and what they did.
type madeBy struct {
	who      *uuid.UUID
	required bool
	did      string
}

// fourEyes refuses the caller as the approver of a request they made while the policy
// required a second approver (§14): SECOND_APPROVER_REQUIRED on id. The policy of the
// request's time decides, stored with it (turning it off later changes nothing). A manager
// not recorded (an account inserted outside the API: the audit log names every opener
// through it, migration 20261220000001 backfilled those) excludes no one.
func fourEyes(p auth.Principal, what string, requests ...madeBy) error {
	for _, r := range requests {
		if r.required && r.who != nil && *r.who == p.UserID {
			return apperr.OnField(apperr.SecondApproverRequired, []string{"id"},
				"the credit policy requires a second approver: you %s, so another manager must %s", r.did, what)
		}
	}
	return nil
}

// set is one `column = expression` of an account update.
type set struct {
	column string
	expr   string // "?" for the value, or SQL such as now()
	value  any
}

// transition runs one change of an account in its own transaction: the account is read
// and locked (FOR UPDATE: lifecycle changes, payments and released charges of one account
// are serialized on its row), change checks the rule against the current row and says what
// to set (and what else the audit row should say), and the change is written and audited
// with the previous and new status. Nothing to set writes only the audit row.
func (s *Service) transition(ctx context.Context, id uuid.UUID, action string,
	change func(ctx context.Context, tx bun.Tx, acc *models.CreditAccount, p auth.Principal) ([]set, map[string]any, error)) (*models.CreditAccount, error) {
	var acc models.CreditAccount
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx, p auth.Principal) error {
		if err := lockAccount(ctx, tx, id, &acc); err != nil {
			return err
		}
		from := acc.Status
		sets, details, err := change(ctx, tx, &acc, p)
		if err != nil {
			return err
		}
		q := tx.NewUpdate().Model(&acc).WherePK().Returning("*")
		changed := make([]string, len(sets)) // empty, not nil: the audit row's changed fields
		for i, st := range sets {
			changed[i] = st.column
			if st.expr == "?" {
				q = q.Set("? = ?", bun.Ident(st.column), st.value)
			} else {
				q = q.Set("? = "+st.expr, bun.Ident(st.column))
			}
		}
		if len(sets) > 0 {
			if _, err := q.Exec(ctx); err != nil {
				return fmt.Errorf("%s: %w", action, err)
			}
		}
		if slices.Contains(changed, "credit_limit") {
			if err := recordLimit(ctx, tx, p, &acc); err != nil {
				return err
			}
		}
		d := map[string]any{"from": from, "to": acc.Status}
		for k, v := range details {
			d[k] = v
		}
		return audit.Record(ctx, tx, p, audit.Entry{
			Action: action, EntityType: "credit_account", EntityID: acc.ID, ChangedFields: changed, Details: d,
		})
	})
	if err != nil {
		return nil, err
	}
	return &acc, nil
}

// recordLimit appends the account's (new) limit to its history, from now on (§13 as-of).
func recordLimit(ctx context.Context, tx bun.Tx, p auth.Principal, acc *models.CreditAccount) error {
	ch := models.CreditLimitChange{ID: uuid.New(), OrganizationID: p.OrganizationID, CreditAccountID: acc.ID,
		CreditLimit: acc.CreditLimit, ChangedBy: p.UserID}
	if _, err := tx.NewInsert().Model(&ch).Exec(ctx); err != nil {
		return fmt.Errorf("record credit limit: %w", err)
	}
	return nil
}

// lockAccount reads an account of the organization and locks it for the transaction. An
// account of another organization is as missing as one that does not exist (§7). ca.*
// reads credit_available too, which bun leaves out of a model's columns (scanonly).
func lockAccount(ctx context.Context, tx bun.Tx, id uuid.UUID, acc *models.CreditAccount) error {
	err := tx.NewSelect().Model(acc).ColumnExpr("ca.*").Where("ca.organization_id = ?", db.Org(ctx)).
		Where("ca.credit_account_id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.OnField(apperr.NotFound, []string{"id"}, "no credit account with this id")
	}
	if err != nil {
		return fmt.Errorf("read credit account: %w", err)
	}
	return nil
}

// wrongStatus is the INVALID_STATE of a lifecycle transition, naming the current status.
func wrongStatus(verb string, current, want models.CreditStatus) *apperr.Error {
	return apperr.OnField(apperr.InvalidState, []string{"id"},
		"the credit account is %s; only a %s account can be %s", upper(current), upper(want), verb)
}

// HasOpenAccount reports, in the caller's transaction, whether the organization's customer
// holds a credit account that is not cancelled: such a customer must stay B2B (§5;
// customers.Update asks).
func HasOpenAccount(ctx context.Context, tx bun.IDB, org, customerID uuid.UUID) (bool, error) {
	open, err := tx.NewSelect().Model((*models.CreditAccount)(nil)).
		Where("ca.organization_id = ?", org).Where("ca.customer_id = ?", customerID).
		Where("ca.status <> ?", models.CreditStatusCancelled).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read credit account: %w", err)
	}
	return open, nil
}
