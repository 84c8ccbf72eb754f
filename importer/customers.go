package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"customerservice/apperr"
	"customerservice/customers"
	"customerservice/db"
	"customerservice/models"
)

// CustomerColumns are the columns of a customers file, in the order the README lists them.
var CustomerColumns = []column{
	{name: "externalId", required: true},
	{name: "customerType"},
	{name: "firstName", required: true},
	{name: "lastName", required: true},
	{name: "email"},
	{name: "phone"},
	{name: "documentType"},
	{name: "documentNumber"},
	{name: "birthDate"},
	{name: "gender"},
	{name: "preferredLanguage"},
	{name: "marketingConsent"},
	{name: "tags"},
	{name: "notes", freeText: true},
}

// Customers imports the customers file of in into org: each row is createCustomer's input
// plus externalId, the customer's key in the system the file comes from. A row whose
// externalId a customer of org already has is left as it is (Existing).
func Customers(ctx context.Context, h *db.Handle, org uuid.UUID, in io.Reader, opts Options) (Summary, error) {
	svc := customers.NewService(h)
	return run(ctx, h, org, in, CustomerColumns, opts, func(ctx context.Context, tx bun.Tx, r row) (outcome, *Rejection, error) {
		ext := r.get("externalId")
		if ext == "" {
			return rejected, &Rejection{Line: r.line, Column: "externalId", Code: apperr.Invalid, Message: "externalId is required"}, nil
		}
		if _, err := customerByExternalID(ctx, tx, ext); err == nil {
			return existing, nil, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, nil, err
		}
		in, rej := newCustomer(r)
		if rej != nil {
			return rejected, rej, nil
		}
		in.ExternalID = &ext
		if _, err := svc.Create(ctx, in); err != nil {
			// A TAKEN externalId: another import created it since the look-up.
			rej, err := refusal(r.line, err, firstField)
			return rejected, rej, err
		}
		return created, nil, nil
	})
}

// customerByExternalID is the id of org's customer of externalId ext.
func customerByExternalID(ctx context.Context, tx bun.IDB, ext string) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.NewSelect().Table("customers").Column("customer_id").
		Where("organization_id = ?", db.Org(ctx)).Where("external_id = ?", ext).Scan(ctx, &id)
	return id, err
}

// newCustomer reads a row as createCustomer's input: empty cells are absent fields; the
// enumerations are spelled as in the API (B2C, CEDULA; any case); birthDate is
// YYYY-MM-DD; marketingConsent true or false; tags separated by "|".
func newCustomer(r row) (customers.NewCustomer, *Rejection) {
	in := customers.NewCustomer{
		FirstName: r.get("firstName"), LastName: r.get("lastName"),
		Email: r.opt("email"), Phone: r.opt("phone"), DocumentNumber: r.opt("documentNumber"),
		Gender: r.opt("gender"), PreferredLanguage: r.opt("preferredLanguage"),
	}
	bad := func(col, format string, args ...any) *Rejection {
		return &Rejection{Line: r.line, Column: col, Code: apperr.Invalid, Message: fmt.Sprintf(format, args...)}
	}
	if v := r.get("notes"); v != "" {
		notes := r.values["notes"] // free text: kept as written, as the API keeps it
		in.Notes = &notes
	}
	switch v := strings.ToUpper(r.get("customerType")); v {
	case "":
	case "B2C", "B2B":
		t := models.CustomerType(strings.ToLower(v))
		in.CustomerType = &t
	default:
		return in, bad("customerType", "customerType must be B2C or B2B")
	}
	switch v := strings.ToUpper(r.get("documentType")); v {
	case "":
	case "CEDULA", "RUC", "PASSPORT", "OTHER":
		t := models.DocumentType(strings.ToLower(v))
		in.DocumentType = &t
	default:
		return in, bad("documentType", "documentType must be CEDULA, RUC, PASSPORT or OTHER")
	}
	if v := r.get("birthDate"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return in, bad("birthDate", "birthDate must be a date YYYY-MM-DD")
		}
		in.BirthDate = &d
	}
	switch v := strings.ToLower(r.get("marketingConsent")); v {
	case "":
	case "true", "false":
		b := v == "true"
		in.MarketingConsent = &b
	default:
		return in, bad("marketingConsent", "marketingConsent must be true or false")
	}
	if v := r.get("tags"); v != "" {
		in.Tags = strings.Split(v, "|")
	}
	return in, nil
}

// firstField is the column of the input field a service's error names (["email"],
// ["tags", "2"]): the columns are named as the API's input fields.
func firstField(field []string) string {
	if len(field) == 0 {
		return ""
	}
	return field[0]
}
