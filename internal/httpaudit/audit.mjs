// Runs graphql-http's GraphQL-over-HTTP server audits against URL with a bearer TOKEN and
// prints the results as JSON: [{id, name, status, reason}], status ok | error (a MUST not
// met) | warn (a SHOULD) | notice (a MAY). Usage: node audit.mjs URL TOKEN
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs URL TOKEN');
  process.exit(2);
}

// Every audit request carries the token: without it the server answers 401 to all of them.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const out = [];
for (const r of results) {
  const entry = { id: r.id, name: r.name, status: r.status };
  if (r.status !== 'ok') {
    entry.reason = r.reason;
    entry.httpStatus = r.response.status;
    entry.body = (await r.response.text()).slice(0, 300);
  }
  out.push(entry);
}
console.log(JSON.stringify(out, null, 1));
