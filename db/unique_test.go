package db

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestIsUniqueViolation(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
		ok   bool
	}{
		{"plain PostgreSQL: the field", &pgconn.PgError{Code: "23505", ConstraintName: "customers_email_key",
			Message: `duplicate key value violates unique constraint "customers_email_key"`}, "customers_email_key", true},
		{"Citus: shard name in the field", &pgconn.PgError{Code: "23505", ConstraintName: "customers_email_key_102067"},
			"customers_email_key", true},
		{"Citus: no field, shard name in the message", &pgconn.PgError{Code: "23505",
			Message: `duplicate key value violates unique constraint "customers_phone_key_102070"`}, "customers_phone_key", true},
		{"wrapped", fmt.Errorf("write customer: %w", &pgconn.PgError{Code: "23505",
			Message: `duplicate key value violates unique constraint "customers_document_key_102099"`}), "customers_document_key", true},
		{"a unique index", &pgconn.PgError{Code: "23505",
			Message: `duplicate key value violates unique constraint "loyalty_transactions_earn_key_1020011"`}, "loyalty_transactions_earn_key", true},
		{"short digits are the name's own", &pgconn.PgError{Code: "23505", ConstraintName: "t_key_2"}, "t_key_2", true},
		{"no name anywhere", &pgconn.PgError{Code: "23505", Message: "something else"}, "", true},
		{"not unique", &pgconn.PgError{Code: "23503", ConstraintName: "x_fkey"}, "", false},
		{"not PostgreSQL", errors.New("boom"), "", false},
	} {
		got, ok := IsUniqueViolation(c.err)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: IsUniqueViolation = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
