package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"customerservice/customers"
	"customerservice/graph/model"
	"customerservice/models"
)

// Limits bound what one request may cost; a zero field takes its default below.
type Limits struct {
	MaxBodyBytes  int64 // request body, in bytes
	MaxComplexity int   // cost of an operation: one a field, a connection's selection times its page size
	MaxDepth      int   // nesting of fields; those under __schema/__type: IntrospectionMaxDepth if more
	MaxAliases    int   // aliased fields in one operation, fragments included
	Introspection bool

	// PersistedQueries are the operations registered ahead of time (hash → document), from
	// the manifest at PERSISTED_QUERIES_FILE. With PersistedOnly, nothing else runs.
	PersistedQueries map[string]string
	PersistedOnly    bool

	// Live is how subscriptions are served: the WebSocket's authentication, ping and idle
	// timeout (live.go).
	Live Live
}

// The defaults. The Customer 360 dashboard page — 100 customers with addresses, loyalty
// account and 5 transactions, credit account with its first 20 usages and aging, segment —
// costs about 20,000 with typical fields and 41,000 with every field; an operation that
// nests two pages of 100 (10,000 rows) or more costs more than 50,000.
const (
	DefaultMaxBodyBytes  = 1 << 20
	DefaultMaxComplexity = 50_000
	DefaultMaxDepth      = 10
	DefaultMaxAliases    = 30

	// IntrospectionMaxDepth is how deep a field under __schema or __type may be when
	// MAX_DEPTH is lower: the standard introspection query (graphql-js 16's
	// getIntrospectionQuery, which GraphiQL sends) is 15 deep — __schema, types, fields,
	// args, type, then ofType 9 times down to kind — more than the default MAX_DEPTH.
	IntrospectionMaxDepth = 15

	// maxTokens bounds the parser (and so the validation that follows it) before any other
	// limit can look at the document: the 360 query has about 200 tokens, GraphiQL's
	// introspection query about 500.
	maxTokens = 15_000
	// apqCacheSize is how many automatic persisted queries one process remembers.
	apqCacheSize = 1000
)

// Error codes of the limits (§8: QUERY_TOO_COMPLEX). gqlgen's own complexity code is
// renamed to ours by presentError.
const (
	codeTooComplex        = "QUERY_TOO_COMPLEX"
	codeGqlgenComplexity  = "COMPLEXITY_LIMIT_EXCEEDED"
	codePersistedRequired = "PERSISTED_QUERY_REQUIRED"
)

func init() {
	// Errors of these codes reject the request before it runs, as a parse error does: no
	// data, HTTP 400 under application/graphql-response+json (200 under application/json:
	// see httpTransport).
	errcode.RegisterErrorType(codeTooComplex, errcode.KindProtocol)
	errcode.RegisterErrorType(codeGqlgenComplexity, errcode.KindProtocol)
	errcode.RegisterErrorType(codePersistedRequired, errcode.KindProtocol)
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = DefaultMaxComplexity
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = DefaultMaxAliases
	}
	return l
}

// §8: a page holds 20 items unless first/last says otherwise, and never more than 100.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageCost is the cost of a connection: its selection once per item the page may hold.
func pageCost(child int, first, last *int) int {
	n := defaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	n = min(max(n, 1), maxPageSize)
	return 1 + n*child // at most 100 × a child bounded by the field budget: no overflow
}

// setComplexity prices every field that takes first/last (TestLimits_EveryPagedFieldHasACost
// fails when a new one is missing here).
func setComplexity(c *ComplexityRoot) {
	c.Query.Customers = func(child int, first *int, _ *string, last *int, _ *string, _ *model.CustomerFilter, _ *string, _ *model.CustomerOrder) int {
		return pageCost(child, first, last)
	}
	c.Query.DataQualityIssues = func(child int, first *int, _ *string, _ *customers.DataIssue) int {
		return pageCost(child, first, nil)
	}
	c.Query.DuplicateCandidates = func(child int, first *int, _ *string, _ *int) int {
		return pageCost(child, first, nil)
	}
	c.Customer.ConsentHistory = func(child int, first *int, _ *string) int {
		return pageCost(child, first, nil)
	}
	c.Customer.Purchases = func(child int, first *int, _ *string) int {
		return pageCost(child, first, nil)
	}
	c.LoyaltyAccount.Transactions = func(child int, first *int, _ *string, _ *models.LoyaltyTransactionType) int {
		return pageCost(child, first, nil)
	}
	c.CreditAccount.Usages = func(child int, first *int, _ *string, _ *models.CreditUsageStatus) int {
		return pageCost(child, first, nil)
	}
	c.CreditAccount.Payments = func(child int, first *int, _ *string) int {
		return pageCost(child, first, nil)
	}
	c.Customer.Timeline = func(child int, first *int, _ *string, _ []string) int {
		return pageCost(child, first, nil)
	}
	c.Query.SavedSegments = func(child int, first *int, _ *string) int {
		return pageCost(child, first, nil)
	}
	c.SavedSegment.Customers = func(child int, first *int, _ *string, _ *model.CustomerOrder) int {
		return pageCost(child, first, nil)
	}
	c.Query.AuditLog = func(child int, _ *model.AuditLogFilter, first *int, _ *string) int {
		return pageCost(child, first, nil)
	}
	c.Query.PrivacyRequests = func(child int, first *int, _ *string, _ *models.PrivacyRequestStatus, _ *bool, _ *uuid.UUID) int {
		return pageCost(child, first, nil)
	}
}

// shapeLimit rejects an operation nested deeper than MaxDepth, with more than MaxAliases
// aliases, or with more fields (fragments expanded) than MaxComplexity — which every field
// costs at least one of. It runs before gqlgen's complexity walk, which expands fragments
// without a bound: ten fragments that each spread the next twice are 1,024 copies. Every
// field counts, introspection's too (gqlgen's own depth check skips them, and gqlparser's
// rule bounds only fields/interfaces/possibleTypes/inputFields, not ofType); a field under
// __schema or __type may be as deep as IntrospectionMaxDepth, so that GraphiQL's query runs.
type shapeLimit struct{ maxDepth, maxAliases, maxFields int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (s shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := shapeWalk{limit: s}
	w.walk(oc.Operation.SelectionSet, 1, false)
	return w.err
}

type shapeWalk struct {
	limit           shapeLimit
	fields, aliases int
	err             *gqlerror.Error
}

func (w *shapeWalk) walk(set ast.SelectionSet, depth int, introspection bool) {
	for _, sel := range set {
		if w.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			introspection := introspection || s.Name == "__schema" || s.Name == "__type"
			w.fields++
			if s.Alias != s.Name {
				w.aliases++
			}
			switch {
			case introspection && depth > max(w.limit.maxDepth, IntrospectionMaxDepth):
				w.err = tooComplex("the introspection query is nested %d levels deep, more than the limit of %d for introspection",
					depth, max(w.limit.maxDepth, IntrospectionMaxDepth))
			case !introspection && depth > w.limit.maxDepth:
				w.err = tooComplex("the query is nested %d levels deep, more than the limit of %d", depth, w.limit.maxDepth)
			case w.aliases > w.limit.maxAliases:
				w.err = tooComplex("the query has more than %d aliased fields, the limit", w.limit.maxAliases)
			case w.fields > w.limit.maxFields:
				w.err = tooComplex("the query selects more than %d fields (fragments expanded): its complexity is over the limit of %d", w.limit.maxFields, w.limit.maxFields)
			default:
				w.walk(s.SelectionSet, depth+1, introspection)
			}
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, depth, introspection)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.walk(s.Definition.SelectionSet, depth, introspection)
			}
		}
	}
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": codeTooComplex}}
}

// persistedOnly runs only the operations of the manifest (PERSISTED_QUERIES_ONLY): a request
// names one by extensions.persistedQuery.sha256Hash, as automatic persisted queries do, and
// may send its text too; any other document is refused before it is parsed.
type persistedOnly struct{ known map[string]string }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedOnly{}

func (persistedOnly) ExtensionName() string                   { return "PersistedQueriesOnly" }
func (persistedOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (p persistedOnly) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	ext, _ := raw.Extensions["persistedQuery"].(map[string]any)
	hash, _ := ext["sha256Hash"].(string)
	query, ok := p.known[hash]
	if !ok || (raw.Query != "" && raw.Query != query) {
		return &gqlerror.Error{
			Message:    "this server runs only registered operations: send extensions.persistedQuery.sha256Hash of one",
			Extensions: map[string]any{"code": codePersistedRequired},
		}
	}
	raw.Query = query
	return nil
}

// LoadPersistedQueries reads a persisted query manifest in the format of Apollo's
// generate-persisted-query-manifest: {"operations": [{"id": sha256 of body, "body": …}]}.
func LoadPersistedQueries(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("PERSISTED_QUERIES_FILE: %w", err)
	}
	var manifest struct {
		Operations []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("PERSISTED_QUERIES_FILE %s is not a persisted query manifest ({\"operations\": [{\"id\", \"body\"}]}): %w", path, err)
	}
	known := make(map[string]string, len(manifest.Operations))
	for _, op := range manifest.Operations {
		if QueryHash(op.Body) != op.ID {
			return nil, fmt.Errorf("PERSISTED_QUERIES_FILE %s: operation %q: id is not the SHA-256 of its body", path, op.Name)
		}
		known[op.ID] = op.Body
	}
	return known, nil
}

// QueryHash is a document's persisted query id: the hex SHA-256 of its text.
func QueryHash(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}
