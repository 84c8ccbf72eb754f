// Package apperr is the service's one error type: a machine code, a human message and, for
// input errors, the path of the offending field. Domain packages return these; the GraphQL
// edge maps them once (userErrors in mutations, extensions.code in queries). Anything else is
// reported as INTERNAL with the detail only in the log.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code of the GraphQL contract (specification §8).
type Code string

const (
	Invalid             Code = "INVALID"
	Taken               Code = "TAKEN"
	NotFound            Code = "NOT_FOUND"
	CustomerBlocked     Code = "CUSTOMER_BLOCKED"
	InsufficientPoints  Code = "INSUFFICIENT_POINTS"
	CreditLimitExceeded Code = "CREDIT_LIMIT_EXCEEDED"
	InvalidState        Code = "INVALID_STATE"
	IdempotencyConflict Code = "IDEMPOTENCY_CONFLICT"
	// §14
	OverdueBeyondPolicy    Code = "OVERDUE_BEYOND_POLICY"
	SecondApproverRequired Code = "SECOND_APPROVER_REQUIRED"
	Unauthenticated        Code = "UNAUTHENTICATED"
	Forbidden              Code = "FORBIDDEN"
)

// Error is a domain error safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Field is the path of the offending field within the service method's own inputs
	// (["email"], ["tags", "2"], ["id"]), never the transport's: the GraphQL edge puts it
	// under the argument it came in (["input", "email"]). Empty when not about one field.
	Field []string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns an error with the code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// OnField returns an error about one input field.
func OnField(code Code, field []string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Field: field}
}

// List is several domain errors at once (all the invalid fields of one input).
type List []*Error

func (l List) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	return fmt.Sprintf("%s (and %d more)", l[0].Error(), len(l)-1)
}

// Err returns nil for an empty list, so validators can end with `return errs.Err()`.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Of returns the domain errors inside err; ok is false when err is not a domain error.
func Of(err error) (errs []*Error, ok bool) {
	var list List
	if errors.As(err, &list) {
		return list, true
	}
	var one *Error
	if errors.As(err, &one) {
		return []*Error{one}, true
	}
	return nil, false
}

// Is reports whether err is a domain error with the code.
func Is(err error, code Code) bool {
	errs, _ := Of(err)
	for _, e := range errs {
		if e.Code == code {
			return true
		}
	}
	return false
}
