// Drives GraphiQL, as served by the server at `/`, in headless Chromium the way a person
// would: pastes the development token into the Headers tab, runs a Customer 360 query,
// checks the result panel shows the expected customer, saves a screenshot, and checks the
// docs explorer shows the schema's descriptions. Then runs a subscription to the customer's
// live events (over WebSocket, the Headers tab's token in connection_init), changes the
// customer's points through the API and checks the event appears in the result panel.
// Exits non-zero with the reason on failure.
//
// Usage: node e2e.mjs CONFIG_JSON, with the fields of `config` below (browsertest_test.go
// passes them).
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2] ?? 'null');
if (!config) {
  console.error('usage: node e2e.mjs CONFIG_JSON');
  process.exit(2);
}
const {
  url, // GraphiQL, e.g. http://localhost:8080/
  token, // the development token the server printed
  query, // the Customer 360 query to type
  variables, // its variables, as JSON text
  expectInResult, // strings the result panel must show (the customer's data, from the database)
  fieldDescription, // Query.customer's description in schema.graphqls
  argumentDescription, // the description of its `id` argument
  chromiumPath, // e.g. /usr/bin/chromium
  profileDir, // an empty folder: a fresh browser profile
  screenshot, // where to save the screenshot (and <name>-failure.png on failure)
  subscription, // the subscription to run (same variables as the query)
  mutation, // the points change to make through the API: { query, variables }
  points, // the points it adjusts by
  subscriptionScreenshot, // where to save the screenshot of the delivered event
} = config;

const step = (msg) => console.error(`e2e: ${msg}`);

// The network is blocked: the page must load everything (GraphiQL, React, their CSS) from
// the server itself. Any request elsewhere is aborted and fails the test.
const origin = new URL(url).origin;
const problems = []; // requests the page made to anywhere but the server under test
async function route(route) {
  const requested = route.request().url();
  if (requested.startsWith(origin + '/')) return route.continue(); // the server under test
  problems.push(`request to ${requested} (blocked: the page must not leave the machine)`);
  return route.abort('blockedbyclient');
}

// These flags keep Chromium from calling home (on a closed network its background
// connections are refused, and get in the way); as root Chromium starts only without its
// sandbox.
const args = [
  '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
if (process.getuid?.() === 0) args.push('--no-sandbox');

step(`launching ${chromiumPath}`);
const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: chromiumPath,
  headless: true,
  args,
  viewport: { width: 1600, height: 900 },
  timeout: 60_000,
});
context.setDefaultTimeout(30_000);
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on('pageerror', (err) => pageErrors.push(err.message));
page.on('console', (msg) => {
  if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
});

// waitForText waits until the element matching selector shows every one of texts.
async function waitForText(selector, texts, what) {
  try {
    await page.waitForFunction(
      ({ selector, texts }) => {
        const el = document.querySelector(selector);
        return el !== null && texts.every((t) => el.innerText.includes(t));
      },
      { selector, texts },
    );
  } catch (err) {
    const shown = await page.locator(selector).first().innerText().catch(() => '(not found)');
    throw new Error(`${what}: expected ${JSON.stringify(texts)} in ${selector}, it shows:\n${shown.slice(0, 2000)}`);
  }
}

// replaceText replaces the content of a GraphiQL (CodeMirror) editor as a paste would.
async function replaceText(editorSelector, text) {
  await page.locator(`${editorSelector} .graphiql-editor:not(.hidden) .CodeMirror`).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
}

// waitForSubscriptions waits until the server holds n open subscriptions (its /metrics): the
// subscribe message is handled after GraphiQL shows nothing yet.
async function waitForSubscriptions(n) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${origin}/metrics`)).text();
    if (text.split('\n').includes(`customer_service_subscriptions_open ${n}`)) return;
    if (Date.now() > deadline) throw new Error(`the server does not hold ${n} subscription(s) after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let failed = false;
try {
  await context.route('**/*', route);

  step(`opening ${url}`);
  await page.goto(url);
  await page.locator('.graphiql-container').waitFor();

  step('pasting the token into the Headers tab');
  await page.getByRole('button', { name: 'Headers' }).click();
  await replaceText('.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${token}` }));

  step('running the Customer 360 query');
  await page.getByRole('button', { name: 'Variables' }).click();
  await replaceText('.graphiql-editor-tool', variables);
  await replaceText('.graphiql-query-editor', query);
  await page.getByRole('button', { name: /Execute query/ }).click();
  await waitForText('.graphiql-response', expectInResult, 'the result panel');

  // The docs need the schema, which GraphiQL fetched at load without the token (401):
  // fetch it again now that the header is set, as a person would with the refresh button.
  step('opening the docs explorer at Query.customer');
  await page.getByRole('button', { name: 'Re-fetch GraphQL schema' }).click();
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  await page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'Query' }).click();
  await page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'customer', exact: true }).click();
  await waitForText('.graphiql-doc-explorer', [fieldDescription, argumentDescription], 'the docs explorer');

  await page.screenshot({ path: screenshot });
  step(`saved ${screenshot}`);

  // GraphiQL's fetcher sends a subscription over graphql-ws to ws://…/graphql, with the
  // Headers tab's headers as connection_init's payload: the server accepts it only with the
  // token there (4403 without).
  step('running a subscription to the customer\'s events');
  await page.getByRole('button', { name: 'Hide Documentation Explorer' }).click().catch(() => {});
  await replaceText('.graphiql-query-editor', subscription);
  // GraphiQL takes the operation's name from the editor a moment later (the tab shows it):
  // executed before, it would send the previous query's name.
  await waitForText('.graphiql-tab-active', ['LiveEvents'], 'the tab of the subscription');
  await page.getByRole('button', { name: /Execute query/ }).click();
  await waitForSubscriptions(1);

  step(`adjusting the customer's points by ${points} through the API`);
  const res = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(mutation),
  });
  const body = await res.json();
  const tx = body?.data?.adjustPoints?.transaction?.id;
  if (!tx) throw new Error(`adjustPoints answered ${res.status}: ${JSON.stringify(body)}`);
  const started = Date.now();
  await waitForText('.graphiql-response',
    [`"id": "points:${tx}"`, '"kind": "POINTS_ADJUSTED"', `"points": ${points}`], 'the subscription\'s result panel');
  step(`the event points:${tx} appeared in the result panel ${Date.now() - started} ms after the mutation's answer`);
  await page.screenshot({ path: subscriptionScreenshot });
  step(`saved ${subscriptionScreenshot}`);
  if (problems.length > 0) throw new Error(`requests that left the machine:\n  ${problems.join('\n  ')}`);
} catch (err) {
  failed = true;
  console.error(`e2e: FAILED: ${err.message}`);
  if (problems.length > 0) console.error(`e2e: requests blocked:\n  ${problems.join('\n  ')}`);
  if (pageErrors.length > 0) console.error(`e2e: page errors:\n  ${pageErrors.join('\n  ')}`);
  const failure = screenshot.replace(/\.png$/, '') + '-failure.png';
  await page.screenshot({ path: failure }).then(() => console.error(`e2e: saved ${failure}`), () => {});
} finally {
  await context.close();
}
process.exit(failed ? 1 : 0);
