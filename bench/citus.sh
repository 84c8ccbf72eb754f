#!/usr/bin/env bash
# bench/citus.sh [N] [ROUNDS]: the coordinator hop's cost, measured in one run on this machine — Q1–Q3
# (bench/queries, one client) and the write benchmarks (32 clients) through the HTTP
# handler, first on the test PostgreSQL, then on the one-machine Citus cluster (coordinator
# + 2 workers, the schema distributed: CITUS_TEST=1), N requests each (default 500), the
# pair ROUNDS times (default 2) alternating. Prints the load average before each half: the
# machine is shared, compare the halves of one run only. Needs Citus installed (scripts/citus).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
rounds=${2:-2}
bin=$(mktemp -d)/graph.test
go test -c -o "$bin" ./graph/
cd graph
for mode in $(for _ in $(seq "$rounds"); do echo postgresql citus; done); do
  echo "== $mode  $(date -u +%FT%TZ)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  env $([ "$mode" = citus ] && echo CITUS_TEST=1) "$bin" -test.run '^$' -test.count 1 \
    -test.bench 'BenchQueries|RecordPurchase|RedeemPoints|ChargeCredit' -test.benchtime "${n}x" |
    grep -E '^Benchmark'
done
echo "== done  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$(dirname "$bin")"
