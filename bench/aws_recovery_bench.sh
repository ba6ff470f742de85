#!/usr/bin/env bash
# Spot recovery on AWS as skyd sees it, against fakecloud's virtual nodes (the EC2 Query API with
# SigV4 checks, the client-side rate limit, TLS to every node): N spot jobs run, then every spot
# instance gets its interruption notice at once (two minutes' grace, as on EC2). For each job, the
# time from its notice to the start of its recovery (RUNNING -> RECOVERING), to the replacement's
# RunInstances call (from fakecloud's records) and to the job's RUNNING again (job_events in skyd's
# embedded PostgreSQL). A replacement runs only once its predecessor has stopped, so two kinds of
# task are measured: one that checkpoints and exits 1 s after its notice, and one that ignores it
# and runs until the instance goes at the window's end (SKYD_BENCH_GRACE_MS, default 120000).
# Prints p50/p99 per N, then checks that every job recovered exactly once and that no instance is
# left after the cancel.
#   bench/aws_recovery_bench.sh [BUILD_DIR] [N...]        (default: build 1 500)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
shift || true
counts=("${@:-1 500}")
[ ${#counts[@]} -eq 1 ] && read -r -a counts <<<"${counts[0]}"
key=AKIDBENCHMARK000
secret=bench-secret-key-0123456789

# Whatever happens, stop what this script started (skyd stops its embedded PostgreSQL).
trap 'kill -TERM $(jobs -p) 2>/dev/null || true; wait' EXIT

percentile() {  # percentile P of the numbers on stdin
  sort -n | awk -v p="$1" '{v[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.0f", v[i]}'
}

run_one() {
  local jobs=$1 task=$2 dir
  dir=$(mktemp -d /tmp/skyd-awsbench.XXXXXX)
  chmod 755 "$dir"
  # fakecloud: virtual nodes that boot in 100 ms and whose tasks never end by themselves (but
  # for the notice, where they hear it).
  local exits=''
  [ "$task" = hears ] && exits=', "virtual_exit_after_notice_ms": 1000'
  printf '{"virtual_boot_ms": 100, "virtual_task_ms": 100000000%s}\n' "$exits" >"$dir/chaos.json"
  "$build/tests/fakecloud/fakecloud" --mode virtual --port-file "$dir/ports" --config "$dir/chaos.json" \
    --access-key "$key" --secret-key "$secret" --log-level warn 2>"$dir/fakecloud.log" &
  local cloud_pid=$!
  until [ -s "$dir/ports" ] && [ "$(wc -l <"$dir/ports")" -ge 2 ]; do sleep 0.05; done
  local api_port virtual_port
  api_port=$(sed -n 1p "$dir/ports")
  virtual_port=$(sed -n 2p "$dir/ports")
  local cloud="http://127.0.0.1:$api_port"

  export SKYD_SOCKET="$dir/skyd.sock"
  printf 'log_level: warn\ndb_pool_size: 8\naws_enabled: true\naws_endpoint: "%s"\naws_regions: "us-east-1"\naws_skylet_port: %s\ncatalog_dir: %s\n' \
    "$cloud" "$virtual_port" "$root/tests/fakecloud/catalog" >"$dir/config.yaml"
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_EC2_METADATA_DISABLED=true \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    "$build/daemon/skyd" --state-dir "$dir" --config "$dir/config.yaml" 2>"$dir/skyd.stderr" &
  local skyd_pid=$!
  until "$build/cli/sky" daemon status >/dev/null 2>&1; do sleep 0.1; done
  printf 'name: spot\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n  use_spot: true\nrun: train\n' \
    >"$dir/spot.yaml"
  for _ in $(seq 1 "$jobs"); do "$build/cli/sky" jobs launch -y -d "$dir/spot.yaml" >/dev/null; done
  until [ "$("$build/cli/sky" jobs queue -a -o json | grep -o '"status":"RUNNING"' | wc -l)" -ge "$jobs" ]; do
    sleep 0.2
  done

  curl -s -X POST "$cloud/_admin/preempt?all_spot=1&grace_ms=${SKYD_BENCH_GRACE_MS:-120000}" >/dev/null
  until [ "$("$build/cli/sky" jobs queue -a -o json | jq '[.[] | select(.recovery_count == 1 and .status == "RUNNING")] | length')" -ge "$jobs" ]; do
    sleep 0.2
  done

  curl -s "$cloud/_admin/instances" >"$dir/instances.json"
  jq -r '.instances[] | select(.tags["skyd-attempt"] == "1") | "\(.tags["skyd-job"]) \(.noticed_at_ms)"' \
    "$dir/instances.json" >"$dir/notices"
  jq -r '.instances[] | select(.tags["skyd-attempt"] == "2") | "\(.tags["skyd-job"]) \(.requested_at_ms)"' \
    "$dir/instances.json" >"$dir/requested"
  psql -h "$dir/postgres" -U postgres -d skyd -At -F ' ' -c \
    "SELECT job_id, (extract(epoch FROM at) * 1000)::bigint FROM job_events
     WHERE from_status = 'RECOVERING' AND to_status = 'RUNNING'" >"$dir/running"
  psql -h "$dir/postgres" -U postgres -d skyd -At -F ' ' -c \
    "SELECT job_id, (extract(epoch FROM at) * 1000)::bigint FROM job_events
     WHERE from_status = 'RUNNING' AND to_status = 'RECOVERING'" >"$dir/recovering"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/recovering" >"$dir/to_recovering"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/requested" >"$dir/to_request"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/running" >"$dir/to_running"
  local describes
  describes=$(curl -s "$cloud/_admin/stats" | jq '.calls.DescribeInstances')
  printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "$jobs" "$task" \
    "$(percentile 50 <"$dir/to_recovering")" "$(percentile 99 <"$dir/to_recovering")" \
    "$(percentile 50 <"$dir/to_request")" "$(percentile 99 <"$dir/to_request")" \
    "$(percentile 50 <"$dir/to_running")" "$(percentile 99 <"$dir/to_running")" "$describes"

  "$build/cli/sky" jobs cancel -a -y >/dev/null 2>&1 || true
  for _ in $(seq 1 1200); do [ "$("$build/cli/sky" jobs queue -s -o json 2>/dev/null)" = "[]" ] && break; sleep 0.1; done
  kill -TERM "$skyd_pid"
  wait "$skyd_pid" 2>/dev/null || true
  local live
  live=$(curl -s "$cloud/_admin/stats" | jq '.live')
  [ "$live" = "0" ] || fail "$live instances left running"
  kill -TERM "$cloud_pid"
  wait "$cloud_pid" 2>/dev/null || true
  [ -n "${SKYD_BENCH_KEEP:-}" ] || rm -rf "$dir"
}

fail() {
  echo "check failed: $*" >&2
  exit 1
}

printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "JOBS" "TASK" "->RECOVERING" \
  "->RECOVERING" "->RunInstances" "->RunInstances" "->RUNNING" "->RUNNING" "Describe"
printf '%-6s %-8s %14s %14s %16s %16s %16s %16s %10s\n' "" "" "p50 (ms)" "p99 (ms)" "p50 (ms)" \
  "p99 (ms)" "p50 (ms)" "p99 (ms)" "calls"
for n in "${counts[@]}"; do
  for task in hears ignores; do run_one "$n" "$task"; done
done
echo "check: every job recovered exactly once; no instance left"
