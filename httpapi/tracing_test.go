package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"customerservice/auth"
	"customerservice/internal/testkit/apitest"
	"customerservice/tracing"
)

// tracedServer is a server whose traces go to an in-memory exporter.
func tracedServer(t *testing.T) (*apitest.Server, *tracetest.InMemoryExporter) {
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = provider.Shutdown(t.Context()) })
	return apitest.NewWith(t, apitest.Options{Tracer: tracing.New(provider)}), exporter
}

// takeTrace waits for the request's server span (it ends after the response is written),
// returns the spans and forgets them.
func takeTrace(t *testing.T, exporter *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := exporter.GetSpans()
		for _, s := range spans {
			if s.SpanKind == trace.SpanKindServer {
				exporter.Reset()
				return spans
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server span; spans: %v", names(spans))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// attributes are s's attributes as key=value, in order.
func attributes(s tracetest.SpanStub) string {
	var out []string
	for _, a := range s.Attributes {
		out = append(out, string(a.Key)+"="+a.Value.String())
	}
	return strings.Join(out, " ")
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	sort.Strings(out)
	return out
}

// byName is the only span of that name.
func byName(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q in %v", len(found), name, names(spans))
	}
	return found[0]
}

// childrenOf are the names of parent's children.
func childrenOf(spans tracetest.SpanStubs, parent tracetest.SpanStub) []string {
	var out []string
	for _, s := range spans {
		if s.Parent.SpanID() == parent.SpanContext.SpanID() {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

func assertChildren(t *testing.T, spans tracetest.SpanStubs, parent tracetest.SpanStub, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := childrenOf(spans, parent); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("children of %q = %v, want %v", parent.Name, got, want)
	}
}

// assertOneTrace checks every span is of one trace, and none carries any of the secrets in
// an attribute or event (no SQL text, arguments, variables or customer data).
func assertOneTrace(t *testing.T, spans tracetest.SpanStubs, secrets ...string) {
	t.Helper()
	traceID := spans[0].SpanContext.TraceID()
	for _, s := range spans {
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("span %q is of trace %s, not %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
		all := []string{attributes(s)}
		for _, e := range s.Events {
			all = append(all, e.Name)
			for _, a := range e.Attributes {
				all = append(all, string(a.Key)+"="+a.Value.String())
			}
		}
		text := strings.Join(all, " ")
		for _, secret := range append(secrets, "db.query.text", "db.statement", "graphql.document") {
			if strings.Contains(text, secret) {
				t.Errorf("span %q carries %q: %s", s.Name, secret, text)
			}
		}
	}
}

// The Customer 360 read: HTTP span → operation → root field → the pipelined read and its
// statements, one trace.
func TestTracing_OneReadIsOneTraceOfHTTPOperationFieldAndSQL(t *testing.T) {
	t.Parallel()
	srv, exporter := tracedServer(t)
	agent := srv.NewOrg(t, auth.Agent)
	var created struct {
		CreateCustomer struct {
			Customer struct{ ID string }
		}
	}
	agent.Must(t, createCustomer, map[string]any{"input": map[string]any{
		"firstName": "Ana", "lastName": "Núñez", "email": "ana.trace@example.com"}}, &created)
	takeTrace(t, exporter)

	id := created.CreateCustomer.Customer.ID
	agent.Must(t, `query Customer360($id: UUID!) { customer(id: $id) { fullName email loyaltyAccount { tier } } }`,
		map[string]any{"id": id}, nil)
	spans := takeTrace(t, exporter)

	if got := strings.Join(names(spans), ","); got != "BATCH,POST /graphql,Query.customer,SELECT,SELECT,query Customer360" {
		t.Fatalf("spans %s", got)
	}
	assertOneTrace(t, spans, id, agent.Org.String(), agent.User.String(), "ana.trace", "Núñez")
	http := byName(t, spans, "POST /graphql")
	if http.Parent.IsValid() || http.SpanKind != trace.SpanKindServer {
		t.Errorf("the HTTP span: parent %v, kind %v", http.Parent, http.SpanKind)
	}
	assertChildren(t, spans, http, "query Customer360")
	assertChildren(t, spans, byName(t, spans, "query Customer360"), "Query.customer")
	assertChildren(t, spans, byName(t, spans, "Query.customer"), "BATCH")
	assertChildren(t, spans, byName(t, spans, "BATCH"), "SELECT", "SELECT")
	for _, s := range spans {
		if (s.Name == "BATCH" || s.Name == "SELECT") && s.SpanKind != trace.SpanKindClient {
			t.Errorf("SQL span %q of kind %v", s.Name, s.SpanKind)
		}
	}
}

// A mutation: its transaction's statements under the root field (the organization's first
// customer: its registration, the customer, the audit row, the notification of its event
// to the subscriptions — a SELECT pg_notify), and its payload's rendered read (one pipelined
// batch).
func TestTracing_AMutationTracesItsStatementsAndItsPayloadRead(t *testing.T) {
	t.Parallel()
	srv, exporter := tracedServer(t)
	agent := srv.NewOrg(t, auth.Agent)
	agent.Must(t, createCustomer, map[string]any{"input": map[string]any{
		"firstName": "Ana", "lastName": "Núñez", "email": "ana.mutation@example.com", "phone": "6123-4567"}}, nil)
	spans := takeTrace(t, exporter)

	assertOneTrace(t, spans, agent.Org.String(), agent.User.String(), "ana.mutation", "Núñez", "6123", "4567")
	assertChildren(t, spans, byName(t, spans, "POST /graphql"), "mutation Create")
	assertChildren(t, spans, byName(t, spans, "mutation Create"), "Mutation.createCustomer")
	assertChildren(t, spans, byName(t, spans, "Mutation.createCustomer"),
		"BATCH", "BEGIN", "COMMIT", "INSERT", "INSERT", "INSERT", "SELECT", "SELECT", "SELECT") // a SELECT looks the organization up, one notifies the event
	if got := attributes(byName(t, spans, "mutation Create")); got != "graphql.operation.type=mutation graphql.operation.name=Create" {
		t.Errorf("operation attributes %s", got)
	}
	for _, s := range spans {
		if s.Name == "INSERT" {
			if got := attributes(s); got != "db.system.name=postgresql db.operation.name=INSERT" {
				t.Errorf("INSERT attributes %s", got)
			}
		}
	}
}

// A request carrying a W3C traceparent continues the caller's trace.
func TestTracing_ContinuesTheCallersTrace(t *testing.T) {
	t.Parallel()
	srv, exporter := tracedServer(t)
	agent := srv.NewOrg(t, auth.Viewer)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	body, _ := json.Marshal(map[string]any{"query": `query Me { me { userId } }`})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+agent.Token)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	spans := takeTrace(t, exporter)
	assertOneTrace(t, spans)
	http := byName(t, spans, "POST /graphql")
	if http.SpanContext.TraceID().String() != traceID || http.Parent.SpanID().String() != parentID || !http.Parent.IsRemote() {
		t.Fatalf("the HTTP span: trace %s, parent %s", http.SpanContext.TraceID(), http.Parent.SpanID())
	}
	if got := strings.Join(names(spans), ","); got != "POST /graphql,Query.me,query Me" {
		t.Fatalf("spans %s", got)
	}
}

// Errors are marked by their codes only: a GraphQL error by extensions.code, a failed
// statement by its SQLSTATE; no message (a driver's may quote a value).
func TestTracing_ErrorsAreCodesNotMessages(t *testing.T) {
	t.Parallel()
	srv, exporter := tracedServer(t)
	agent := srv.NewOrg(t, auth.Agent)
	viewer := srv.As(t, agent.Org, auth.Viewer)
	input := map[string]any{"input": map[string]any{"firstName": "Ana", "lastName": "Núñez", "email": "ana.errors@example.com"}}
	agent.Must(t, createCustomer, input, nil)
	takeTrace(t, exporter)

	agent.Do(t, createCustomer, input) // TAKEN: a userError, from a unique violation
	spans := takeTrace(t, exporter)
	assertOneTrace(t, spans, "ana.errors", "Núñez", "duplicate")
	var failed []string
	for _, s := range spans {
		if s.Status.Code == codes.Error {
			failed = append(failed, s.Name+" "+attributes(s)+" "+s.Status.Description)
		}
	}
	if want := "INSERT db.system.name=postgresql db.operation.name=INSERT db.response.status_code=23505 error.type=23505 "; strings.Join(failed, ";") != want {
		t.Errorf("failed spans %q, want %q", failed, want)
	}

	viewer.Do(t, createCustomer, input) // FORBIDDEN
	spans = takeTrace(t, exporter)
	op := byName(t, spans, "mutation Create")
	if op.Status.Code != codes.Error || attributes(op) != `graphql.operation.type=mutation graphql.operation.name=Create graphql.error.codes=["FORBIDDEN"]` {
		t.Errorf("operation span: %v %s", op.Status, attributes(op))
	}
}
