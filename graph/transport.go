package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// httpTransport is GraphQL over HTTP (the GraphQL-over-HTTP spec): POST with a JSON body,
// and GET with the parameters in the query string, which runs queries only. It replaces
// gqlgen's transport.POST and transport.GET, whose status codes and bodies the spec's
// audits fault, with the same executor behind it:
//
//   - A request that cannot be read — a body that is not JSON, parameters of the wrong type,
//     no query (and no persisted query hash) — is HTTP 400.
//   - A request error — the document does not parse or validate, the variables do not
//     coerce, a limit or the persisted-only mode refuses it — has no data entry (it never
//     ran), and is HTTP 200 when the client accepts application/json (the spec: every
//     well-formed request is 200 in that media type) and HTTP 400 with
//     application/graphql-response+json. Apollo's PERSISTED_QUERY_NOT_FOUND is 200 in both,
//     as its clients expect.
//   - A mutation over GET is HTTP 405 with Allow: POST and an error coded METHOD_NOT_ALLOWED.
//   - An operation that ran is HTTP 200, its data and errors as the executor made them.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"

	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mediaType == mediaJSON
	}
	return false
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media)
	// An error before the operation runs: the error presenter and the response
	// extensions (metrics count it) see it, the client gets no data entry.
	refuse := func(status int, errs gqlerror.List) {
		resp := exec.DispatchError(ctx, errs)
		w.WriteHeader(status)
		writeJSON(w, struct {
			Errors     gqlerror.List  `json:"errors,omitempty"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Errors, resp.Extensions})
	}

	start := graphql.Now()
	params, err := readParams(r)
	if err != nil {
		refuse(http.StatusBadRequest, gqlerror.List{err})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		refuse(http.StatusBadRequest, gqlerror.List{{Message: "the request has no query: send the GraphQL document as the query parameter"}})
		return
	}

	oc, errs := exec.CreateOperationContext(ctx, params)
	ctx = graphql.WithOperationContext(ctx, oc) // for the errors' presenter and extensions
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse && errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		refuse(status, errs)
		return
	}
	if r.Method == http.MethodGet && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, gqlerror.List{{
			Message:    "GET runs queries only: send a " + string(oc.Operation.Operation) + " with POST",
			Extensions: map[string]any{"code": codeMethodNotAllowed},
		}})
		return
	}
	if oc.Operation.Operation == ast.Subscription {
		// A stream: over WebSocket or SSE (Accept: text/event-stream), never one answer.
		refuse(http.StatusBadRequest, gqlerror.List{{
			Message:    "a subscription needs a stream: use a WebSocket (graphql-transport-ws) or Server-Sent Events (Accept: text/event-stream)",
			Extensions: map[string]any{"code": "BAD_USER_INPUT"},
		}})
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), oc)
	writeResponse(w, responses(ctx))
}

// readParams reads a request's GraphQL parameters: a POST's JSON body, a GET's query string.
// An error is the client's, worded for it (never quoting the body).
func readParams(r *http.Request) (*graphql.RawParams, *gqlerror.Error) {
	params := &graphql.RawParams{}
	if r.Method == http.MethodPost {
		if err := decodeJSON(r.Body, params); err != nil {
			reason := err.Error()
			var typeErr *json.UnmarshalTypeError
			switch {
			case errors.As(err, &typeErr) && typeErr.Field == "":
				reason = "the body is a JSON " + typeErr.Value + ", not an object (batches are not supported)"
			case errors.As(err, &typeErr):
				reason = fmt.Sprintf("%s is a JSON %s", typeErr.Field, typeErr.Value)
			}
			return nil, &gqlerror.Error{Message: `the request body is not a GraphQL request in JSON ({"query": string, "operationName": string, "variables": object, "extensions": object}): ` + reason}
		}
		return params, nil
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &gqlerror.Error{Message: "the query string cannot be read: " + err.Error()}
	}
	params.Query = query.Get("query")
	params.OperationName = query.Get("operationName")
	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if v := query.Get(name); v != "" {
			if err := decodeJSON(strings.NewReader(v), into); err != nil {
				return nil, &gqlerror.Error{Message: "the " + name + " parameter is not a JSON object"}
			}
		}
	}
	return params, nil
}

// decodeJSON decodes one JSON value, numbers kept as json.Number (as gqlgen's transports do,
// so that an Int or a Decimal is not rounded through float64).
func decodeJSON(r io.Reader, into any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(into)
}

// responseMediaType is the media type of the answer, from the request's Accept (gqlgen's rule):
// application/json when it is absent, */* or application/*, the first of the two GraphQL
// media types it names otherwise, application/graphql-response+json when it names neither.
func responseMediaType(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // answered 500 INTERNAL by the server's recover, with the detail in the log
	}
	_, _ = w.Write(b)
}

// writeResponse writes an operation's response as encoding/json would (byte for byte:
// compacted, HTML-escaped), without encoding/json when it is data alone: Marshal re-scans
// the data gqlgen already wrote — the Customer 360 JSON PostgreSQL rendered — with its
// validating state machine to compact and escape it, a seventh of a Customer 360 read's CPU
// (BENCHMARKS.md, issue 17). The data is valid JSON (gqlgen wrote it), so compacting it needs
// to know only where its strings are. Anything else (errors, extensions) goes through
// encoding/json as before.
func writeResponse(w io.Writer, r *graphql.Response) {
	if r == nil || len(r.Data) == 0 || len(r.Errors) > 0 || r.Label != "" || r.Path != nil || r.HasNext != nil || len(r.Extensions) > 0 {
		writeJSON(w, r)
		return
	}
	b := make([]byte, 0, len(r.Data)+len(`{"data":}`))
	b = append(b, `{"data":`...)
	b = appendCompactJSON(b, r.Data)
	b = append(b, '}')
	_, _ = w.Write(b)
}

// appendCompactJSON appends the valid JSON src to dst as encoding/json writes a
// json.RawMessage: the white space between tokens left out, and <, >, &, U+2028 and U+2029
// escaped (\u003c, \u003e, \u0026, \u2028, \u2029) wherever they are. Most bytes are none
// of those (a page of 50 customers is 55 kB): the loop skips them by a table, at about a
// byte a cycle, and looks closer only at the bytes compactStop marks.
func appendCompactJSON(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	inString := false
	start := 0 // of the bytes not yet appended
	for i := 0; i < len(src); i++ {
		for i < len(src) && !compactStop[src[i]] {
			i++
		}
		if i == len(src) {
			break
		}
		switch c := src[i]; c {
		case '<', '>', '&':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case 0xE2: // the first byte of U+2028 and U+2029 (E2 80 A8, E2 80 A9)
			if i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
				dst = append(dst, src[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
				i += 2
				start = i + 1
			}
		case '"':
			inString = !inString
		case '\\':
			// Only inside a string; what it escapes (", \, /, b, f, n, r, t or u) needs nothing.
			i++
		default: // white space
			if !inString {
				dst = append(dst, src[start:i]...)
				start = i + 1
			}
		}
	}
	return append(dst, src[start:]...)
}

// compactStop marks the bytes appendCompactJSON must look at.
var compactStop = func() (stop [256]bool) {
	for _, c := range []byte("<>&\xE2\"\\ \t\n\r") {
		stop[c] = true
	}
	return stop
}()
