package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"customerservice/credit"
	"customerservice/customers"
	"customerservice/graph/loaders"
	"customerservice/graph/model"
	"customerservice/loyalty"
	"customerservice/models"
)

// The GraphQL side of the customer list, stats and lookups: arguments to the domain's
// parameters, the selection to the columns and relations to read, and pages to Relay
// connections.

// customerFieldColumns maps Customer's scalar fields to the columns they read.
var customerFieldColumns = map[string][]string{
	"id":                {"customer_id"},
	"customerType":      {"customer_type"},
	"firstName":         {"first_name"},
	"lastName":          {"last_name"},
	"fullName":          {"first_name", "last_name"},
	"email":             {"email"},
	"phone":             {"phone"},
	"documentType":      {"document_type"},
	"documentNumber":    {"document_number"},
	"birthDate":         {"birth_date"},
	"gender":            {"gender"},
	"status":            {"status"},
	"statusReason":      {"status_reason"},
	"preferredLanguage": {"preferred_language"},
	"marketingConsent":  {"marketing_consent"},
	"tags":              {"tags"},
	"metadata":          {"metadata"},
	"notes":             {"notes"},
	"createdAt":         {"created_at"},
	"updatedAt":         {"updated_at"},
	"lastPurchaseAt":    {"last_purchase_at"},
	"erasedAt":          {"erased_at"},
	"__typename":        nil,
}

// customerRelations are Customer's 360 fields: they need only the customer's id, and name
// the relation the read of the customers fetches in its own statement (with, under the
// accounts, the pages of transactions and usages the selection asks for).
var customerRelations = map[string]func(*customers.Include, *graphql.OperationContext, graphql.CollectedField){
	"addresses":              func(i *customers.Include, _ *graphql.OperationContext, _ graphql.CollectedField) { i.Addresses = true },
	"defaultShippingAddress": func(i *customers.Include, _ *graphql.OperationContext, _ graphql.CollectedField) { i.Addresses = true },
	"defaultBillingAddress":  func(i *customers.Include, _ *graphql.OperationContext, _ graphql.CollectedField) { i.Addresses = true },
	"loyaltyAccount":         includeLoyalty,
	"creditAccount":          includeCredit,
	"segment":                func(i *customers.Include, _ *graphql.OperationContext, _ graphql.CollectedField) { i.Segments = true },
}

var (
	satisfiesLoyaltyAccount = []string{"LoyaltyAccount"}
	satisfiesCreditAccount  = []string{"CreditAccount"}
)

// includeLoyalty reads the loyalty account and, for each `transactions` field under it, the
// page its arguments ask for — the key its resolver will load (Transactions below), so the
// resolver finds it primed. Arguments the resolver would reject are left to it.
func includeLoyalty(inc *customers.Include, op *graphql.OperationContext, f graphql.CollectedField) {
	inc.LoyaltyAccounts = true
	for _, sf := range graphql.CollectFields(op, f.Selections, satisfiesLoyaltyAccount) {
		if sf.Name != "transactions" {
			continue
		}
		args := sf.ArgumentMap(op.Variables)
		page, err := loyalty.NewPage(intArg(args["first"]), strArg(args["after"]))
		if err != nil {
			continue
		}
		a := loyalty.TransactionsArgs{Page: page, Count: selectsField(op, sf, "totalCount")}
		if t := strArg(args["type"]); t != nil {
			a.Type = models.LoyaltyTransactionType(strings.ToLower(*t))
		}
		if !slices.Contains(inc.Transactions, a) {
			inc.Transactions = append(inc.Transactions, a)
		}
	}
}

// includeCredit reads the credit account and the pages of its `usages` fields, as
// includeLoyalty.
func includeCredit(inc *customers.Include, op *graphql.OperationContext, f graphql.CollectedField) {
	inc.CreditAccounts = true
	for _, sf := range graphql.CollectFields(op, f.Selections, satisfiesCreditAccount) {
		if sf.Name != "usages" {
			continue
		}
		args := sf.ArgumentMap(op.Variables)
		page, err := credit.NewPage(intArg(args["first"]), strArg(args["after"]))
		if err != nil {
			continue
		}
		a := credit.UsagesArgs{Page: page, Count: selectsField(op, sf, "totalCount")}
		if st := strArg(args["status"]); st != nil {
			a.Status = models.CreditUsageStatus(strings.ToLower(*st))
		}
		if !slices.Contains(inc.Usages, a) {
			inc.Usages = append(inc.Usages, a)
		}
	}
}

// selectsField tells whether the selection of f (fragments collected) has a field name.
func selectsField(op *graphql.OperationContext, f graphql.CollectedField, name string) bool {
	for _, sf := range graphql.CollectFields(op, f.Selections, nil) {
		if sf.Name == name {
			return true
		}
	}
	return false
}

// intArg and strArg read an argument's value (a literal or a variable's JSON) as the
// resolver receives it; nil when absent or null.
func intArg(v any) *int {
	var n int
	switch v := v.(type) {
	case int64:
		n = int(v)
	case int:
		n = v
	case float64:
		n = int(v)
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return nil
		}
		n = int(i)
	default:
		return nil
	}
	return &n
}

func strArg(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// customerSelection is what a query reads of the customers it selects.
type customerSelection struct {
	columns []string
	all     bool // a field this file does not know: read every column
	include customers.Include
}

// add takes in the fields selected on Customer (fragments already collected).
func (s *customerSelection) add(op *graphql.OperationContext, fields []graphql.CollectedField) {
	for _, f := range fields {
		if set, ok := customerRelations[f.Name]; ok {
			set(&s.include, op, f)
			continue
		}
		cols, ok := customerFieldColumns[f.Name]
		if !ok {
			s.all = true
			continue
		}
		s.columns = append(s.columns, cols...)
	}
}

// cols is the column list for the service: nil means all.
func (s *customerSelection) cols() []string {
	if s.all {
		return nil
	}
	// customer_id alone when only relations or __typename are asked for.
	return append([]string{"customer_id"}, s.columns...)
}

var (
	satisfiesCustomer   = []string{"Customer"}
	satisfiesEdge       = []string{"CustomerEdge"}
	satisfiesConnection = []string{"CustomerConnection"}
)

// customerLookup is what a single-customer field (customer, customerByEmail, …) reads for
// its selection: the columns, and the 360 relations to read in the same transaction.
func customerLookup(ctx context.Context) customers.Lookup {
	if node := renderedNode(ctx); node != "" {
		return customers.Lookup{Columns: []string{"customer_id"}, Include: customers.Include{Node: node}}
	}
	var sel customerSelection
	sel.add(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, satisfiesCustomer))
	return customers.Lookup{Columns: sel.cols(), Include: sel.include}
}

// primedCustomer finishes a lookup: it primes the request's loaders with the relations read
// along with the customer, so its 360 fields cost no further statements. Written to wrap
// the service call: primedCustomer(ctx)(service.Get(…)).
func primedCustomer(ctx context.Context) func(*models.Customer, customers.Related, error) (*models.Customer, error) {
	return func(c *models.Customer, rel customers.Related, err error) (*models.Customer, error) {
		if err != nil || c == nil || renderedCustomer(ctx, rel) {
			return nil, err
		}
		prime(loaders.For(ctx), []models.Customer{*c}, rel)
		return c, nil
	}
}

// connectionSelection reads the selection of a `customers` field: what its nodes need
// (through `nodes` and `edges { node }`, every alias) and whether it asks for totalCount.
func connectionSelection(ctx context.Context) (sel customerSelection, count bool) {
	op := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, satisfiesConnection) {
		switch f.Name {
		case "totalCount":
			count = true
		case "nodes":
			sel.add(op, graphql.CollectFields(op, f.Selections, satisfiesCustomer))
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, satisfiesEdge) {
				if e.Name == "node" {
					sel.add(op, graphql.CollectFields(op, e.Selections, satisfiesCustomer))
				}
			}
		}
	}
	return sel, count
}

// customerListParams turns the arguments of `customers` into a list request; the
// selection decides the columns, the 360 relations read with the page and whether to count.
func customerListParams(ctx context.Context, first *int, after *string, last *int, before *string,
	filter *model.CustomerFilter, search *string, orderBy *model.CustomerOrder) customers.ListParams {
	sel, count := connectionSelection(ctx)
	p := customers.ListParams{
		First: first, After: after, Last: last, Before: before,
		Filter:  customerFilter(filter, search),
		Order:   customers.DefaultOrder,
		Columns: sel.cols(),
		Count:   count,
		Include: sel.include,
	}
	if orderBy != nil {
		p.Order = customers.Order{Field: customerOrderFields[orderBy.Field], Desc: orderBy.Direction == model.OrderDirectionDesc}
	}
	if node := renderedConnectionNode(ctx); node != "" {
		p.Columns, p.Include = []string{"customer_id"}, customers.Include{Node: node}
	}
	return p
}

var customerOrderFields = map[model.CustomerOrderField]customers.OrderField{
	model.CustomerOrderFieldCreatedAt:      customers.OrderCreatedAt,
	model.CustomerOrderFieldLastPurchaseAt: customers.OrderLastPurchaseAt,
	model.CustomerOrderFieldLastName:       customers.OrderLastName,
	model.CustomerOrderFieldPointsBalance:  customers.OrderPointsBalance,
	model.CustomerOrderFieldLifetimeValue:  customers.OrderLifetimeValue,
}

// customerFilter is the domain's filter of a CustomerFilter and a search.
func customerFilter(f *model.CustomerFilter, search *string) customers.Filter {
	var out customers.Filter
	if search != nil {
		out.Search = *search
	}
	if f == nil {
		return out
	}
	out.Statuses = f.Status.Value()
	out.Types = f.CustomerType.Value()
	out.Tiers = f.Tier.Value()
	out.Segments = f.Segment.Value()
	out.IsVip = f.IsVip.Value()
	out.IsAtRisk = f.IsAtRisk.Value()
	out.HasCreditAccount = f.HasCreditAccount.Value()
	if tags := f.Tags.Value(); tags != nil {
		out.TagsAny = tags.Any.Value()
		out.TagsAll = tags.All.Value()
	}
	out.CreatedAt = timeRange(f.CreatedAt.Value())
	out.LastPurchaseAt = timeRange(f.LastPurchaseAt.Value())
	return out
}

func timeRange(r *model.DateTimeRange) customers.TimeRange {
	if r == nil {
		return customers.TimeRange{}
	}
	return customers.TimeRange{From: r.From.Value(), To: r.To.Value()}
}

// customerConnection builds the Relay connection of a page and primes the request's 360
// loaders with the relations the page read, so its customers' addresses, accounts and
// segments cost no further statements. A page read rendered (p.Include.Node) is answered
// from the slot instead.
func customerConnection(ctx context.Context, p customers.ListParams, page *customers.Page) *model.CustomerConnection {
	if p.Include.Node != "" {
		renderedConnection(ctx, page)
		return emptyConnection()
	}
	prime(loaders.For(ctx), page.Customers, page.Related)
	conn := &model.CustomerConnection{
		Nodes:      page.Customers,
		Edges:      make([]model.CustomerEdge, len(page.Customers)),
		PageInfo:   pageInfoOf(page),
		TotalCount: page.TotalCount,
	}
	for i := range page.Customers {
		conn.Edges[i] = model.CustomerEdge{Cursor: page.Cursors[i], Node: &page.Customers[i]}
	}
	return conn
}

func pageInfoOf(page *customers.Page) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious}
	if n := len(page.Cursors); n > 0 {
		info.StartCursor = &page.Cursors[0]
		info.EndCursor = &page.Cursors[n-1]
	}
	return info
}

// prime hands the loaders what was read with the customers; a customer without a row gets
// nil, so its field resolves to none without a query. Relations not read stay unprimed.
func prime(l *loaders.Loaders, cs []models.Customer, rel customers.Related) {
	for _, c := range cs {
		if rel.Addresses != nil {
			l.Addresses.Prime(c.ID, rel.Addresses[c.ID])
		}
		if rel.LoyaltyAccounts != nil {
			l.LoyaltyAccounts.Prime(c.ID, rel.LoyaltyAccounts[c.ID])
		}
		if rel.CreditAccounts != nil {
			l.CreditAccounts.Prime(c.ID, rel.CreditAccounts[c.ID])
		}
		if rel.Segments != nil {
			l.Segments.Prime(c.ID, rel.Segments[c.ID])
		}
		if _, ok := rel.LoyaltyAccounts[c.ID]; ok {
			for args, pages := range rel.Transactions {
				l.Loyalty.Transactions.Prime(args.Key(c.ID), pages[c.ID])
			}
		}
		if acc := rel.CreditAccounts[c.ID]; acc != nil {
			for args, pages := range rel.Usages {
				l.Credit.Usages.Prime(loaders.UsagesKey{AccountID: acc.ID, Page: args.Page, Status: args.Status, Count: args.Count}, pages[acc.ID])
			}
		}
	}
}

// The breakdowns of customerStats list every value of their enum in schema order, with
// zero counts, then the null group (not enrolled, no segment): a dashboard gets the same
// shape whatever the filter.
var (
	statsStatuses = []models.CustomerStatus{models.CustomerStatusActive, models.CustomerStatusInactive, models.CustomerStatusBlocked}
	statsTypes    = []models.CustomerType{models.CustomerTypeB2C, models.CustomerTypeB2B}
	statsTiers    = []models.Tier{models.TierBronze, models.TierSilver, models.TierGold, models.TierPlatinum}
	statsSegments = []models.SegmentCode{models.SegmentChampions, models.SegmentLoyal, models.SegmentPotentialLoyalist,
		models.SegmentNew, models.SegmentAtRisk, models.SegmentLost}
)

func customerStats(st *customers.Stats) *model.CustomerStats {
	out := &model.CustomerStats{Total: st.Total}
	for _, v := range statsStatuses {
		out.ByStatus = append(out.ByStatus, model.StatusCount{Status: v, Count: st.ByStatus[v]})
	}
	for _, v := range statsTypes {
		out.ByType = append(out.ByType, model.CustomerTypeCount{CustomerType: v, Count: st.ByType[v]})
	}
	for _, v := range statsTiers {
		out.ByTier = append(out.ByTier, model.TierCount{Tier: &v, Count: st.ByTier[v]})
	}
	out.ByTier = append(out.ByTier, model.TierCount{Count: st.ByTier[""]})
	for _, v := range statsSegments {
		out.BySegment = append(out.BySegment, model.SegmentCount{Segment: &v, Count: st.BySegment[v]})
	}
	out.BySegment = append(out.BySegment, model.SegmentCount{Count: st.BySegment[""]})
	return out
}
