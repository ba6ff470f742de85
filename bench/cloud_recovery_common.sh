# shellcheck shell=bash disable=SC2154  # dir and build are the sourcing script's
# The parts aws_recovery_bench.sh and gcp_recovery_bench.sh share (sourced, not run): one skyd
# against one fakecloud in a throwaway directory $dir, N spot jobs, the job_events times read from
# skyd's embedded PostgreSQL, the table's rows, and the cancel that must leave nothing behind.

# Sets build (BUILD_DIR, default build) and counts (N..., default 1 500) from the arguments.
read_bench_args() {
  build=${1:-build}
  shift || true
  counts=("${@:-1 500}")
  [ ${#counts[@]} -eq 1 ] && read -r -a counts <<<"${counts[0]}"
  return 0
}

percentile() {  # percentile P of the numbers on stdin
  sort -n | awk -v p="$1" '{v[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.0f", v[i]}'
}

fail() {
  echo "check failed: $* (state in $dir)" >&2
  SKYD_BENCH_KEEP=1
  exit 1
}

# Sets api_port and virtual_port once fakecloud has written both to $dir/ports.
# shellcheck disable=SC2034  # the caller's locals
await_fakecloud_ports() {
  until [ -s "$dir/ports" ] && [ "$(wc -l <"$dir/ports")" -ge 2 ]; do sleep 0.05; done
  api_port=$(sed -n 1p "$dir/ports")
  virtual_port=$(sed -n 2p "$dir/ports")
}

# Submits N copies of the task file and waits until all N jobs are RUNNING.
launch_running_jobs() {
  local jobs=$1 yaml=$2
  until "$build/cli/sky" daemon status >/dev/null 2>&1; do sleep 0.1; done
  for _ in $(seq 1 "$jobs"); do "$build/cli/sky" jobs launch -y -d "$yaml" >/dev/null; done
  until [ "$("$build/cli/sky" jobs queue -a -o json | grep -o '"status":"RUNNING"' | wc -l)" -ge "$jobs" ]; do
    sleep 0.2
  done
}

# Waits until all N jobs are RUNNING again after exactly one recovery.
await_recovered_jobs() {
  until [ "$("$build/cli/sky" jobs queue -a -o json | jq '[.[] | select(.recovery_count == 1 and .status == "RUNNING")] | length')" -ge "$1" ]; do
    sleep 0.2
  done
}

# "JOB MILLISECONDS" for every FROM -> TO transition in job_events.
transition_times() {
  psql -h "$dir/postgres" -U postgres -d skyd -At -F ' ' -c \
    "SELECT job_id, (extract(epoch FROM at) * 1000)::bigint FROM job_events
     WHERE from_status = '$1' AND to_status = '$2'"
}

# The table's header: the replacement's launch call and the cloud's listing calls name columns.
print_header() {
  printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "JOBS" "TASK" "->RECOVERING" \
    "->RECOVERING" "->$1" "->$1" "->RUNNING" "->RUNNING" "$2"
  printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "" "" "p50 (ms)" "p99 (ms)" "p50 (ms)" \
    "p99 (ms)" "p50 (ms)" "p99 (ms)" "calls"
}

# One row from $dir/to_recovering, to_request and to_running (milliseconds after each notice).
print_row() {
  local jobs=$1 task=$2 calls=$3
  printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "$jobs" "$task" \
    "$(percentile 50 <"$dir/to_recovering")" "$(percentile 99 <"$dir/to_recovering")" \
    "$(percentile 50 <"$dir/to_request")" "$(percentile 99 <"$dir/to_request")" \
    "$(percentile 50 <"$dir/to_running")" "$(percentile 99 <"$dir/to_running")" "$calls"
}

# Cancels every job, stops skyd, checks fakecloud's `live` count at STATS_URL is 0, then stops
# fakecloud and removes $dir (unless SKYD_BENCH_KEEP is set).
cancel_and_check_nothing_left() {
  local skyd_pid=$1 cloud_pid=$2 stats_url=$3 live
  "$build/cli/sky" jobs cancel -a -y >/dev/null 2>&1 || true
  for _ in $(seq 1 1200); do [ "$("$build/cli/sky" jobs queue -s -o json 2>/dev/null)" = "[]" ] && break; sleep 0.1; done
  kill -TERM "$skyd_pid"
  wait "$skyd_pid" 2>/dev/null || true
  live=$(curl -s "$stats_url" | jq '.live')
  [ "$live" = "0" ] || fail "$live instances left running"
  kill -TERM "$cloud_pid"
  wait "$cloud_pid" 2>/dev/null || true
  [ -n "${SKYD_BENCH_KEEP:-}" ] || rm -rf "$dir"
}

# Checks that FILE ("JOB ..." lines) names each of the N jobs exactly once.
check_once_per_job() {
  local jobs=$1 file=$2 what=$3
  if [ "$(wc -l <"$file")" != "$jobs" ] || [ "$(cut -d' ' -f1 "$file" | sort -u | wc -l)" != "$jobs" ]; then
    fail "$what: $(wc -l <"$file") for $(cut -d' ' -f1 "$file" | sort -u | wc -l) distinct jobs, not one for each of $jobs"
  fi
}
