#!/usr/bin/env bash
# bench/scale.sh [SECONDS] — issue 17's scale check: each query at 100k and at 1M customers in
# ONE sitting, cell by cell alternating the two sizes, so that the machine's load is shared by
# both: our server (one per database, side by side) at 1 and 16 clients, and our statement
# through pgbench at one client. Needs the two databases and the statement scripts that
# `bench/run.sh --size 100k` and `--size 1m` left in bench/.work (the cluster up). Prints a
# table of both figures and the ratio 1m/100k.
set -euo pipefail
cd "$(dirname "$0")/.."
b=$PWD/bench; w=$b/.work
T=${1:-5}
ORG=aaaaaaaa-0000-0000-0000-000000000001
PGPORT=${BENCH_PG_PORT:-55433}; PORT_100K=${BENCH_OURS_PORT:-8089}; PORT_1M=$((PORT_100K + 1))
SECRET=bench-jwt-secret-0123456789abcdef0123456789abcdef
POOL=${BENCH_POOL:-20}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
pids=(); trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

for db in bench bench_1m; do
  "${PSQL[@]}" -d "$db" -tAc 'select id from bench_ids order by n' >"$w/scale-ids-$db.txt"
  "${PSQL[@]}" -d "$db" -tAc 'select term from bench_terms order by n' >"$w/scale-terms-$db.txt"
done
for db in bench bench_1m; do
  port=$PORT_100K; [ "$db" = bench_1m ] && port=$PORT_1M
  DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/$db?sslmode=disable" JWT_SECRET=$SECRET PORT=$port \
    DB_MAX_CONNS=$POOL LOG_LEVEL=warn LOG_FORMAT=json RATE_LIMIT_ORG_RPS=0 RATE_LIMIT_SUBJECT_RPS=0 JOBS_ENABLED=false \
    "$w/customer-service" serve >"$w/scale-$db.log" 2>&1 &
  pids+=($!)
done
TOKEN=$(JWT_SECRET=$SECRET DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/bench" "$w/customer-service" token --org "$ORG" --roles viewer --ttl 24h)
for port in $PORT_100K $PORT_1M; do
  for i in $(seq 1 60); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    [ "$i" = 60 ] && { echo "the server on $port did not start" >&2; exit 1; }
    sleep 0.5
  done
done
run_wrk() { # PORT QUERY C VALUES -> "rps mean_ms errors"
  IDS_FILE=$4 QUERY_FILE=$w/queries/ours-$2.graphql HDR="Authorization: Bearer $TOKEN" \
    wrk -t"$([ "$3" = 1 ] && echo 1 || echo 2)" -c"$3" -d"$T"s --latency -s "$b/gql.lua" "http://127.0.0.1:$1/graphql" 2>&1 |
    sed -n 's/^RESULT rps=\([0-9.]*\) .*mean_ms=\([0-9.]*\) requests=[0-9]* errors=\([0-9]*\).*/\1 \2 \3/p'
}
run_pgbench() { # DB SCRIPT -> "tps mean_ms"
  local out; out=$(PGPASSWORD=cs_bench pgbench -n -h 127.0.0.1 -p "$PGPORT" -U cs_bench -c 1 -j 1 -T "$T" -M prepared -f "$2" "$1" 2>/dev/null)
  echo "$(awk '/^tps/{print $3}' <<<"$out") $(awk '/latency average/{print $4}' <<<"$out")"
}
res=$w/scale.tsv; printf 'query\tcell\tsize\trate\tmean_ms\terrors\tload1\n' >"$res"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for q in q1 q2 q3 q4 q5 q6; do
  kind=ids; case $q in q4|q5) kind=terms ;; esac
  cells="server-c1 server-c16 sql-c1"; [ "$q" = q6 ] && cells=sql-c1 # the whole organization's count: its statement only
  [ -f "$w/ours-stmt-$q.sql" ] || { log "$q: no statement script (its request did not finish in run.sh)"; cells=${cells/sql-c1/}; }
  for cell in $cells; do
    for round in 1 2; do
      order="bench bench_1m"; [ "$round" = 2 ] && order="bench_1m bench"
      for db in $order; do
        l=$(cut -d' ' -f1 /proc/loadavg)
        case $cell in
          server-c*) port=$PORT_100K; [ "$db" = bench_1m ] && port=$PORT_1M
            read -r rate mean errs <<<"$(run_wrk "$port" "$q" "${cell#server-c}" "$w/scale-$kind-$db.txt")" ;;
          sql-c1) read -r rate mean <<<"$(run_pgbench "$db" "$w/ours-stmt-$q.sql")"; errs=0 ;;
        esac
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$cell" "$db" "$rate" "$mean" "$errs" "$l" >>"$res"
        log "$q $cell $db: $rate/s mean $mean ms, $errs errors, load $l"
      done
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "$(date -u +%F) · $(nproc) cores, shared · load average before $load_before, after $load_after · $T s per cell, two rounds alternating the sizes"
echo
echo "| query | measured | 100k: per second · mean ms | 1M: per second · mean ms | 1M/100k mean latency | errors 100k · 1M |"
echo "|---|---|---|---|---|---|"
awk -F'\t' 'NR > 1 { k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; keys[++n] = k }
    r[k, $3] += $4; m[k, $3] += $5; e[k, $3] += $6; c[k, $3]++ }
  END {
    name["q1"] = "Q1 360 by id"; name["q2"] = "Q2 page of 50"; name["q3"] = "Q3 mobile"; name["q4"] = "Q4 search"
    name["q5"] = "Q5 customerStats of a search"; name["q6"] = "Q6 customerStats, whole organization"
    what["server-c1"] = "our server, 1 client"; what["server-c16"] = "our server, 16 clients"; what["sql-c1"] = "our statement (pgbench), 1 client"
    for (i = 1; i <= n; i++) { split(keys[i], a, SUBSEP); k = keys[i]
      a1 = m[k, "bench"] / c[k, "bench"]; b1 = m[k, "bench_1m"] / c[k, "bench_1m"]
      printf "| %s | %s | %.0f · %.2f | %.0f · %.2f | **%+.0f %%** | %d · %d |\n", name[a[1]], what[a[2]],
        r[k, "bench"] / c[k, "bench"], a1, r[k, "bench_1m"] / c[k, "bench_1m"], b1, 100 * (b1 / a1 - 1), e[k, "bench"], e[k, "bench_1m"] }
  }' "$res"
