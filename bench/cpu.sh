# bench/cpu.sh — sourced by run.sh and writes.sh: cumulative CPU time in milliseconds, so that a
# cell's difference divided by its requests says where each request's CPU went. On a machine
# whose cores wrk, the servers and PostgreSQL share, that CPU is what bounds the rates. Needs
# PSQL (psql of the harness's cluster) and DB set.
#
# A server is one long-lived process: utime + stime from /proc. PostgreSQL is a postmaster
# forking a backend per connection, and a backend that exits between two readings of /proc
# (pgbench's, at the end of each cell) is briefly in neither the postmaster's children nor its
# reaped children's time: the cluster's processes are put in a cgroup of their own instead
# (cpuacct in cgroup v1, cpu.stat in v2; new backends are forked into it), whose counter
# misses nothing. That takes root: without it the PostgreSQL figures are left out ("–").
hz=$(getconf CLK_TCK)
# proc_ms PID: the process's own CPU time (0 once it is gone).
proc_ms() { awk -v hz="$hz" '{printf "%.1f", 1000 * ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postmaster=$(head -1 "$("${PSQL[@]}" -d "$DB" -tAc 'show data_directory')/postmaster.pid" 2>/dev/null || true)
pg_cgroup=
pg_join_cgroup() {
  local root name=bench-pg-$postmaster p
  if [ -d /sys/fs/cgroup/cpuacct ] && [ -w /sys/fs/cgroup/cpuacct ]; then root=/sys/fs/cgroup/cpuacct
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then root=/sys/fs/cgroup
  else return 0; fi
  for p in "$root"/bench-pg-*; do rmdir "$p" 2>/dev/null || true; done # earlier runs' clusters, gone
  mkdir -p "$root/$name" 2>/dev/null || return 0
  for p in "$postmaster" $(ps -o pid= --ppid "$postmaster"); do echo "$p" >"$root/$name/cgroup.procs" 2>/dev/null || true; done
  grep -qx "$postmaster" "$root/$name/cgroup.procs" 2>/dev/null && pg_cgroup=$root/$name
}
[ -n "$postmaster" ] && pg_join_cgroup
# pg_ms: the whole cluster's CPU time since it joined its cgroup; empty without one.
pg_ms() {
  if [ -f "$pg_cgroup/cpuacct.usage" ]; then awk '{printf "%.1f", $1 / 1e6}' "$pg_cgroup/cpuacct.usage"
  elif [ -f "$pg_cgroup/cpu.stat" ]; then awk '$1 == "usage_usec" {printf "%.1f", $2 / 1e3}' "$pg_cgroup/cpu.stat"; fi
}
# per_request MS0 MS1 N: milliseconds of CPU per request between two readings ("" when either
# reading is missing).
per_request() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{printf "%.2f", (n > 0 ? (b - a) / n : 0)}' || true; }
