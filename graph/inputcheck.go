package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/apperr"
	"customerservice/auth"
	"customerservice/graph/model"
)

// The one rule for every string that enters the service (docs/decisions-inputs.md): every
// String argument and input field — in the document or in variables, nested in input
// objects and lists, of root fields and of nested ones — is checked at the edge, before
// any resolver runs, against textRules:
//
//   - it is valid UTF-8 (a JSON body or URL that is not, or that escapes a lone UTF-16
//     surrogate, is refused whole: badRequestText);
//   - it holds no control character (Unicode Cc: U+0000–U+001F, U+007F–U+009F), except tab,
//     line feed and carriage return in the free-text fields, or around a value the domain
//     trims;
//   - it is at most its field's length in characters, counted without surrounding white
//     space as the domain counts them (the column's length, or the domain's rule).
//
// A refused root argument of a mutation answers the mutation's payload with a userError
// (INVALID, on the argument's path as the domain's userErrors are); anything else refuses
// the operation before it runs with BAD_USER_INPUT (HTTP 200 under application/json, 400
// under application/graphql-response+json: graph/transport.go), naming the argument and its path in
// extensions.argument. Nothing refused reaches a resolver, and so neither SQL nor storage.
// One exception: a mutation's own argument that is only too long is left to the domain,
// which checks every mutation string's length with the same cap before any SQL and reports
// it with the input's other invalid fields (§3); the sweep test holds it to that.

// textRule is what one String argument or input field accepts.
type textRule struct {
	max      int  // characters, surrounding white space not counted
	freeText bool // tab, line feed and carriage return allowed anywhere
	// asGiven: a key the domain uses untrimmed (an idempotency key, a cursor), so not even
	// around it are tab, line feed and carriage return allowed.
	asGiven bool
}

// Lengths that are not a column's.
const (
	maxPhoneInput = 40   // customers.NormalizePhone: any common format, stored as E.164 (20)
	maxSearch     = 200  // customers.MaxSearchLength: longer than anything searchable
	maxCursor     = 1000 // an opaque cursor; the longest real one (a 100-character last name) is about 700
)

// textRules holds every String argument ("Type.field(argument)") and String input field
// ("Input.field") of the schema; TestInputCheck_EveryStringHasARule fails when one is
// missing or stale. A list of strings has the rule of each of its elements.
var textRules = map[string]textRule{
	// Lookups, search, filters and cursors of the queries.
	"Query.customerByEmail(email)":             {max: 255}, // customers.email varchar(255)
	"Query.customerByPhone(phone)":             {max: maxPhoneInput},
	"Query.customerByDocument(documentNumber)": {max: 50},  // customers.document_number varchar(50)
	"Query.customerByExternalId(externalId)":   {max: 100}, // customers.external_id varchar(100)
	"Query.customers(after)":                   {max: maxCursor, asGiven: true},
	"Query.dataQualityIssues(after)":           {max: maxCursor, asGiven: true},
	"Query.duplicateCandidates(after)":         {max: maxCursor, asGiven: true},
	"Customer.consentHistory(after)":           {max: maxCursor, asGiven: true},
	"GrantConsentInput.evidence":               {max: 500}, // customers.MaxConsentEvidenceLen,
	"RevokeConsentInput.evidence":              {max: 500}, // customers.MaxConsentEvidenceLen,
	"Query.customers(before)":                  {max: maxCursor, asGiven: true},
	"Query.customers(search)":                  {max: maxSearch},
	"Query.customerStats(search)":              {max: maxSearch},
	"TagFilter.any":                            {max: 255}, // customers.tags varchar(255)[]
	"TagFilter.all":                            {max: 255},
	"Customer.purchases(after)":                {max: maxCursor, asGiven: true},
	"LoyaltyAccount.transactions(after)":       {max: maxCursor, asGiven: true},
	"CreditAccount.usages(after)":              {max: maxCursor, asGiven: true},
	"CreditAccount.payments(after)":            {max: maxCursor, asGiven: true},
	"Customer.timeline(after)":                 {max: maxCursor, asGiven: true},
	"Query.auditLog(after)":                    {max: maxCursor, asGiven: true},
	"AuditLogFilter.entityType":                {max: 30, asGiven: true}, // audit_log.entity_type varchar(30)
	"AuditLogFilter.actor":                     {max: 36, asGiven: true}, // a uuid or SYSTEM
	"AuditLogFilter.action":                    {max: 50, asGiven: true}, // audit_log.action varchar(50)
	"Query.savedSegments(after)":               {max: maxCursor, asGiven: true},
	"SavedSegment.customers(after)":            {max: maxCursor, asGiven: true},
	"CreateSavedSegmentInput.name":             {max: 100}, // saved_segments.name varchar(100)
	"CreateSavedSegmentInput.description":      {max: 1000, freeText: true},
	"CreateSavedSegmentInput.search":           {max: maxSearch},
	"UpdateSavedSegmentInput.name":             {max: 100},
	"UpdateSavedSegmentInput.description":      {max: 1000, freeText: true},
	"UpdateSavedSegmentInput.search":           {max: maxSearch},

	// Privacy requests (privacy/requests.go; the columns of migrations/…_privacy_requests).
	"Query.privacyRequests(after)":             {max: maxCursor, asGiven: true},
	"RecordPrivacyRequestInput.notes":          {max: 10_000, freeText: true}, // privacy.MaxNotesLen
	"RecordPrivacyRequestInput.idempotencyKey": {max: 255, asGiven: true},     // privacy.MaxIdempotencyKeyLen
	"CompletePrivacyRequestInput.outcome":      {max: 10_000, freeText: true},

	// Mutation arguments: reasons and notes are free text.
	"Mutation.setCustomerStatus(reason)":    {max: 500, freeText: true},  // customers.maxStatusReasonLen
	"Mutation.approveCreditAccount(notes)":  {max: 2000, freeText: true}, // credit.maxNotes
	"Mutation.suspendCreditAccount(reason)": {max: 500, freeText: true},  // credit.maxReason
	"Mutation.cancelCreditAccount(reason)":  {max: 500, freeText: true},  // credit.maxReason

	// Customers (customers/validate.go; the columns of migrations/…_init).
	"CreateCustomerInput.firstName":         {max: 100},
	"CreateCustomerInput.lastName":          {max: 100},
	"CreateCustomerInput.email":             {max: 255},
	"CreateCustomerInput.phone":             {max: maxPhoneInput},
	"CreateCustomerInput.documentNumber":    {max: 50},
	"CreateCustomerInput.gender":            {max: 20},
	"CreateCustomerInput.preferredLanguage": {max: 10},
	"CreateCustomerInput.tags":              {max: 255},
	"CreateCustomerInput.notes":             {max: 10_000, freeText: true},
	"CreateCustomerInput.externalId":        {max: 100}, // customers.MaxExternalID
	"UpdateCustomerInput.firstName":         {max: 100},
	"UpdateCustomerInput.lastName":          {max: 100},
	"UpdateCustomerInput.email":             {max: 255},
	"UpdateCustomerInput.phone":             {max: maxPhoneInput},
	"UpdateCustomerInput.documentNumber":    {max: 50},
	"UpdateCustomerInput.gender":            {max: 20},
	"UpdateCustomerInput.preferredLanguage": {max: 10},
	"UpdateCustomerInput.tags":              {max: 255},
	"UpdateCustomerInput.notes":             {max: 10_000, freeText: true},
	"UpdateCustomerInput.externalId":        {max: 100},

	// Addresses.
	"AddAddressInput.recipientName":    {max: 255},
	"AddAddressInput.addressLine1":     {max: 255},
	"AddAddressInput.addressLine2":     {max: 255},
	"AddAddressInput.city":             {max: 100},
	"AddAddressInput.state":            {max: 100},
	"AddAddressInput.postalCode":       {max: 20},
	"AddAddressInput.country":          {max: 3},
	"AddAddressInput.phone":            {max: maxPhoneInput},
	"UpdateAddressInput.recipientName": {max: 255},
	"UpdateAddressInput.addressLine1":  {max: 255},
	"UpdateAddressInput.addressLine2":  {max: 255},
	"UpdateAddressInput.city":          {max: 100},
	"UpdateAddressInput.state":         {max: 100},
	"UpdateAddressInput.postalCode":    {max: 20},
	"UpdateAddressInput.country":       {max: 3},
	"UpdateAddressInput.phone":         {max: maxPhoneInput},

	// Loyalty (loyalty/purchases.go, loyalty/points.go): idempotency keys and references.
	"RecordPurchaseInput.orderId":               {max: 100, asGiven: true},
	"RecordPurchaseInput.channel":               {max: 30},
	"RecordRefundInput.orderId":                 {max: 100, asGiven: true},
	"RecordRefundInput.refundId":                {max: 100, asGiven: true},
	"RedeemPointsInput.referenceType":           {max: 50, asGiven: true},
	"RedeemPointsInput.referenceId":             {max: 255, asGiven: true},
	"RedeemPointsInput.description":             {max: 1000, freeText: true},
	"AwardBonusPointsInput.reason":              {max: 500, freeText: true},
	"AwardBonusPointsInput.referenceId":         {max: 255, asGiven: true},
	"AdjustPointsInput.reason":                  {max: 500, freeText: true},
	"AdjustPointsInput.idempotencyKey":          {max: 255, asGiven: true},
	"MergeCustomersInput.idempotencyKey":        {max: 255, asGiven: true}, // merges.MaxIdempotencyKey
	"ChargeCreditInput.orderId":                 {max: 100, asGiven: true}, // credit.checkKey
	"RecordCreditPaymentInput.paymentReference": {max: 100, asGiven: true},
}

// defaultTextRule is what a String without an entry in textRules gets at run time (the test
// keeps there being none): single-line, 255 characters.
var defaultTextRule = textRule{max: 255}

// maxViolations bounds the userErrors of one mutation (a list of a thousand bad tags).
const maxViolations = 20

// checkText returns why s breaks the rule, or "".
func checkText(s string, rule textRule) string {
	msg, _ := judgeText(s, rule)
	return msg
}

// judgeText returns why s breaks the rule, or "", and whether only its length does.
func judgeText(s string, rule textRule) (msg string, tooLong bool) {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text", false
	}
	// White space around a value is trimmed by the domain: tab, line feed and carriage
	// return are allowed there (unless the value is used as given).
	const around = " \t\n\r"
	start, end := 0, len(s)
	if !rule.asGiven {
		start, end = len(s)-len(strings.TrimLeft(s, around)), len(strings.TrimRight(s, around))
	}
	chars := 0
	for i, r := range s {
		chars++
		lineSpace := r == '\t' || r == '\n' || r == '\r'
		if isControl(r) && !(lineSpace && (rule.freeText || i < start || i >= end)) {
			if rule.freeText {
				return fmt.Sprintf("must not contain control characters other than tab and line breaks (U+%04X at character %d)", r, chars), false
			}
			return fmt.Sprintf("must not contain control characters (U+%04X at character %d)", r, chars), false
		}
	}
	if chars <= rule.max {
		return "", false
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(s)); n > rule.max {
		return fmt.Sprintf("must be at most %d characters (got %d)", rule.max, n), true
	}
	return "", false
}

// isControl is Unicode's Cc category: C0, DEL and C1.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r <= 0x9f) }

// violation is one refused string: the path of the argument (["input", "tags", "2"]) and why.
type violation struct {
	owner string   // "Query.customers": the field whose argument it is
	path  []string // the argument's name, then input fields and list indexes
	pos   *ast.Position
	msg   string
	// tooLong: the value is valid text, only longer than its cap.
	tooLong bool
}

// argWalk collects the violations in a field's arguments.
type argWalk struct {
	schema *ast.Schema
	found  []violation
}

func (w *argWalk) field(f *ast.Field, vars map[string]any) {
	if f.Definition == nil || f.ObjectDefinition == nil || strings.HasPrefix(f.Name, "__") {
		return // introspection: no string of it reaches storage
	}
	if len(f.Arguments) == 0 {
		// Nothing the client wrote: only the schema's own defaults, if any. Most fields of a
		// selection take no argument, and building their argument maps was a tenth of a
		// Customer 360 read's allocations (BENCHMARKS.md, issue 17).
		return
	}
	owner := f.ObjectDefinition.Name + "." + f.Name
	values := f.ArgumentMap(vars)
	for _, def := range f.Definition.Arguments {
		v, ok := values[def.Name]
		if !ok {
			continue
		}
		var pos *ast.Position
		if a := f.Arguments.ForName(def.Name); a != nil {
			pos = a.Position
		}
		w.value(owner, owner+"("+def.Name+")", def.Type, v, []string{def.Name}, pos)
	}
}

func (w *argWalk) value(owner, key string, typ *ast.Type, v any, path []string, pos *ast.Position) {
	if v == nil || len(w.found) >= maxViolations {
		return
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok { // one value given for a list
			w.value(owner, key, typ.Elem, v, path, pos)
			return
		}
		for i, e := range list {
			w.value(owner, key, typ.Elem, e, append(path[:len(path):len(path)], strconv.Itoa(i)), pos)
		}
		return
	}
	def := w.schema.Types[typ.NamedType]
	if def == nil {
		return
	}
	switch def.Kind {
	case ast.Scalar:
		switch def.Name {
		case "String", "ID":
			s, ok := v.(string)
			if !ok {
				return
			}
			rule, ok := textRules[key]
			if !ok {
				rule = defaultTextRule
			}
			if msg, tooLong := judgeText(s, rule); msg != "" {
				w.found = append(w.found, violation{owner: owner, path: path, pos: pos, msg: msg, tooLong: tooLong})
			}
		case "JSON":
			w.json(owner, v, path, pos)
		}
		// The other scalars (UUID, Date, DateTime, Decimal) parse strictly and refuse
		// anything but their format.
	case ast.InputObject:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for _, f := range def.Fields {
			if fv, ok := m[f.Name]; ok {
				w.value(owner, def.Name+"."+f.Name, f.Type, fv, append(path[:len(path):len(path)], f.Name), pos)
			}
		}
	}
}

// json checks the keys and strings of a JSON argument (metadata) as free text without a
// length of their own: the domain bounds the whole object (16 KB).
func (w *argWalk) json(owner string, v any, path []string, pos *ast.Position) {
	if len(w.found) >= maxViolations {
		return
	}
	rule := textRule{max: 1 << 30, freeText: true}
	switch x := v.(type) {
	case string:
		if msg := checkText(x, rule); msg != "" {
			w.found = append(w.found, violation{owner: owner, path: path, pos: pos, msg: msg})
		}
	case map[string]any:
		for k, e := range x {
			at := append(path[:len(path):len(path)], k)
			if msg := checkText(k, rule); msg != "" {
				w.found = append(w.found, violation{owner: owner, path: at, pos: pos, msg: "a key " + msg})
				continue
			}
			w.json(owner, e, at, pos)
		}
	case []any:
		for i, e := range x {
			w.json(owner, e, append(path[:len(path):len(path)], strconv.Itoa(i)), pos)
		}
	}
}

// selections walks every field of a selection set, fragments included; skip says which
// fields' own arguments are checked elsewhere (a mutation's root fields).
func (w *argWalk) selections(set ast.SelectionSet, vars map[string]any, skip bool) {
	for _, sel := range set {
		if len(w.found) > 0 {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			if !skip {
				w.field(s, vars)
			}
			w.selections(s.SelectionSet, vars, false)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, vars, skip)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.selections(s.Definition.SelectionSet, vars, skip)
			}
		}
	}
}

// inputCheck is the gqlgen extension that applies the rule: to the document's escapes
// before it is parsed, to every field's arguments before the operation runs, and to a
// mutation's root arguments when the field resolves (to answer its payload).
type inputCheck struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
	graphql.FieldInterceptor
} = &inputCheck{}

func newInputCheck() *inputCheck { return &inputCheck{} }

func (*inputCheck) ExtensionName() string { return "InputCheck" }

func (c *inputCheck) Validate(es graphql.ExecutableSchema) error {
	c.schema = es.Schema()
	return nil
}

// MutateOperationParameters refuses a document whose string literal escapes a lone UTF-16
// surrogate ("\ud800"): the parser would make it U+FFFD, storing an altered value.
func (*inputCheck) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if loneSurrogate(raw.Query, true) {
		return badInput("the query has a string that escapes a lone UTF-16 surrogate: it is not valid Unicode text", nil)
	}
	return nil
}

// MutateOperationContext refuses the operation when an argument of any field breaks the
// rule — except the root arguments of a mutation, which InterceptField answers with the
// payload's userErrors.
func (c *inputCheck) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := argWalk{schema: c.schema}
	w.selections(oc.Operation.SelectionSet, oc.Variables, oc.Operation.Operation == ast.Mutation)
	if len(w.found) == 0 {
		return nil
	}
	v := w.found[0]
	err := badInput(fmt.Sprintf("argument %s of %s: %s", strings.Join(v.path, "."), v.owner, v.msg), v.path)
	if v.pos != nil {
		err.Locations = []gqlerror.Location{{Line: v.pos.Line, Column: v.pos.Column}}
	}
	return err
}

// InterceptField answers a mutation root field whose arguments break the rule with its
// payload and the userErrors, without running it — once the caller may call it at all
// (an unauthorized caller gets FORBIDDEN, as with any other input).
func (c *inputCheck) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" || fc.Field.Field == nil {
		return next(ctx)
	}
	w := argWalk{schema: c.schema}
	w.field(fc.Field.Field, graphql.GetOperationContext(ctx).Variables)
	if !slices.ContainsFunc(w.found, func(v violation) bool { return !v.tooLong }) || !mayCall(ctx, fc.Field.Definition) {
		// Only lengths: the domain refuses them with the same caps, together with every
		// other invalid field of the input (§3), before any SQL; the sweep test holds it to it.
		return next(ctx)
	}
	errs := make([]model.UserError, len(w.found))
	for i, v := range w.found {
		errs[i] = model.UserError{Field: v.path, Message: v.msg, Code: apperr.Invalid}
	}
	if build, ok := payloads[fc.Field.Name]; ok {
		return build(errs), nil
	}
	v := w.found[0]
	return nil, badInput(fmt.Sprintf("argument %s of %s: %s", strings.Join(v.path, "."), v.owner, v.msg), v.path)
}

// mayCall reports whether the caller has the field's @hasRole role.
func mayCall(ctx context.Context, def *ast.FieldDefinition) bool {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return false
	}
	d := def.Directives.ForName("hasRole")
	if d == nil {
		return true
	}
	role := d.Arguments.ForName("role")
	if role == nil || role.Value == nil {
		return false
	}
	return p.Can(auth.Role(strings.ToLower(role.Value.Raw)))
}

// payloads builds each mutation's payload holding only userErrors, from the resolver
// interface: "createCustomer" → &model.CreateCustomerPayload{UserErrors: …}.
var payloads = mutationPayloads()

func mutationPayloads() map[string]func([]model.UserError) any {
	out := map[string]func([]model.UserError) any{}
	iface := reflect.TypeFor[MutationResolver]()
	userErrs := reflect.TypeFor[[]model.UserError]()
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		if m.Type.NumOut() != 2 || m.Type.Out(0).Kind() != reflect.Pointer {
			continue
		}
		payload := m.Type.Out(0).Elem()
		f, ok := payload.FieldByName("UserErrors")
		if payload.Kind() != reflect.Struct || !ok || f.Type != userErrs {
			continue
		}
		name := strings.ToLower(m.Name[:1]) + m.Name[1:]
		out[name] = func(errs []model.UserError) any {
			p := reflect.New(payload)
			p.Elem().FieldByIndex(f.Index).Set(reflect.ValueOf(errs))
			return p.Interface()
		}
	}
	return out
}

// badInput is a request refused before it runs. gqlgen's validation code gives it the
// status of a malformed request (200 under application/json, 400 under
// application/graphql-response+json);
// presentError shows it as BAD_USER_INPUT, as every other malformed request.
func badInput(msg string, argument []string) *gqlerror.Error {
	ext := map[string]any{"code": errcode.ValidationFailed}
	if argument != nil {
		ext["argument"] = argument
	}
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

// refusedText answers 400 BAD_USER_INPUT to a request whose raw text badRequestText refuses.
func refusedText(w http.ResponseWriter, req *http.Request, body []byte) bool {
	msg := badRequestText(req, body)
	if msg == "" {
		return false
	}
	out, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": "BAD_USER_INPUT"}}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(out)
	return true
}

// badRequestText is why a request's raw text is refused before gqlgen decodes it — which
// would turn invalid UTF-8 and escaped lone surrogates into U+FFFD silently — or "".
func badRequestText(req *http.Request, body []byte) string {
	if !utf8.Valid(body) {
		return "the request body is not valid UTF-8"
	}
	if bytes.Contains(body, []byte(`\u`)) && loneSurrogate(string(body), false) { // most bodies escape nothing
		return "the request body escapes a lone UTF-16 surrogate: it is not valid Unicode text"
	}
	if req.URL.RawQuery != "" {
		values, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			return "" // gqlgen answers a malformed URL query
		}
		for name, vs := range values {
			if !utf8.ValidString(name) {
				return "a URL parameter's name is not valid UTF-8"
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					return "the URL parameter " + strconv.Quote(name) + " is not valid UTF-8"
				}
				if (name == "variables" || name == "extensions") && loneSurrogate(v, false) {
					return "the URL parameter " + strconv.Quote(name) + " escapes a lone UTF-16 surrogate"
				}
			}
		}
	}
	return ""
}

// loneSurrogate reports whether a JSON text (graphQL false) or a GraphQL document (true)
// has a string escaping half of a UTF-16 surrogate pair without the other (\ud800). It
// follows strings only: a backslash elsewhere means nothing here. A GraphQL block string
// has no escapes but \""", and a comment runs to the end of its line.
func loneSurrogate(s string, graphQL bool) bool {
	if !strings.Contains(s, `\u`) {
		return false // no escape of a code unit at all (the common case, found fast)
	}
	const (
		outside = iota
		inString
		inBlock
	)
	state := outside
	for i := 0; i < len(s); i++ {
		switch state {
		case outside:
			switch {
			case graphQL && s[i] == '#':
				for i < len(s) && s[i] != '\n' && s[i] != '\r' {
					i++
				}
			case graphQL && strings.HasPrefix(s[i:], `"""`):
				state, i = inBlock, i+2
			case s[i] == '"':
				state = inString
			}
		case inBlock:
			switch {
			case strings.HasPrefix(s[i:], `\"""`):
				i += 3
			case strings.HasPrefix(s[i:], `"""`):
				state, i = outside, i+2
			}
		case inString:
			switch s[i] {
			case '"':
				state = outside
			case '\\':
				if i+1 < len(s) && s[i+1] == 'u' {
					r, ok := hex4(s, i+2)
					switch {
					case !ok:
					case r >= 0xDC00 && r <= 0xDFFF:
						return true // a trailing half first
					case r >= 0xD800 && r <= 0xDBFF:
						next, ok := rune(0), false
						if strings.HasPrefix(s[i+6:], `\u`) {
							next, ok = hex4(s, i+8)
						}
						if !ok || next < 0xDC00 || next > 0xDFFF {
							return true
						}
						i += 6 // the trailing half, paired
					}
					if ok {
						i += 5
						continue
					}
				}
				i++ // the escaped character
			}
		}
	}
	return false
}

// hex4 reads the four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
