// Package timeline owns the customer timeline of §12: everything that happened to a
// customer — purchases and refunds, point movements, tier changes, credit charges and
// payments, status, limit and profile changes, erasure — as events with when, what kind,
// who did it and its figures. It owns the table of kinds (kinds.go) and where each is read
// (sources.go: the existing ledgers and the audit trail, no event table of its own), and
// writes the SQL of a page of a customer's events, newest first, in one statement (the
// Customer 360 compiler embeds it as Customer.timeline), and reads events by their ids
// under the caller's organization (ByIDs).
package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/db"
	"customerservice/paging"
)

// Order is the name of the timeline's order in its cursors: when, newest first, then the
// tie-breaker.
const Order = "timeline:occurred_at:desc"

// SystemActor is how the API names the actor of what no user did (auth.System).
const SystemActor = "SYSTEM"

// UnknownActor is the actor of a ledger row written before actors were kept.
const UnknownActor = "UNKNOWN"

// Event is one event of a customer's timeline.
type Event struct {
	ID           string           `json:"id"` // "<source>:<key>", see ID
	CustomerID   uuid.UUID        `json:"customerId"`
	OccurredAt   time.Time        `json:"occurredAt"`
	Kind         string           `json:"kind"`
	ActorID      *uuid.UUID       `json:"actorId"`
	Amount       *decimal.Decimal `json:"amount"`
	Points       *int             `json:"points"`
	BalanceAfter *int             `json:"balanceAfter"`
	Reference    *string          `json:"reference"`
	From         *string          `json:"from"`
	To           *string          `json:"to"`
	Fields       []string         `json:"fields"`
}

// Actor is the user id of who did it, SYSTEM, or UNKNOWN (see ActorSQL).
func (e Event) Actor() string {
	switch {
	case e.ActorID == nil:
		return UnknownActor
	case *e.ActorID == auth.System:
		return SystemActor
	default:
		return e.ActorID.String()
	}
}

// ActorSQL is Event.Actor in SQL over an actor_id column.
func ActorSQL(col string) string {
	return "CASE WHEN " + col + " IS NULL THEN '" + UnknownActor + "' WHEN " + col + " = '" + auth.System.String() +
		"'::uuid THEN '" + SystemActor + "' ELSE " + col + "::text END"
}

// Columns of every branch, in order: what a row of the union has.
const columns = "event_id, tb, occurred_at, kind, actor_id, amount, points, balance_after, reference, from_value, to_value, fields, customer_id"

// Scope names the customer whose events a page reads and the organization, each as SQL
// (bind parameters, or columns of a correlated row).
type Scope struct{ Org, Customer string }

// SQL is the SQL of one page of the scope's events and of their count (PageSQL, CountSQL),
// the kinds bound once for both.
func SQL(args *db.Args, s Scope, kinds []string, after *paging.Cursor, limit string) (rows, count string) {
	kindsArg := kindsParam(args, kinds)
	return pageSQL(args, s, kindsArg, after, limit), countSQL(s, kindsArg)
}

// pageSQL is the SQL of one page of the scope's events of the kinds bound as kindsArg
// after the cursor (nil: from the newest), newest first, at most limit rows (SQL): one
// branch per source, each reading its newest limit rows past the cursor by its index,
// merged. Every row has the columns of Event plus tb, the tie-breaker of the cursor.
func pageSQL(args *db.Args, s Scope, kindsArg string, after *paging.Cursor, limit string) string {
	var keyArg, tbArg string
	if after != nil {
		keyArg, tbArg = args.Add(after.Key)+"::timestamptz", args.Add(after.ID.String())+"::uuid"
	}
	var b strings.Builder
	b.WriteString("SELECT " + columns + " FROM (")
	for i, src := range sources() {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		where := src.scope + " AND " + kindCase(src) + " = ANY(" + kindsArg + ")"
		if after != nil {
			// key <= cursor bounds the index scan; the pair decides ties.
			where += " AND " + src.key + " <= " + keyArg + " AND (" + src.key + ", " + src.tb + ") < (" + keyArg + ", " + tbArg + ")"
		}
		b.WriteString("(SELECT " + selectList(src, s.Customer) + " FROM " + src.from + " WHERE " + fill(where, s) +
			" ORDER BY " + src.key + " DESC, " + src.tb + " DESC LIMIT " + limit + ")")
	}
	b.WriteString(") AS e ORDER BY occurred_at DESC, tb DESC LIMIT " + limit)
	return b.String()
}

// countSQL is the SQL of how many events of the kinds the scope has.
func countSQL(s Scope, kindsArg string) string {
	var parts []string
	for _, src := range sources() {
		parts = append(parts, "(SELECT count(*) FROM "+src.from+" WHERE "+fill(src.scope+" AND "+kindCase(src)+" = ANY("+kindsArg+")", s)+")")
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// kindsParam binds the kinds asked for (all when nil).
func kindsParam(args *db.Args, kinds []string) string {
	if kinds == nil {
		kinds = KindNames()
	}
	return args.Add(kinds) + "::text[]"
}

// ValidKinds checks the names of the kinds argument.
func ValidKinds(kinds []string) error {
	known := map[string]bool{}
	for _, k := range Kinds {
		known[k.Name] = true
	}
	for _, k := range kinds {
		if !known[k] {
			return apperr.OnField(apperr.Invalid, []string{"kinds"}, "%q is not a kind of timeline event", k)
		}
	}
	return nil
}

// fill writes the scope into a source's SQL.
func fill(sql string, s Scope) string {
	return strings.NewReplacer("{org}", s.Org, "{customer}", s.Customer).Replace(sql)
}

// selectList is the columns of a branch over src's row; customer is the customer's SQL.
func selectList(src *source, customer string) string {
	figure := func(get func(Kind) string, typ string) string {
		var b strings.Builder
		for _, k := range Kinds {
			if k.src == src && get(k) != "" {
				b.WriteString(" WHEN " + k.when + " THEN " + get(k))
			}
		}
		if b.Len() == 0 {
			return "NULL::" + typ
		}
		return "(CASE" + b.String() + " END)::" + typ
	}
	return "'" + src.prefix + ":' || " + src.id + " AS event_id, " + src.tb + " AS tb, " + src.key + " AS occurred_at, " +
		kindCase(src) + " AS kind, " + src.actor + " AS actor_id, " +
		figure(func(k Kind) string { return k.amount }, "numeric") + " AS amount, " +
		figure(func(k Kind) string { return k.points }, "int") + " AS points, " +
		figure(func(k Kind) string { return k.balanceAfter }, "int") + " AS balance_after, " +
		figure(func(k Kind) string { return k.reference }, "text") + " AS reference, " +
		figure(func(k Kind) string { return k.from }, "text") + " AS from_value, " +
		figure(func(k Kind) string { return k.to }, "text") + " AS to_value, " +
		figure(func(k Kind) string { return k.fields }, "text[]") + " AS fields, " +
		customer + " AS customer_id"
}

// kindCase is the kind of a row of src, null when no kind claims it.
func kindCase(src *source) string {
	var b strings.Builder
	b.WriteString("(CASE")
	for _, k := range Kinds {
		if k.src == src {
			b.WriteString(" WHEN " + k.when + " THEN '" + k.Name + "'")
		}
	}
	b.WriteString(" END)")
	return b.String()
}

// ID is an event id: its source's prefix and the key of its row there. A write knows the
// id of the event it makes when it writes the row (its primary key, RETURNING), inside its
// transaction (docs/decisions-timeline.md).
func ID(prefix, key string) string { return prefix + ":" + key }

// parseID splits an event id into its source and key; ok false when it is not one.
func parseID(id string) (*source, string, bool) {
	prefix, key, found := strings.Cut(id, ":")
	if !found {
		return nil, "", false
	}
	for _, src := range sources() {
		if src.prefix == prefix && src.idValid(key) {
			return src, key, true
		}
	}
	return nil, "", false
}

// ByIDs reads the events of the ids under the caller's organization (row-level security
// and the organization's condition: another organization's event is as absent as a missing
// one), in one statement; the events found, newest first. Ids that are not event ids are
// ignored, like unknown ones.
func ByIDs(ctx context.Context, h *db.Handle, ids []string) ([]Event, error) {
	p, err := db.Caller(ctx)
	if err != nil {
		return nil, err
	}
	bySource := map[*source][]string{}
	for _, id := range ids {
		if src, key, ok := parseID(id); ok {
			bySource[src] = append(bySource[src], key)
		}
	}
	if len(bySource) == 0 {
		return nil, nil
	}
	args := &db.Args{}
	s := Scope{Org: args.Add(p.OrganizationID) + "::uuid"}
	var branches []string
	for _, src := range sources() {
		if keys, ok := bySource[src]; ok {
			where := strings.ReplaceAll(src.byID, "{ids}", args.Add(keys)) + " AND " + kindCase(src) + " IS NOT NULL"
			branches = append(branches, "SELECT "+selectList(src, src.customerOf)+" FROM "+src.from+" WHERE "+where)
		}
	}
	sql := fill("SELECT json_build_object('id', event_id, 'customerId', customer_id, 'occurredAt', occurred_at, 'kind', kind,"+
		" 'actorId', actor_id, 'amount', amount::text, 'points', points, 'balanceAfter', balance_after, 'reference', reference,"+
		" 'from', from_value, 'to', to_value, 'fields', fields)"+
		" FROM ("+strings.Join(branches, " UNION ALL ")+") AS e ORDER BY occurred_at DESC, tb DESC", s)
	var out []Event
	err = db.ReadInOrg(ctx, h, p.OrganizationID, db.Stmt{SQL: sql, Args: args.Values(), Row: func(values [][]byte) error {
		var e Event
		if err := json.Unmarshal(values[0], &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("read timeline events: %w", err)
	}
	return out, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

func isSequence(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}
