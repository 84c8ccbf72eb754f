#!/usr/bin/env bash
# Refreshes assets/ from npm: the files GraphiQL's page loads, at the versions below, with
# their licenses. Run it after changing a version here and in graphiql.go, then commit
# assets/. Needs npm (it only downloads the three packages' tarballs).
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=4.1.2 REACT=18.2.0 REACT_DOM=18.2.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# GraphiQL's bundle carries the graphql-ws client (its subscriptions over WebSocket) without
# that package's MIT notice: the notice is taken from graphql-ws's own package (the 5.x line
# GraphiQL's toolkit builds against; the text is the same in every version).
GRAPHQL_WS=5.16.2
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT_DOM" "graphql-ws@$GRAPHQL_WS" >/dev/null)
take() { # take PACKAGE VERSION FILE...: copy FILEs and LICENSE from the package's tarball
  local pkg=$1 version=$2; shift 2
  local dir="$work/$pkg" dest="assets/$pkg@$version"
  mkdir -p "$dir" && tar -xzf "$work/$pkg-$version.tgz" -C "$dir" --strip-components=1
  rm -rf "$dest" && mkdir -p "$dest"
  for f in LICENSE "$@"; do
    mkdir -p "$dest/$(dirname "$f")" && cp "$dir/$f" "$dest/$f"
  done
}
rm -rf assets
take graphiql "$GRAPHIQL" graphiql.min.js graphiql.min.css
take react "$REACT" umd/react.production.min.js
take react-dom "$REACT_DOM" umd/react-dom.production.min.js
mkdir -p "$work/graphql-ws" && tar -xzf "$work/graphql-ws-$GRAPHQL_WS.tgz" -C "$work/graphql-ws" --strip-components=1
cp "$work/graphql-ws/LICENSE.md" "assets/graphiql@$GRAPHIQL/graphql-ws.LICENSE.md"
find assets -type f | sort
