package customer360

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"customerservice/customers"
	"customerservice/db"
)

// DuplicatePair is one candidate pair of §10 with its two customers rendered for the places
// of the answer (one Rendered holds the places of both: each place names its side).
type DuplicatePair struct {
	CustomerID, DuplicateID uuid.UUID
	Score                   int
	Reasons                 []customers.DuplicateReason
	Customers               Rendered
}

// DuplicatePage is one page of candidates.
type DuplicatePage struct {
	Pairs                []DuplicatePair
	Cursors              []string
	HasNext, HasPrevious bool
}

// DuplicateCandidates renders the page of duplicate candidates p asks for, in ONE statement:
// the pairs (customers.Duplicates) with, for each place of first, the pair's customer, and
// for each place of second, its duplicate.
func (r *Reader) DuplicateCandidates(ctx context.Context, first, second Selections, p customers.DuplicateParams) (*DuplicatePage, error) {
	org, err := r.org(ctx)
	if err != nil {
		return nil, err
	}
	var args db.Args
	q, err := customers.Duplicates(org, p, &args)
	if err != nil {
		return nil, err
	}
	var keys, cols []string
	for _, side := range []struct {
		sel Selections
		id  string
	}{{first, "d.customer_id"}, {second, "d.duplicate_id"}} {
		for _, key := range slices.Sorted(maps.Keys(side.sel)) {
			_, col, err := compileAll(customerType, "c", q.Org, Selections{key: side.sel[key]}, &args)
			if err != nil {
				return nil, err
			}
			keys = append(keys, key)
			cols = append(cols, "(SELECT "+col+" FROM customers AS c WHERE c.organization_id = "+q.Org+" AND c.customer_id = "+side.id+")")
		}
	}
	sql := "SELECT d.customer_id::text, d.duplicate_id::text, d.score::text, array_to_string(d.reasons, ',')"
	for _, c := range cols {
		sql += ", " + c
	}
	sql += " FROM (" + q.SQL + ") AS d ORDER BY d.customer_id, d.duplicate_id"
	var (
		page DuplicatePage
		rows []customers.DuplicateRow
	)
	err = r.read(ctx, org, db.Stmt{SQL: sql, Args: args.Values(), Prepare: true, Row: func(values [][]byte) error {
		var pair DuplicatePair
		var err error
		if pair.CustomerID, err = uuid.ParseBytes(values[0]); err != nil {
			return err
		}
		if pair.DuplicateID, err = uuid.ParseBytes(values[1]); err != nil {
			return err
		}
		if pair.Score, err = strconv.Atoi(string(values[2])); err != nil {
			return err
		}
		for _, reason := range strings.Split(string(values[3]), ",") {
			pair.Reasons = append(pair.Reasons, customers.DuplicateReason(reason))
		}
		pair.Customers = rendered(keys, values[4:])
		page.Pairs = append(page.Pairs, pair)
		rows = append(rows, customers.DuplicateRow{CustomerID: pair.CustomerID, DuplicateID: pair.DuplicateID})
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("duplicate candidates: %w", err)
	}
	n, cursors, hasNext := q.Page(rows)
	page.Pairs, page.Cursors, page.HasNext, page.HasPrevious = page.Pairs[:n], cursors, hasNext, q.HasPrevious()
	return &page, nil
}
