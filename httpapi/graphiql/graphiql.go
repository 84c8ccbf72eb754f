// Package graphiql serves the GraphiQL page at / with everything it loads — GraphiQL, React,
// React DOM and GraphiQL's CSS — from the binary, so the page works with no internet access
// (behind a firewall, on a plane) and sends no request anywhere but to this server.
//
// The page is gqlgen's (graphql/playground), pointed at local paths. The assets are the npm
// packages' files at pinned versions, committed under assets/ with their licenses and
// embedded at build time; vendor.sh refreshes them. They are served under /graphiql/ at
// paths that name their version, so browsers may cache them for good.
package graphiql

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

// The pinned versions: the folders of assets/ (vendor.sh writes them).
const (
	GraphiQLVersion = "4.1.2"
	ReactVersion    = "18.2.0"
)

// Prefix is the path the assets are served under.
const Prefix = "/graphiql/"

//go:embed assets
var embedded embed.FS

// assets is assets/ as the root of the files served under Prefix.
var assets = func() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}()

// The files the page loads, relative to assets/.
var (
	graphiqlJS  = "graphiql@" + GraphiQLVersion + "/graphiql.min.js"
	graphiqlCSS = "graphiql@" + GraphiQLVersion + "/graphiql.min.css"
	reactJS     = "react@" + ReactVersion + "/umd/react.production.min.js"
	reactDOMJS  = "react-dom@" + ReactVersion + "/umd/react-dom.production.min.js"
)

// Files are the paths the page loads (under Prefix), for tests.
func Files() []string { return []string{graphiqlJS, graphiqlCSS, reactJS, reactDOMJS} }

// Page is the GraphiQL page for the GraphQL endpoint (a path, such as /graphql), loading its
// scripts and styles from Prefix with their subresource integrity hashes.
func Page(title, endpoint string) http.Handler {
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(Prefix+graphiqlJS, Prefix+graphiqlCSS, integrity(graphiqlJS), integrity(graphiqlCSS)),
		playground.WithGraphiqlReactVersion(Prefix+reactJS, Prefix+reactDOMJS, integrity(reactJS), integrity(reactDOMJS)),
		playground.WithGraphiqlEnablePluginExplorer(false),
	)
}

// Assets serves the embedded files; mount it at Prefix. Their paths hold their version, so
// they never change under a path: browsers may keep them a year.
func Assets() http.Handler {
	files := http.StripPrefix(Prefix, http.FileServerFS(assets))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}

// integrity is the file's subresource integrity value (sha256-…). A missing file is a
// build mistake (assets/ and the versions above disagree): it panics at start.
func integrity(name string) string {
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		panic(fmt.Sprintf("graphiql: %v (run httpapi/graphiql/vendor.sh after changing a version)", err))
	}
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
