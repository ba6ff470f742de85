#!/usr/bin/env bash
# N concurrent managed jobs on the local provider (each a `sleep` task on its own machine): skyd's
# memory and CPU, the time until every job is RUNNING, and `sky jobs queue` latency. Prints a table.
#   bench/jobs_bench.sh [N] [BUILD_DIR]
set -euo pipefail
jobs=${1:-200}
build=${2:-build}
state_dir=$(mktemp -d /tmp/skyd-bench.XXXXXX)
chmod 755 "$state_dir"
export SKYD_SOCKET="$state_dir/skyd.sock"
sky() { "$build/cli/sky" "$@"; }
now() { date +%s.%N; }

cat >"$state_dir/config.yaml" <<CONFIG
log_level: warn
db_pool_size: 8
CONFIG
"$build/daemon/skyd" --state-dir "$state_dir" --config "$state_dir/config.yaml" 2>"$state_dir/skyd.stderr" &
skyd_pid=$!
cleanup() {
  sky jobs cancel -a -y >/dev/null 2>&1 || true
  # skyd leaves machines running when it stops (a restart re-attaches): let the cancels finish.
  for _ in $(seq 1 600); do [ "$(sky jobs queue -s -o json 2>/dev/null)" = "[]" ] && break; sleep 0.1; done
  kill -TERM $skyd_pid 2>/dev/null || true
  wait $skyd_pid 2>/dev/null || true
  rm -rf "$state_dir"
}
trap cleanup EXIT
until sky daemon status >/dev/null 2>&1; do sleep 0.1; done

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$skyd_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$skyd_pid/stat"; }
idle_rss=$(rss_kb)
cat >"$state_dir/sleep.yaml" <<YAML
name: sleeper
resources:
  infra: local
run: sleep 100000
YAML

start=$(now)
ticks_before=$(cpu_ticks)
for _ in $(seq 1 "$jobs"); do sky jobs launch -y -d "$state_dir/sleep.yaml" >/dev/null; done
submitted=$(now)
while :; do
  running=$(sky jobs queue -a -o json | grep -o '"status":"RUNNING"' | wc -l)
  [ "$running" -ge $((jobs * 2)) ] && break  # a job row and its task row each say RUNNING
  sleep 0.2
done
all_running=$(now)
ticks_after=$(cpu_ticks)
loaded_rss=$(rss_kb)

queue_ms=()
for _ in 1 2 3 4 5; do
  t0=$(now); sky jobs queue -a >/dev/null; t1=$(now)
  queue_ms+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
done
sorted=$(printf '%s\n' "${queue_ms[@]}" | sort -n)
hz=$(getconf CLK_TCK)

printf '%-34s %s\n' "METRIC" "VALUE"
printf '%-34s %d\n' "jobs" "$jobs"
printf '%-34s %.1f\n' "submit all (s)" "$(echo "$submitted - $start" | bc -l)"
printf '%-34s %.1f\n' "submit -> all RUNNING (s)" "$(echo "$all_running - $start" | bc -l)"
printf '%-34s %.1f\n' "skyd RSS idle (MiB)" "$(echo "$idle_rss / 1024" | bc -l)"
printf '%-34s %.1f\n' "skyd RSS with all running (MiB)" "$(echo "$loaded_rss / 1024" | bc -l)"
printf '%-34s %.1f\n' "skyd RSS per job (KiB)" "$(echo "($loaded_rss - $idle_rss) / $jobs" | bc -l)"
printf '%-34s %.1f\n' "skyd CPU until all RUNNING (s)" "$(echo "($ticks_after - $ticks_before) / $hz" | bc -l)"
printf '%-34s %.0f\n' "sky jobs queue -a p50 (ms)" "$(echo "$sorted" | sed -n 3p)"
printf '%-34s %.0f\n' "sky jobs queue -a max (ms)" "$(echo "$sorted" | sed -n 5p)"
