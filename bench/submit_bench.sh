#!/usr/bin/env bash
# Batch submission: `sky jobs launch --num-jobs N` against one skyd on the local provider. Each
# row submits BATCHES batches of N copies of a `sleep` job and reports job submissions per second,
# through `sky` (a process per launch: YAML, plan, one API call) and through the API alone (one
# POST /v1/jobs per batch with curl). skyd admits only MAX_RUNNING jobs at once, so the rest stay
# PENDING: the figure is the submission path, not the machines. Ends with a check: every job is
# there with its batch's num_jobs and a distinct rank 0..N-1, then all are cancelled and nothing
# is left open or running.
#   bench/submit_bench.sh [BUILD_DIR] [N:BATCHES ...]     (default: build 100:10 1000:10 10000:1)
set -euo pipefail
build=${1:-build}
shift || true
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(100:10 1000:10 10000:1)
max_running=${MAX_RUNNING:-2}

state_dir=$(mktemp -d /tmp/skyd-submit-bench.XXXXXX)
chmod 755 "$state_dir"
export SKYD_SOCKET="$state_dir/skyd.sock"
sky() { "$build/cli/sky" "$@"; }
now() { date +%s.%N; }
api() {  # METHOD PATH [BODY]: the answer's body; fails on an HTTP error
  curl -sS --fail-with-body --unix-socket "$SKYD_SOCKET" -X "$1" -H 'Content-Type: application/json' \
    ${3:+--data-binary "$3"} "http://skyd$2"
}

cat >"$state_dir/config.yaml" <<CONFIG
log_level: warn
max_running_jobs: $max_running
CONFIG
"$build/daemon/skyd" --state-dir "$state_dir" --config "$state_dir/config.yaml" 2>"$state_dir/skyd.stderr" &
skyd_pid=$!
cleanup() {
  kill -TERM $skyd_pid 2>/dev/null || true
  wait $skyd_pid 2>/dev/null || true
  rm -rf "$state_dir"
}
trap cleanup EXIT
until sky daemon status >/dev/null 2>&1; do sleep 0.1; done

cat >"$state_dir/sweep.yaml" <<YAML
name: sweep
resources:
  infra: local
run: sleep 100000
YAML
api_body() {  # the pipeline `sky` sends for sweep.yaml, N copies
  printf '{"name":"sweep","num_jobs":%d,"pipeline":{"name":"sweep","tasks":[{"name":"sweep","resources":{"cloud":"local"},"run":"sleep 100000"}]}}' "$1"
}

# Waits until no job is open (the cancels have run), at most 600 s.
wait_all_closed() {
  for _ in $(seq 1 6000); do
    [ "$(api GET '/v1/jobs?all_users=1&skip_finished=1&limit=1' | jq '.jobs | length')" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

# Until skyd is idle (the previous batch's jobs have loaded and are waiting for their slot), so that
# each row times its own submissions.
wait_idle() {
  while :; do
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$skyd_pid/stat")
    sleep 1
    [ $(($(awk '{print $14 + $15}' "/proc/$skyd_pid/stat") - ticks)) -lt 5 ] && break
  done
}

expected_jobs=0
declare -a batches=()  # "N first_id" per batch, to check ranks at the end
printf '| path | jobs per batch | batches | jobs | seconds | job submissions/s |\n|---|---:|---:|---:|---:|---:|\n'
for row in "${rows[@]}"; do
  n=${row%%:*}
  count=${row##*:}
  for path in sky api; do
    wait_idle
    start=$(now)
    for _ in $(seq 1 "$count"); do
      if [ $path = sky ]; then
        out=$(sky jobs launch -y -d --num-jobs "$n" "$state_dir/sweep.yaml")
        first=$(sed -n 's/^✓ Jobs\{0,1\} submitted, IDs\{0,1\}: \([0-9]*\).*/\1/p' <<<"$out")
      else
        first=$(api POST /v1/jobs "$(api_body "$n")" | jq '.job_ids[0]')
      fi
      [ -n "$first" ] || { echo "submission failed: $out" >&2; exit 1; }
      batches+=("$n $first")
    done
    end=$(now)
    jobs=$((n * count))
    expected_jobs=$((expected_jobs + jobs))
    seconds=$(echo "$end - $start" | bc -l)
    printf '| %s | %d | %d | %d | %.2f | %.0f |\n' "$path" "$n" "$count" "$jobs" "$seconds" \
      "$(echo "$jobs / $seconds" | bc -l)"
  done
done

# The check: every batch's jobs are there, each with the batch's num_jobs and its own rank.
listed=$(api GET "/v1/jobs?all_users=1&limit=$((expected_jobs + 10))")
[ "$(jq '.jobs | length' <<<"$listed")" = "$expected_jobs" ] ||
  { echo "FAIL: expected $expected_jobs jobs, found $(jq '.jobs | length' <<<"$listed")" >&2; exit 1; }
for batch in "${batches[@]}"; do
  read -r n first <<<"$batch"
  ok=$(jq --argjson n "$n" --argjson first "$first" '
    [.jobs[] | select(.id >= $first and .id < $first + $n)] as $mine
    | ($mine | length) == $n and ([$mine[].num_jobs] | unique) == [$n]
      and ([$mine[].job_rank] | sort) == [range(0; $n)]' <<<"$listed")
  [ "$ok" = true ] || { echo "FAIL: the batch of $n from job $first has wrong ranks" >&2; exit 1; }
done

start=$(now)
api POST /v1/jobs/cancel '{"all":true}' >/dev/null
wait_all_closed || { echo "FAIL: jobs still open 600 s after cancel" >&2; exit 1; }
cancelled_in=$(echo "$(now) - $start" | bc -l)
# A machine goes just after its job's final status: give the teardowns 30 s.
for _ in $(seq 1 300); do
  left=$(pgrep -fc "skylet.*$state_dir/local/" || true)
  [ "$left" = 0 ] && break
  sleep 0.1
done
[ "$left" = 0 ] || { echo "FAIL: $left skylet processes left" >&2; exit 1; }
not_cancelled=$(api GET "/v1/jobs?all_users=1&limit=$((expected_jobs + 10))" |
  jq '[.jobs[] | select(.status != "CANCELLED")] | length')
[ "$not_cancelled" = 0 ] || { echo "FAIL: $not_cancelled jobs ended otherwise than CANCELLED" >&2; exit 1; }
printf '\ncheck: %d jobs, every batch with ranks 0..N-1; all CANCELLED in %.1f s; no job open, no machine left\n' \
  "$expected_jobs" "$cancelled_in"
