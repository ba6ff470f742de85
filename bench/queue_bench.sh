#!/usr/bin/env bash
# `sky jobs queue` with N jobs in the queue: for each N, a fresh skyd on the local provider gets N
# `sleep` jobs through `sky jobs launch --num-jobs` (MAX_RUNNING of them run, the rest stay
# PENDING), then each form of the command runs RUNS times; the table shows its p50 and max, and
# the API's own time for the same answer (curl on the socket). Ends with a check: the totals line
# counts every job, `-a` lists every job, and after a cancel of all nothing is left open or running;
# while that cancel runs (thousands of transitions) the queue is timed again, and the notes say how
# long the submit and the cancel took.
#   bench/queue_bench.sh [BUILD_DIR] [N ...]      (default: build 1000 10000)
set -euo pipefail
build=${1:-build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
runs=${RUNS:-10}
max_running=${MAX_RUNNING:-2}
sky_bin=$build/cli/sky

now_ns() { date +%s%N; }
# p50 and max in ms of RUNS timings of a command (its output discarded).
time_runs() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null
    t1=$(now_ns)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk '{v[NR] = $1} END {printf "%.1f | %.1f", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000}'
}

run_size() {
  local n=$1
  local state_dir
  state_dir=$(mktemp -d /tmp/skyd-queue-bench.XXXXXX)
  chmod 755 "$state_dir"
  export SKYD_SOCKET="$state_dir/skyd.sock"
  printf 'log_level: warn\nmax_running_jobs: %d\n' "$max_running" >"$state_dir/config.yaml"
  printf 'name: sweep\nresources:\n  infra: local\nrun: sleep 100000\n' >"$state_dir/sweep.yaml"
  "$build/daemon/skyd" --state-dir "$state_dir" --config "$state_dir/config.yaml" \
    2>"$state_dir/skyd.stderr" &
  local skyd_pid=$!
  # On a failure: skyd, then the machines it leaves running (their processes name the state dir).
  # shellcheck disable=SC2064
  trap "kill -TERM $skyd_pid 2>/dev/null; wait $skyd_pid 2>/dev/null;
        kill \$(pgrep -f '$state_dir/local/') 2>/dev/null; rm -rf '$state_dir'" EXIT
  until "$sky_bin" daemon status >/dev/null 2>&1; do sleep 0.1; done
  api() { curl -sS --fail-with-body --unix-socket "$SKYD_SOCKET" "http://skyd$1"; }

  local left=$n submit_t0
  submit_t0=$(now_ns)
  while [ "$left" -gt 0 ]; do
    local batch=$((left > 10000 ? 10000 : left))
    "$sky_bin" jobs launch -y -d --num-jobs "$batch" "$state_dir/sweep.yaml" >/dev/null
    left=$((left - batch))
  done
  # Until every job's coroutine has loaded and settled (skyd idle for a second).
  local ticks=0
  while :; do
    ticks=$(awk '{print $14 + $15}' "/proc/$skyd_pid/stat")
    sleep 1
    [ $(($(awk '{print $14 + $15}' "/proc/$skyd_pid/stat") - ticks)) -lt 5 ] && break
  done
  busy_notes+="$n jobs: submitted and settled in $((($(now_ns) - submit_t0) / 1000000)) ms. "

  printf '| %d | `sky jobs queue` | %s |\n' "$n" "$(time_runs "$sky_bin" jobs queue)"
  printf '| %d | `sky jobs queue -s` | %s |\n' "$n" "$(time_runs "$sky_bin" jobs queue -s)"
  printf '| %d | `sky jobs queue -o json` | %s |\n' "$n" "$(time_runs "$sky_bin" jobs queue -o json)"
  printf '| %d | `GET /v1/jobs?limit=51&summary=1` | %s |\n' "$n" \
    "$(time_runs api '/v1/jobs?limit=51&summary=1')"
  printf '| %d | `sky jobs queue -a` | %s |\n' "$n" "$(time_runs "$sky_bin" jobs queue -a)"
  printf '| %d | `GET /v1/jobs?limit=1000000` | %s |\n' "$n" "$(time_runs api '/v1/jobs?limit=1000000')"

  # The check.
  local pending=$((n - max_running))
  local table
  table=$("$sky_bin" jobs queue)
  grep -q "In progress tasks: $pending PENDING, $max_running RUNNING" <<<"$table" ||
    { echo "FAIL: the totals line does not count all $n jobs" >&2; head -4 <<<"$table" >&2; exit 1; }
  table=$("$sky_bin" jobs queue -a)
  [ "$(grep -c ' sweep ' <<<"$table")" = "$n" ] ||
    { echo "FAIL: sky jobs queue -a does not list $n jobs" >&2; exit 1; }
  # Through the API: at 10,000 jobs the cancel takes longer than `sky`'s request timeout. While
  # it runs (every job's runner makes its own transitions), the queue is timed again: skyd busy.
  curl -sS --fail-with-body --unix-socket "$SKYD_SOCKET" -X POST -H 'Content-Type: application/json' \
    --data-binary '{"all":true}' http://skyd/v1/jobs/cancel >/dev/null &
  local cancel_t0
  cancel_t0=$(now_ns)
  local cancel_pid=$!
  until [ "$(api '/v1/jobs?limit=1' | jq -r '.jobs[0].status')" != PENDING ]; do sleep 0.05; done
  printf '| %d | `sky jobs queue` while cancelling every job | %s |\n' "$n" \
    "$(time_runs "$sky_bin" jobs queue)"
  printf '| %d | `sky jobs queue -s` while cancelling every job | %s |\n' "$n" \
    "$(time_runs "$sky_bin" jobs queue -s)"
  local open_after
  open_after=$(api '/v1/jobs?limit=1&summary=1&skip_finished=1' | jq '.total')
  wait "$cancel_pid"
  for _ in $(seq 1 6000); do
    [ "$(api '/v1/jobs?skip_finished=1&limit=1' | jq '.jobs | length')" = 0 ] && break
    sleep 0.1
  done
  busy_notes+="$n jobs: $open_after still open after the runs while cancelling; all cancelled $(((
    $(now_ns) - cancel_t0) / 1000000)) ms after the request. "
  for _ in $(seq 1 300); do
    [ "$(pgrep -fc "skylet.*$state_dir/local/" || true)" = 0 ] && break
    sleep 0.1
  done
  [ "$(api '/v1/jobs?skip_finished=1&limit=1' | jq '.jobs | length')" = 0 ] ||
    { echo "FAIL: jobs still open after cancelling all" >&2; exit 1; }
  [ "$(pgrep -fc "skylet.*$state_dir/local/" || true)" = 0 ] ||
    { echo "FAIL: machines left running" >&2; exit 1; }
  kill -TERM "$skyd_pid"
  wait "$skyd_pid" 2>/dev/null || true
  rm -rf "$state_dir"
  trap - EXIT
}

busy_notes=""
printf '| jobs | command | p50 (ms) | max (ms) |\n|---:|---|---:|---:|\n'
for n in "${sizes[@]}"; do run_size "$n"; done
printf '\ncheck: every size counted and listed in full; all cancelled; no job open, no machine left\n'
printf '%s\n' "$busy_notes"
