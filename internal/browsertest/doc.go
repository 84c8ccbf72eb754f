// Package browsertest holds the end-to-end test of GraphiQL in a real browser: it builds the
// server, starts it on its embedded default (a private PostgreSQL with the demo
// organization), and has e2e.mjs drive Debian's Chromium headless through playwright-core
// (installed here with `npm ci`): the development token in the Headers tab, a Customer 360
// query, its result, and the docs explorer — with every request not to the server aborted, so
// the page must work offline. It runs only with BROWSER_TEST=1.
package browsertest
