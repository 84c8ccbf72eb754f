#!/usr/bin/env bash
# bench/writes.sh [--sync-off] [--seconds N] [MUTATION…] — the write benchmark (issue 17, goal 1;
# see bench/README.md "Writes against their ceiling").
#
# Starts a PostgreSQL cluster of its own (bench/.work/writes/, port $BENCH_WRITES_PG_PORT, default
# 55441), creates a fresh database from our migrations with one organization of 64 enrolled
# customers, builds and starts our server as a non-owner role under RLS, and for each mutation:
#   - bench/writes/MUTATION.setup.sql (optional, psql as the owner, -v org=…): the rows it needs;
#   - wrk at 32 clients over HTTP with bench/writes/MUTATION.lua (unique order ids and keys);
#   - pgbench at 32 clients with bench/writes/MUTATION.sql: the same rows written by one
#     hand-written statement in one pipeline, as the same role under the same RLS — the ceiling.
# With --sync-off the cluster runs with synchronous_commit = off (both sides alike).
# Prints per mutation: load average, ours req/s, ceiling tps, ours/ceiling, statements per
# request of each (pg_stat_statements, BEGIN/COMMIT included) and round trips per request (ours:
# the server's customer_service_sql_round_trips_total over the requests — the payload's pipelined
# read and the writes sent together before the commit are one each; the ceiling: its one
# pipeline). Then checks the books of every account (balance = Σ open lots; credit_used = Σ unpaid charges).
# Raw results: bench/.work/writes/results.tsv. Needs PostgreSQL 15+ server binaries, pgbench,
# psql, wrk, Go.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD; b=$root/bench; w=$b/.work/writes; mkdir -p "$w"
T=10; SYNC=on; muts=()
while [ $# -gt 0 ]; do
  case $1 in
    --sync-off) SYNC=off; shift ;;
    --seconds) T=${2:?--seconds takes a number}; shift 2 ;;
    -h|--help) sed -n 2,19p "$0"; exit 0 ;;
    -*) echo "unknown flag $1" >&2; exit 2 ;;
    *) muts+=("$1"); shift ;;
  esac
done
if [ ${#muts[@]} = 0 ]; then for f in "$b"/writes/*.sql; do case $f in *.setup.sql) ;; *) muts+=("$(basename "$f" .sql)") ;; esac; done; fi
for m in "${muts[@]}"; do
  [ -f "$b/writes/$m.lua" ] && [ -f "$b/writes/$m.sql" ] || { echo "no bench/writes/$m.lua and .sql" >&2; exit 2; }
done
C=32                              # clients, both sides
POOL=${BENCH_POOL:-32}            # our server's pool = pgbench's connections (one per client)
ORG=aaaaaaaa-0000-0000-0000-000000000001
DB=bench_writes
PGPORT=${BENCH_WRITES_PG_PORT:-55441}; OURS_PORT=${BENCH_WRITES_PORT:-8095}
SECRET=bench-jwt-secret-0123456789abcdef0123456789abcdef
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres)
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
for t in wrk pgbench psql go; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done

# ---- the cluster: our own, with pg_stat_statements; synchronous_commit as asked ----------------
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
    -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_connections=120 \
    -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" >/dev/null
  started_pg=1
fi
"${PSQL[@]}" -d postgres -c "alter system set synchronous_commit = $SYNC" -c 'select pg_reload_conf()' >/dev/null

# ---- a fresh database: our migrations, one organization, 64 enrolled customers ---------------
log "building the server"
go build -o "$w/customer-service" .
"${PSQL[@]}" -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
OWNER_URL="postgres://postgres@127.0.0.1:$PGPORT/$DB?sslmode=disable"
MIGRATE_DATABASE_URL=$OWNER_URL DATABASE_URL=$OWNER_URL JWT_SECRET=$SECRET LOG_LEVEL=warn "$w/customer-service" migrate up >/dev/null
"${PSQL[@]}" -d "$DB" -v org="$ORG" >/dev/null <<'SQL'
create extension if not exists pg_stat_statements;
do $$ begin
  if not exists (select from pg_roles where rolname = 'cs_bench') then create role cs_bench login password 'cs_bench'; end if;
end $$;
grant customer_service_app to cs_bench;
insert into organizations (id) values (:'org') on conflict do nothing;
insert into loyalty_programs (organization_id) values (:'org');
insert into customers (customer_id, organization_id, customer_type, first_name, last_name, email, status)
select md5('w' || g)::uuid, :'org', 'b2c', 'Ana', 'Pérez', 'writer' || g || '@example.com', 'active'
from generate_series(1, 64) g;
insert into loyalty_accounts (organization_id, customer_id, tier, tier_since)
select :'org', customer_id, 'bronze', current_date from customers where organization_id = :'org';
-- The ceilings draw their customer from here (pgbench variables are parameters).
create table bench_customers (n int primary key, id uuid not null);
insert into bench_customers select row_number() over (order by customer_id), customer_id from customers where organization_id = :'org';
grant select on bench_customers to customer_service_app;
SQL
"${PSQL[@]}" -d "$DB" -tAc "select id from bench_customers order by n" >"$w/ids.txt"

# ---- our server ---------------------------------------------------------------------------------
DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/$DB?sslmode=disable" JWT_SECRET=$SECRET PORT=$OURS_PORT \
  DB_MAX_CONNS=$POOL LOG_LEVEL=warn LOG_FORMAT=json RATE_LIMIT_ORG_RPS=0 RATE_LIMIT_SUBJECT_RPS=0 JOBS_ENABLED=false \
  "$w/customer-service" serve >"$w/ours.log" 2>&1 &
ours=$!; pids+=("$ours")
TOKEN=$(JWT_SECRET=$SECRET DATABASE_URL="postgres://cs_bench:cs_bench@127.0.0.1:$PGPORT/$DB" "$w/customer-service" token --org "$ORG" --roles agent --ttl 24h)
for i in $(seq 1 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$OURS_PORT/graphql" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"query":"{__typename}"}' && break
  [ "$i" = 60 ] && { echo "our server did not start; see $w/ours.log" >&2; exit 1; }
  sleep 0.5
done

# ---- measure ------------------------------------------------------------------------------------
stmts() { "${PSQL[@]}" -d "$DB" -tAc "select coalesce(sum(calls), 0) from pg_stat_statements where userid = 'cs_bench'::regrole"; }
# Our round trips: the server's own count (customer_service_sql_round_trips_total on /metrics;
# a query of several statements, as the writes a mutation sends together before its commit, is
# one). 0 when the server has no such metric (a build from before it).
trips() { curl -sf "http://127.0.0.1:$OURS_PORT/metrics" | awk '/^customer_service_sql_round_trips_total /{print $2; f=1} END{if(!f) print 0}'; }
reset_stmts() { "${PSQL[@]}" -d "$DB" -tAc 'select pg_stat_statements_reset()' >/dev/null; }
load1() { cut -d' ' -f1 /proc/loadavg; }
. "$b/cpu.sh"
# run_wrk MUTATION SECONDS -> "rps p50 p99 mean requests errors"
run_wrk() {
  RUN_ID="$(date +%s%N)" IDS_FILE=$w/ids.txt HDR="Authorization: Bearer $TOKEN" \
    wrk -t2 -c"$C" -d"$2"s --latency -s "$b/writes/$1.lua" "http://127.0.0.1:$OURS_PORT/graphql" 2>&1 |
    tee -a "$w/wrk.log" | sed -n 's/^RESULT rps=\([0-9.]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) mean_ms=\([0-9.]*\) requests=\([0-9]*\) errors=\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p'
}
# run_pgbench MUTATION SECONDS -> "tps mean_ms transactions failed"
run_pgbench() {
  local out
  out=$(PGPASSWORD=cs_bench pgbench -n -h 127.0.0.1 -p "$PGPORT" -U cs_bench -c "$C" -j 2 -T "$2" -M extended \
    -D org="$ORG" -f "$b/writes/$1.sql" "$DB" 2>&1) || { echo "$out" >&2; return 1; }
  echo "$(awk '/^tps/{print $3}' <<<"$out") $(awk '/latency average/{print $4}' <<<"$out") $(awk '/transactions actually processed/{print $NF}' <<<"$out" | cut -d/ -f1) $(awk '/failed transactions/{print $5}' <<<"$out")"
}
res=$w/results.tsv
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'mutation\tsync_commit\tload1\tours_rps\tours_p50_ms\tours_errors\tours_stmts\tceiling_tps\tceiling_stmts\tours_server_cpu_ms\tours_pg_cpu_ms\tceiling_pg_cpu_ms\tours_round_trips\n' >"$res"
for m in "${muts[@]}"; do
  if [ -f "$b/writes/$m.setup.sql" ]; then
    log "$m: setup"; "${PSQL[@]}" -d "$DB" -v org="$ORG" -f "$b/writes/$m.setup.sql" >/dev/null
  fi
  log "$m: warming up both"
  run_wrk "$m" 3 >/dev/null; run_pgbench "$m" 3 >/dev/null
  "${PSQL[@]}" -d "$DB" -c 'vacuum analyze' >/dev/null
  l=$(load1)
  reset_stmts; s0=$(proc_ms "$ours"); p0=$(pg_ms); t0=$(trips)
  read -r rps p50 p99 mean reqs errs <<<"$(run_wrk "$m" "$T")"; n=$(stmts); t1=$(trips)
  ours_cpu=$(per_request "$s0" "$(proc_ms "$ours")" "$reqs"); ours_pg=$(per_request "$p0" "$(pg_ms)" "$reqs")
  ours_st=$(awk -v n="$n" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 ? n / r : 0)}')
  ours_rt=$(awk -v a="$t0" -v b="$t1" -v r="$reqs" 'BEGIN{printf "%.2f", (r > 0 && b > a ? (b - a) / r : 0)}')
  log "$m ours: $rps req/s, p50 $p50 ms, p99 $p99 ms, $errs errors of $reqs, $ours_st statements/request, $ours_rt round trips/request, CPU ms/request server $ours_cpu PostgreSQL $ours_pg, load $l"
  written() { "${PSQL[@]}" -d "$DB" -tAc "select count(*) from audit_log where actor_id = '00000000-0000-0000-0000-0000000000b1'"; }
  before=$(written)
  reset_stmts; p0=$(pg_ms); read -r tps lat txs failed <<<"$(run_pgbench "$m" "$T")"; n=$(stmts)
  ceil_pg=$(per_request "$p0" "$(pg_ms)" "$txs")
  # The ceiling must write what it claims: one audit row (its last CTE) per transaction.
  wrote=$(( $(written) - before ))
  [ "$wrote" = "$txs" ] || { echo "$m: the ceiling wrote $wrote audit rows for $txs transactions: its statement wrote nothing somewhere" >&2; exit 1; }
  ceil_st=$(awk -v n="$n" -v r="$txs" 'BEGIN{printf "%.2f", (r > 0 ? n / r : 0)}')
  log "$m ceiling: $tps tps, mean $lat ms, $ceil_st statements/transaction, ${failed:-0} failed, CPU ms/transaction PostgreSQL $ceil_pg, load $(load1)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$SYNC" "$l" "$rps" "$p50" "$errs" "$ours_st" "$tps" "$ceil_st" \
    "$ours_cpu" "$ours_pg" "$ceil_pg" "$ours_rt" >>"$res"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the books: every account's balance is what its open lots hold, and its last balance_after --
bad=$("${PSQL[@]}" -d "$DB" -tAc "select count(*) from loyalty_accounts a where a.organization_id = '$ORG' and (
  a.points_balance <> (select coalesce(sum(points_remaining), 0) from loyalty_transactions t
    where t.organization_id = a.organization_id and t.loyalty_account_id = a.loyalty_account_id and not t.pending)
  or a.points_balance <> coalesce((select balance_after from loyalty_transactions t where t.organization_id = a.organization_id
    and t.loyalty_account_id = a.loyalty_account_id order by created_at desc, transaction_id desc limit 1), 0))")

# ---- report -------------------------------------------------------------------------------------
printf '\n%s · %s cores, shared with other work · load average before %s, after %s · synchronous_commit = %s · %s clients, pool %s · PostgreSQL %s · %s s per cell\n\n' \
  "$(date -u +%F)" "$(nproc)" "$load_before" "$load_after" "$SYNC" "$C" "$POOL" \
  "$("${PSQL[@]}" -d "$DB" -tAc 'show server_version' | cut -d' ' -f1)" "$T"
echo '| mutation | synchronous_commit | load (1 min) | ours req/s | ours p50 ms | errors | hand-written ceiling tps | ours/ceiling | statements ours · ceiling | round trips ours · ceiling | CPU ms per request: our server · its PostgreSQL · the ceiling'"'"'s PostgreSQL |'
echo '|---|---|---|---|---|---|---|---|---|---|---|'
awk -F'\t' 'NR > 1 { printf "| `%s` | %s | %s | %.0f | %.2f | %s | %.0f | **%.0f %%** | %s · %s | %s · 1 | %s · %s · %s |\n", $1, $2, $3, $4, $5, $6, $8, 100 * $4 / $8, $7, $9, ($13 > 0 ? $13 : $7), $10, $11, $12 }' "$res"
echo
if [ "$bad" = 0 ]; then echo "Books checked: every account's balance = Σ its open lots = its last balance_after."
else echo "BOOKS BROKEN: $bad accounts"; exit 1; fi
# ---- the credit books (§5): credit_used = what the charges not cancelled still owe, within the
# limit; what the payments paid = Σ amount_paid = Σ their allocations ---------------------------
bad=$("${PSQL[@]}" -d "$DB" -tAc "select count(*) from credit_accounts a
  cross join lateral (select coalesce(sum(amount - amount_paid) filter (where status <> 'cancelled'), 0) as unpaid,
    coalesce(sum(amount_paid), 0) as paid from credit_usage u
    where u.organization_id = a.organization_id and u.credit_account_id = a.credit_account_id) u
  cross join lateral (select coalesce(sum(amount), 0) as paid from credit_payments p
    where p.organization_id = a.organization_id and p.credit_account_id = a.credit_account_id) p
  cross join lateral (select coalesce(sum(amount), 0) as paid from credit_allocations l
    where l.organization_id = a.organization_id and l.credit_account_id = a.credit_account_id) l
  where a.organization_id = '$ORG' and (a.credit_used <> u.unpaid or a.credit_used < 0 or a.credit_used > a.credit_limit
    or p.paid <> u.paid or l.paid <> p.paid)")
accounts=$("${PSQL[@]}" -d "$DB" -tAc "select count(*) from credit_accounts where organization_id = '$ORG'")
if [ "$bad" = 0 ]; then [ "$accounts" = 0 ] || echo "Credit books checked ($accounts accounts): credit_used = Σ unpaid charges ≤ the limit; Σ payments = Σ amount_paid = Σ allocations."
else echo "CREDIT BOOKS BROKEN: $bad accounts"; exit 1; fi
