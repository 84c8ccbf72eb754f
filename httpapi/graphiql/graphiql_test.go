package graphiql_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"customerservice/httpapi/graphiql"
)

// The page loads its scripts and styles from this server only (no CDN), each with the
// integrity hash of the file the server answers at that path, with a content type the
// browser accepts.
func TestPage_LoadsEveryAssetFromTheServerItself(t *testing.T) {
	srv := pageServer(t)

	page := get(t, srv.URL+"/", http.StatusOK)
	if regexp.MustCompile(`(src|href)="[a-z]+:`).MatchString(page.body) {
		t.Errorf("the page loads something from another host:\n%s", page.body)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(page.body, -1)
	var loaded []string
	for _, ref := range refs {
		path, sri := html.UnescapeString(ref[1]), html.UnescapeString(ref[2])
		if !strings.HasPrefix(path, graphiql.Prefix) {
			t.Errorf("the page loads %s, not under %s", path, graphiql.Prefix)
			continue
		}
		loaded = append(loaded, strings.TrimPrefix(path, graphiql.Prefix))
		asset := get(t, srv.URL+path, http.StatusOK)
		sum := sha256.Sum256([]byte(asset.body))
		if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); sri != want {
			t.Errorf("%s: the page's integrity %s, the file's %s", path, sri, want)
		}
		switch {
		case strings.HasSuffix(path, ".js") && !strings.Contains(asset.contentType, "javascript"),
			strings.HasSuffix(path, ".css") && !strings.HasPrefix(asset.contentType, "text/css"):
			t.Errorf("%s: Content-Type %q", path, asset.contentType)
		}
	}
	slices.Sort(loaded)
	want := graphiql.Files()
	slices.Sort(want)
	if !slices.Equal(loaded, want) {
		t.Errorf("the page loads %v, want %v", loaded, want)
	}
	get(t, srv.URL+graphiql.Prefix+"nothing.js", http.StatusNotFound)
}

// The licenses of the vendored packages are served with them.
func TestAssets_CarryTheirLicenses(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("", graphiql.Assets()))
	defer srv.Close()
	for _, pkg := range []string{"graphiql@" + graphiql.GraphiQLVersion, "react@" + graphiql.ReactVersion, "react-dom@" + graphiql.ReactVersion} {
		if l := get(t, srv.URL+graphiql.Prefix+pkg+"/LICENSE", http.StatusOK); !strings.Contains(l.body, "MIT License") {
			t.Errorf("%s/LICENSE is not its MIT license: %.100s", pkg, l.body)
		}
	}
	// The graphql-ws client inside GraphiQL's bundle, with its notice beside it.
	if l := get(t, srv.URL+graphiql.Prefix+"graphiql@"+graphiql.GraphiQLVersion+"/graphql-ws.LICENSE.md", http.StatusOK); !strings.Contains(l.body, "MIT License") || !strings.Contains(l.body, "Denis Badurina") {
		t.Errorf("graphql-ws.LICENSE.md is not graphql-ws's MIT license: %.100s", l.body)
	}
}

// pageServer serves the page at / and its assets, as httpapi mounts them.
func pageServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graphiql.Page("Customer Service", "/graphql"))
	mux.Handle("GET "+graphiql.Prefix, graphiql.Assets())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type response struct{ body, contentType string }

func get(t *testing.T, url string, status int) response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d", url, res.StatusCode, status)
	}
	return response{string(b), res.Header.Get("Content-Type")}
}

// GraphiQL runs subscriptions with the graphql-ws client its bundle carries (4.1.2's
// createFetcher imports it from inside the bundle): the page points it at this server's
// /graphql over ws(s), and the Headers tab's headers become connection_init's payload. A
// GraphiQL version whose bundle left the client out would need it vendored beside it.
func TestPage_RunsSubscriptionsOverGraphQLWSFromItsOwnBundle(t *testing.T) {
	srv := pageServer(t)
	page := get(t, srv.URL+"/", http.StatusOK).body
	for _, want := range []string{
		`const subscriptionUrl = wsProto + '//' + location.host + "/graphql"`,
		"GraphiQL.createFetcher({ url, subscriptionUrl, headers: fetcherHeaders })",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	bundle := get(t, srv.URL+graphiql.Prefix+graphiql.Files()[0], http.StatusOK).body
	for _, want := range []string{
		"graphql-transport-ws",                         // graphql-ws's subprotocol, the server's
		"createClient:function",                        // graphql-ws's client, bundled
		"You need to install the 'graphql-ws' package", // the fetcher's import of it
	} {
		if !strings.Contains(bundle, want) {
			t.Errorf("%s lacks %q: does this GraphiQL bundle still carry graphql-ws?", graphiql.Files()[0], want)
		}
	}
}
