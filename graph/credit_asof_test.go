package graph_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"customerservice/credit"
	"customerservice/internal/testkit/apitest"
)

// §13 CreditAccount.asOf: random histories of charges (with due dates spread over the
// past), payments, cancellations, limit decreases and four-eyes increases go through the
// API; a model in Go replays the same events (allocating with credit.Allocate) and every
// instant — each event's, each midway between two, one before the account and one after
// the last — is compared with asOf, field by field.

type asOfOut struct {
	At              string
	CreditLimit     string
	CreditUsed      string
	CreditAvailable string
	Outstanding     string
	OverdueAmount   string
	Aging           struct{ Current, Days1To30, Days31To60, Days61To90, Over90 string }
}

const asOfFields = `at creditLimit creditUsed creditAvailable outstanding overdueAmount aging { current days1To30 days31To60 days61To90 over90 }`

// asOfEvent is one recorded change of an account, at the instant the database recorded it.
type asOfEvent struct {
	at     time.Time
	kind   string // open, limit, charge, payment, cancel
	amount decimal.Decimal
	usage  uuid.UUID
	due    time.Time
}

type modelUsage struct {
	id        uuid.UUID
	amount    decimal.Decimal
	paid      decimal.Decimal
	due       time.Time
	createdAt time.Time
	cancelled bool
}

// asOfModel replays the events up to at and returns what asOf must answer (nil before the
// account was opened).
func asOfModel(events []asOfEvent, at time.Time) *asOfOut {
	var (
		opened bool
		limit  decimal.Decimal
		usages []*modelUsage
	)
	for _, e := range events {
		if e.at.After(at) {
			break
		}
		switch e.kind {
		case "open", "limit":
			opened, limit = true, e.amount
		case "charge":
			usages = append(usages, &modelUsage{id: e.usage, amount: e.amount, paid: decimal.Zero, due: e.due, createdAt: e.at})
		case "cancel":
			for _, u := range usages {
				if u.id == e.usage {
					u.cancelled = true
				}
			}
		case "payment":
			var open []credit.OpenUsage
			var which []*modelUsage
			for _, u := range usages {
				if !u.cancelled && u.amount.GreaterThan(u.paid) {
					open = append(open, credit.OpenUsage{ID: u.id, DueDate: u.due, CreatedAt: u.createdAt, Unpaid: u.amount.Sub(u.paid)})
					which = append(which, u)
				}
			}
			shares, _ := credit.Allocate(e.amount, open)
			for i, s := range shares {
				which[i].paid = which[i].paid.Add(s)
			}
		}
	}
	if !opened {
		return nil
	}
	day := time.Date(at.UTC().Year(), at.UTC().Month(), at.UTC().Day(), 0, 0, 0, 0, time.UTC)
	var used, cur, d1, d31, d61, d90 decimal.Decimal
	for _, u := range usages {
		if u.cancelled {
			continue
		}
		unpaid := u.amount.Sub(u.paid)
		used = used.Add(unpaid)
		switch days := int(day.Sub(u.due).Hours() / 24); {
		case days <= 0:
			cur = cur.Add(unpaid)
		case days <= 30:
			d1 = d1.Add(unpaid)
		case days <= 60:
			d31 = d31.Add(unpaid)
		case days <= 90:
			d61 = d61.Add(unpaid)
		default:
			d90 = d90.Add(unpaid)
		}
	}
	out := &asOfOut{At: at.UTC().Format(time.RFC3339Nano), CreditLimit: limit.StringFixed(2), CreditUsed: used.StringFixed(2),
		CreditAvailable: limit.Sub(used).StringFixed(2), Outstanding: used.StringFixed(2),
		OverdueAmount: d1.Add(d31).Add(d61).Add(d90).StringFixed(2)}
	out.Aging.Current, out.Aging.Days1To30, out.Aging.Days31To60, out.Aging.Days61To90, out.Aging.Over90 =
		cur.StringFixed(2), d1.StringFixed(2), d31.StringFixed(2), d61.StringFixed(2), d90.StringFixed(2)
	return out
}

// asOfAt reads asOf of the customer's account at each instant, ten aliases a query.
func asOfAt(t *testing.T, c *apitest.Client, customerID uuid.UUID, instants []time.Time) []*asOfOut {
	t.Helper()
	var out []*asOfOut
	for start := 0; start < len(instants); start += 10 {
		batch := instants[start:min(start+10, len(instants))]
		var sel strings.Builder
		for i, at := range batch {
			fmt.Fprintf(&sel, "a%d: asOf(at: %q) { %s } ", i, at.UTC().Format(time.RFC3339Nano), asOfFields)
		}
		var got struct {
			Customer struct{ CreditAccount map[string]*asOfOut }
		}
		c.Must(t, `query($id: UUID!) { customer(id: $id) { creditAccount { `+sel.String()+` } } }`, map[string]any{"id": customerID}, &got)
		for i := range batch {
			out = append(out, got.Customer.CreditAccount[fmt.Sprintf("a%d", i)])
		}
	}
	return out
}

func TestCreditAccountAsOf_RandomHistoriesMatchAModelAtEveryInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	tm.setPolicy(t, map[string]any{"blockWhenOverdueDays": 3650}) // back-dated charges must not block the next ones
	instantsChecked := 0
	for history := range 3 {
		seed := uint64(time.Now().UnixNano())
		rng := rand.New(rand.NewPCG(seed, uint64(history)))
		t.Logf("history %d: seed %d", history, seed)
		customerID, acc := tm.open(t, "500", 30)
		var events []asOfEvent
		stamp := func(query string, args ...any) time.Time {
			t.Helper()
			var at time.Time
			if err := srv.Owner.NewRaw(query, args...).Scan(t.Context(), &at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		events = append(events, asOfEvent{at: stamp("SELECT created_at FROM credit_accounts WHERE credit_account_id = ?", acc.ID),
			kind: "open", amount: decimal.RequireFromString("500")})
		creditOK(t, creditMutation(t, tm.approver, "approveCreditAccount", "id: $id", map[string]any{"id": acc.ID}))
		limit, used := decimal.RequireFromString("500"), decimal.Zero
		var open []uuid.UUID // charges that may still be cancelled
		for step := range 24 {
			switch k := rng.IntN(10); {
			case k < 4: // a charge, due anywhere from 120 days ago to 10 days ahead
				amount := decimal.New(int64(100+rng.IntN(20000)), -2)
				if amount.GreaterThan(limit.Sub(used)) {
					continue
				}
				u := creditOK(t, tm.charge(t, customerID, fmt.Sprintf("h%d-o%d", history, step), amount.String())).Usage
				due := rng.IntN(131) - 120
				mustExec(t, srv, "UPDATE credit_usage SET due_date = "+creditToday+" + ?::int WHERE usage_id = ?", due, u.ID)
				var dueDate time.Time
				if err := srv.Owner.NewRaw("SELECT due_date FROM credit_usage WHERE usage_id = ?", u.ID).Scan(t.Context(), &dueDate); err != nil {
					t.Fatal(err)
				}
				id := uuid.MustParse(u.ID)
				events = append(events, asOfEvent{at: stamp("SELECT created_at FROM credit_usage WHERE usage_id = ?", id), kind: "charge",
					amount: amount, usage: id, due: dueDate})
				used = used.Add(amount)
				open = append(open, id)
			case k < 7: // a payment of part of what is owed
				if !used.IsPositive() {
					continue
				}
				amount := used.Mul(decimal.New(int64(1+rng.IntN(100)), -2)).Truncate(2)
				if !amount.IsPositive() {
					continue
				}
				p := creditOK(t, tm.pay(t, customerID, fmt.Sprintf("h%d-p%d", history, step), amount.String())).Payment
				events = append(events, asOfEvent{at: stamp("SELECT created_at FROM credit_payments WHERE payment_id = ?", p.ID), kind: "payment", amount: amount})
				used = used.Sub(amount)
			case k < 8: // a cancellation
				if len(open) == 0 {
					continue
				}
				i := rng.IntN(len(open))
				id := open[i]
				open = slices.Delete(open, i, i+1)
				p := creditMutation(t, tm.agent, "cancelCreditUsage", "id: $id", map[string]any{"id": id})
				if len(p.UserErrors) > 0 { // paid in full meanwhile
					wantCreditError(t, p, "INVALID_STATE", "id")
					continue
				}
				events = append(events, asOfEvent{at: stamp("SELECT cancelled_at FROM credit_usage WHERE usage_id = ?", id), kind: "cancel", usage: id})
				used = decimal.RequireFromString(p.CreditAccount.CreditUsed)
			default: // a limit change: a decrease at once, an increase on a second manager's approval
				next := used.Add(decimal.New(int64(rng.IntN(60000)), -2))
				creditOK(t, creditMutation(t, tm.manager, "updateCreditLimit", "id: $id, creditLimit: $creditLimit",
					map[string]any{"id": acc.ID, "creditLimit": next.String()}))
				if next.GreaterThan(limit) {
					creditOK(t, creditMutation(t, tm.approver, "approveCreditLimit", "id: $id", map[string]any{"id": acc.ID}))
				} else if next.Equal(limit) {
					continue
				}
				events = append(events, asOfEvent{at: stamp("SELECT max(changed_at) FROM credit_limit_changes WHERE credit_account_id = ?", acc.ID),
					kind: "limit", amount: next})
				limit = next
			}
		}
		// The instants: one before the account, each event's, one midway between two, one after.
		var instants []time.Time
		instants = append(instants, events[0].at.Add(-time.Microsecond))
		for i, e := range events {
			if i > 0 && !e.at.After(events[i-1].at) {
				t.Fatalf("events %d and %d recorded at %s and %s: not in order", i-1, i, events[i-1].at, e.at)
			}
			instants = append(instants, e.at)
			if i+1 < len(events) {
				instants = append(instants, e.at.Add(events[i+1].at.Sub(e.at)/2).Truncate(time.Microsecond))
			}
		}
		instants = append(instants, time.Now().Truncate(time.Microsecond)) // after the last event
		got := asOfAt(t, tm.agent, customerID, instants)
		for i, at := range instants {
			want := asOfModel(events, at)
			if (want == nil) != (got[i] == nil) || (want != nil && *want != *got[i]) {
				w, _ := json.Marshal(want)
				g, _ := json.Marshal(got[i])
				t.Fatalf("history %d (seed %d), instant %s:\n got %s\nwant %s", history, seed, at.Format(time.RFC3339Nano), g, w)
			}
		}
		instantsChecked += len(instants)
		// After the last event, asOf is the account as it is.
		now := tm.account(t, customerID)
		last := got[len(got)-1]
		if last.CreditLimit != now.CreditLimit || last.CreditUsed != now.CreditUsed || last.OverdueAmount != now.OverdueAmount || last.Aging != now.Aging {
			t.Fatalf("asOf after the last event %+v, the account %+v", last, now)
		}
		kinds := map[string]int{}
		for _, e := range events {
			kinds[e.kind]++
		}
		t.Logf("history %d: %d events %v, %d instants", history, len(events), kinds, len(instants))
	}
	t.Logf("%d instants checked against the model", instantsChecked)
	assertCreditBooks(t, srv, tm.org)
}

// §13: asOf's instant is an RFC 3339 DateTime not later than now; anything else is refused
// with a code naming at. Now itself is answered.
func TestCreditAccountAsOf_RefusesABadInstant(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	tm := newCreditTeam(t, srv)
	customerID, _ := tm.approved(t, "100")
	const q = `query($id: UUID!, $at: DateTime!) { customer(id: $id) { creditAccount { asOf(at: $at) { creditLimit } } } }`
	for _, at := range []string{"yesterday", "2026-13-01T00:00:00Z", "2026-11-30", time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano),
		"9999-12-31T23:59:59Z"} {
		r := tm.agent.Do(t, q, map[string]any{"id": customerID, "at": at})
		if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" || string(r.Data) != `{"customer":null}` {
			t.Errorf("at %q: %s", at, r.Body)
		}
	}
	r := tm.agent.Do(t, q, map[string]any{"id": customerID, "at": "2030-01-01T00:00:00Z"})
	if len(r.Errors) != 1 || !strings.Contains(string(r.Body), "later than now") {
		t.Errorf("a future instant: %s", r.Body)
	}
	var out struct {
		Customer struct {
			CreditAccount struct{ AsOf *struct{ CreditLimit string } }
		}
	}
	tm.agent.Must(t, q, map[string]any{"id": customerID, "at": time.Now().UTC().Format(time.RFC3339Nano)}, &out)
	if a := out.Customer.CreditAccount.AsOf; a == nil || a.CreditLimit != "100.00" {
		t.Errorf("asOf now: %+v", a)
	}
}
