// PostGraphile v5 (amber preset, production mode) over this project's schema, the anchor of
// the Customer 360 benchmark (bench/run.sh). Adapted from shared/bench/postgraphile-server.mjs:
// like our server it verifies an HS256 JWT (same secret, expiry checked) and applies the
// tenant from its org_id claim as a non-owner role (customer_service_app, RLS forced) with
// app.current_organization_id set for the request's transaction (pgSettings).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const secret = process.env.JWT_SECRET;
if (!secret) throw new Error("JWT_SECRET is required");

// verify returns the claims of a valid HS256 token, else throws.
function verify(header) {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? "");
  if (!m) throw new Error("no bearer token");
  const [, h, p, s] = m;
  const head = JSON.parse(Buffer.from(h, "base64url"));
  if (head.alg !== "HS256") throw new Error("unexpected alg");
  const want = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const got = Buffer.from(s, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error("bad signature");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) throw new Error("token expired");
  if (!/^[0-9a-f-]{36}$/.test(claims.org_id ?? "")) throw new Error("no org_id claim");
  return claims;
}

const preset = {
  extends: [PostGraphileAmberPreset],
  // Expose the relations whose foreign keys (organization_id, id) have no index of exactly
  // those leading columns (addresses and transactions are indexed by customer and account,
  // which PostgreSQL uses with the organization filter): PostGraphile hides them otherwise.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"], poolConfig: { max: Number(process.env.POOL_MAX || 20) } })],
  grafast: {
    explain: false,
    context(requestContext) {
      const claims = verify(requestContext.node?.req?.headers["authorization"]);
      return { pgSettings: { role: "customer_service_app", "app.current_organization_id": claims.org_id } };
    },
  },
  grafserv: { graphiql: false, watch: false, maxRequestLength: 100000 },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => { console.error(e); process.exit(1); });
serv.addTo(server).catch((e) => { console.error(e); process.exit(1); });
server.listen(Number(process.env.PORT || 5679), "127.0.0.1", () => console.log("postgraphile ready"));
