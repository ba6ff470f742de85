#!/usr/bin/env bash
# Spot recovery on the local provider: N spot jobs run, then all are preempted at once (2 s of
# grace). For each, the time from its preemption request (the notice) to the start of its recovery
# (RUNNING -> RECOVERING) and to its replacement RUNNING, read from job_events in skyd's embedded
# PostgreSQL (as an ops dashboard would). A replacement runs only once its predecessor has stopped,
# so two kinds of task are measured: one that hears the notice (SIGTERM) and exits at once, and one
# that ignores it and runs until the machine goes at the window's end. Prints p50/p99 for each N,
# then checks that every job recovered exactly once and that no machine is left after the cancel.
#   bench/recovery_bench.sh [BUILD_DIR] [N...]
set -euo pipefail
build=${1:-build}
shift || true
counts=("${@:-1 100}")
[ ${#counts[@]} -eq 1 ] && read -r -a counts <<<"${counts[0]}"

percentile() {  # percentile P of the numbers on stdin
  sort -n | awk -v p="$1" '{v[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.0f", v[i]}'
}

run_one() {
  local jobs=$1 task=$2
  local state_dir
  state_dir=$(mktemp -d /tmp/skyd-rbench.XXXXXX)
  chmod 755 "$state_dir"
  export SKYD_SOCKET="$state_dir/skyd.sock"
  printf 'log_level: warn\ndb_pool_size: 8\nlocal_preemption_grace: "2s"\nspot_notice_signal: TERM\n' \
    >"$state_dir/config.yaml"
  "$build/daemon/skyd" --state-dir "$state_dir" --config "$state_dir/config.yaml" 2>"$state_dir/skyd.stderr" &
  local skyd_pid=$!
  until "$build/cli/sky" daemon status >/dev/null 2>&1; do sleep 0.1; done
  local run="trap 'exit 143' TERM; sleep 100000 & wait"  # hears the notice
  [ "$task" = ignores ] && run="trap '' TERM; sleep 100000"
  printf 'name: spot\nresources:\n  infra: local\n  use_spot: true\nrun: %s\n' "$run" >"$state_dir/spot.yaml"
  for _ in $(seq 1 "$jobs"); do "$build/cli/sky" jobs launch -y -d "$state_dir/spot.yaml" >/dev/null; done
  until [ "$("$build/cli/sky" jobs queue -a -o json | grep -o '"status":"RUNNING"' | wc -l)" -ge "$jobs" ]; do
    sleep 0.2
  done
  : >"$state_dir/notices"
  for id in $(seq 1 "$jobs"); do
    echo "$id $(date +%s.%N)" >>"$state_dir/notices"
    "$build/cli/sky" jobs preempt "$id" >/dev/null
  done
  until [ "$("$build/cli/sky" jobs queue -a -o json | grep -o '"recovery_count":1' | wc -l)" -ge "$jobs" ]; do
    sleep 0.2
  done
  psql -h "$state_dir/postgres" -U postgres -d skyd -At -F ' ' -c \
    "SELECT job_id, to_status, extract(epoch FROM at) FROM job_events
     WHERE (from_status = 'RUNNING' AND to_status = 'RECOVERING') OR (from_status = 'RECOVERING' AND to_status = 'RUNNING')" \
    >"$state_dir/events"
  awk 'NR==FNR {notice[$1]=$2; next}
       $2=="RECOVERING" {print ($3 - notice[$1]) * 1000 > "'"$state_dir"'/to_recovering"}
       $2=="RUNNING"    {print ($3 - notice[$1]) * 1000 > "'"$state_dir"'/to_running"}' \
    "$state_dir/notices" "$state_dir/events"
  local recovered
  recovered=$("$build/cli/sky" jobs queue -a -o json | jq '[.[] | select(.recovery_count == 1)] | length')
  [ "$recovered" = "$jobs" ] || fail "$recovered of $jobs jobs recovered exactly once"
  printf '%-6s %-8s %22s %22s %22s %22s\n' "$jobs" "$task" \
    "$(percentile 50 <"$state_dir/to_recovering")" "$(percentile 99 <"$state_dir/to_recovering")" \
    "$(percentile 50 <"$state_dir/to_running")" "$(percentile 99 <"$state_dir/to_running")"
  "$build/cli/sky" jobs cancel -a -y >/dev/null 2>&1 || true
  for _ in $(seq 1 600); do [ "$("$build/cli/sky" jobs queue -s -o json 2>/dev/null)" = "[]" ] && break; sleep 0.1; done
  kill -TERM $skyd_pid
  wait $skyd_pid 2>/dev/null || true
  local left
  left=$(pgrep -f "$state_dir/local" | wc -l || true)
  [ "$left" = 0 ] || fail "$left machine processes left after the jobs ended"
  rm -rf "$state_dir"
}

fail() {
  echo "check failed: $*" >&2
  exit 1
}

printf '%-6s %-8s %22s %22s %22s %22s\n' "JOBS" "TASK" "NOTICE->RECOVERING p50" \
  "NOTICE->RECOVERING p99" "NOTICE->RUNNING p50" "NOTICE->RUNNING p99"
printf '%-6s %-8s %22s %22s %22s %22s\n' "" "" "(ms)" "(ms)" "(ms)" "(ms)"
for n in "${counts[@]}"; do
  for task in hears ignores; do run_one "$n" "$task"; done
done
echo "check: every job recovered exactly once; no machine left"
