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
key=AKIDBENCHMARK000
secret=bench-secret-key-0123456789

# Whatever happens, stop what this script started (skyd stops its embedded PostgreSQL).
trap 'kill -TERM $(jobs -p) 2>/dev/null || true; wait' EXIT

# shellcheck source=bench/cloud_recovery_common.sh
source "$root/bench/cloud_recovery_common.sh"
read_bench_args "$@"

run_one() {
  local jobs=$1 task=$2
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
  local api_port virtual_port
  await_fakecloud_ports
  local cloud="http://127.0.0.1:$api_port"

  export SKYD_SOCKET="$dir/skyd.sock"
  printf 'log_level: warn\ndb_pool_size: 8\naws_enabled: true\naws_endpoint: "%s"\naws_regions: "us-east-1"\naws_skylet_port: %s\ncatalog_dir: %s\n' \
    "$cloud" "$virtual_port" "$root/tests/fakecloud/catalog" >"$dir/config.yaml"
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_EC2_METADATA_DISABLED=true \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    "$build/daemon/skyd" --state-dir "$dir" --config "$dir/config.yaml" 2>"$dir/skyd.stderr" &
  local skyd_pid=$!
  printf 'name: spot\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n  use_spot: true\nrun: train\n' \
    >"$dir/spot.yaml"
  launch_running_jobs "$jobs" "$dir/spot.yaml"

  curl -s -X POST "$cloud/_admin/preempt?all_spot=1&grace_ms=${SKYD_BENCH_GRACE_MS:-120000}" >/dev/null
  await_recovered_jobs "$jobs"

  curl -s "$cloud/_admin/instances" >"$dir/instances.json"
  jq -r '.instances[] | select(.tags["skyd-attempt"] == "1") | "\(.tags["skyd-job"]) \(.noticed_at_ms)"' \
    "$dir/instances.json" >"$dir/notices"
  jq -r '.instances[] | select(.tags["skyd-attempt"] == "2") | "\(.tags["skyd-job"]) \(.requested_at_ms)"' \
    "$dir/instances.json" >"$dir/requested"
  transition_times RECOVERING RUNNING >"$dir/running"
  transition_times RUNNING RECOVERING >"$dir/recovering"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/recovering" >"$dir/to_recovering"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/requested" >"$dir/to_request"
  awk 'NR==FNR {notice[$1]=$2; next} {print $2 - notice[$1]}' "$dir/notices" "$dir/running" >"$dir/to_running"
  check_once_per_job "$jobs" "$dir/recovering" recoveries
  check_once_per_job "$jobs" "$dir/requested" "replacement instances"
  local describes
  describes=$(curl -s "$cloud/_admin/stats" | jq '.calls.DescribeInstances')
  print_row "$jobs" "$task" "$describes"
  cancel_and_check_nothing_left "$skyd_pid" "$cloud_pid" "$cloud/_admin/stats"
}

print_header RunInstances Describe
for n in "${counts[@]}"; do
  for task in hears ignores; do run_one "$n" "$task"; done
done
echo "check: every job recovered exactly once; no instance left"
