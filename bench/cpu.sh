# bench/cpu.sh — sourced by run.sh and writes.sh: CPU time in clock ticks (utime + stime, from
# /proc), so that a cell's difference divided by its requests says where each request's CPU
# went. On a machine whose cores wrk, the servers and PostgreSQL share, that CPU is what bounds
# the rates. Needs PSQL (psql of the harness's cluster) and DB set.
hz=$(getconf CLK_TCK)
# proc_ticks PID: the process's own CPU (0 once it is gone).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# pg_ticks: the whole PostgreSQL cluster's CPU: the postmaster with its exited children
# (cutime + cstime) and every live backend.
postmaster=$(head -1 "$("${PSQL[@]}" -d "$DB" -tAc 'show data_directory')/postmaster.pid")
pg_ticks() {
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat"
    for c in $(ps -o pid= --ppid "$postmaster"); do proc_ticks "$c"; done
  } | awk '{ s += $1 } END { print s }'
}
# per_request TICKS N: milliseconds of CPU per request.
per_request() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.2f", (n > 0 ? 1000 * t / hz / n : 0)}'; }
