#!/usr/bin/env bash
# Spot recovery on GCP as skyd sees it, against fakecloud's virtual nodes (Compute Engine API v1
# with bearer tokens that skyd gets from fakecloud's token endpoint by the service-account JWT
# grant, long-running operations, the client-side rate limit, TLS to every node): N spot jobs run,
# then every spot VM gets its preemption notice at once (instance/preempted turns TRUE; 30 s of
# grace, as on Compute Engine). For each job, the time from the notice to the start of its
# recovery (RUNNING -> RECOVERING), to the replacement's bulkInsert call (fakecloud's
# requested_at_ms of the new VM) and to the job's RUNNING again (job_events in skyd's embedded
# PostgreSQL). The notice time is this script's clock just before the preempt call: fakecloud
# notices every VM at once inside that call but does not report the time for Compute Engine VMs.
# A replacement runs only once its predecessor has stopped, so two kinds of task are measured:
# one that checkpoints and exits 1 s after its notice, and one that ignores it and runs until the
# VM goes at the grace's end (SKYD_BENCH_GRACE_MS, default 30000).
# Prints p50/p99 per N, then checks that every job recovered exactly once and that no VM is left
# after the cancel.
#   bench/gcp_recovery_bench.sh [BUILD_DIR] [N...]        (default: build 1 500)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
project=skyd-bench-project
account=skyd-bench@$project.iam.gserviceaccount.com
grace_ms=${SKYD_BENCH_GRACE_MS:-30000}

# Whatever happens, stop what this script started (skyd stops its embedded PostgreSQL).
trap 'kill -TERM $(jobs -p) 2>/dev/null || true; wait' EXIT

# shellcheck source=bench/cloud_recovery_common.sh
source "$root/bench/cloud_recovery_common.sh"
read_bench_args "$@"

now_ms() { date +%s%3N; }

# A service-account key file as Google's console writes it (RSA 2048, PKCS#8 PEM), with its
# token_uri at $2; the file is the owner's only, as key files should be.
write_key_file() {
  local pem=$1 token_uri=$2 out=$3
  (umask 077 && jq -n --rawfile key "$pem" --arg id "$key_id" --arg email "$account" \
    --arg project "$project" --arg uri "$token_uri" \
    '{type: "service_account", project_id: $project, private_key_id: $id, private_key: $key,
      client_email: $email, client_id: "100000000000000000001",
      auth_uri: "https://accounts.google.com/o/oauth2/auth", token_uri: $uri,
      universe_domain: "googleapis.com"}' >"$out")
}

run_one() {
  local jobs=$1 task=$2
  dir=$(mktemp -d /tmp/skyd-gcpbench.XXXXXX)
  chmod 755 "$dir"
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/sa.pem" 2>/dev/null)
  key_id=$(openssl rand -hex 20)
  # fakecloud needs only the account's email and key; skyd's copy points at fakecloud's /token.
  write_key_file "$dir/sa.pem" https://oauth2.googleapis.com/token "$dir/fakecloud-sa.json"
  # fakecloud: virtual nodes that boot in 100 ms and whose tasks never end by themselves (but
  # for the notice, where they hear it).
  local exits=''
  [ "$task" = hears ] && exits=', "virtual_exit_after_notice_ms": 1000'
  printf '{"virtual_boot_ms": 100, "virtual_task_ms": 100000000%s}\n' "$exits" >"$dir/chaos.json"
  "$build/tests/fakecloud/fakecloud" --mode virtual --port-file "$dir/ports" --config "$dir/chaos.json" \
    --gcp-project "$project" --gcp-service-account "$dir/fakecloud-sa.json" --log-level warn \
    2>"$dir/fakecloud.log" &
  local cloud_pid=$!
  local api_port virtual_port
  await_fakecloud_ports
  local cloud="http://127.0.0.1:$api_port"
  write_key_file "$dir/sa.pem" "$cloud/token" "$dir/sa.json"

  export SKYD_SOCKET="$dir/skyd.sock"
  printf 'log_level: warn\ndb_pool_size: 8\ngcp_enabled: true\ngcp_project: "%s"\ngcp_endpoint: "%s"\ngcp_regions: "us-central1"\ngcp_skylet_port: %s\n' \
    "$project" "$cloud" "$virtual_port" >"$dir/config.yaml"
  # Application Default Credentials from the key file alone (HOME holds no gcloud file).
  HOME=$dir GOOGLE_APPLICATION_CREDENTIALS=$dir/sa.json \
    "$build/daemon/skyd" --state-dir "$dir" --config "$dir/config.yaml" 2>"$dir/skyd.stderr" &
  local skyd_pid=$!
  printf 'name: spot\nresources:\n  cloud: gcp\n  region: us-central1\n  instance_type: n2-standard-8\n  use_spot: true\nrun: train\n' \
    >"$dir/spot.yaml"
  launch_running_jobs "$jobs" "$dir/spot.yaml"

  local noticed
  noticed=$(now_ms)
  curl -sf -X POST "$cloud/_admin/gcp/preempt?all_spot=1&grace_ms=$grace_ms" >"$dir/preempted.json"
  [ "$(jq '.instances | length' "$dir/preempted.json")" = "$jobs" ] ||
    fail "the preempt call named $(jq '.instances | length' "$dir/preempted.json") VMs, not $jobs"
  await_recovered_jobs "$jobs"

  curl -s "$cloud/_admin/gcp/instances" >"$dir/instances.json"
  jq -r '.instances[] | select(.labels["skyd-attempt"] == "2") | "\(.labels["skyd-job"]) \(.requested_at_ms)"' \
    "$dir/instances.json" >"$dir/requested"
  transition_times RECOVERING RUNNING >"$dir/running"
  transition_times RUNNING RECOVERING >"$dir/recovering"
  awk -v t="$noticed" '{print $2 - t}' "$dir/recovering" >"$dir/to_recovering"
  awk -v t="$noticed" '{print $2 - t}' "$dir/requested" >"$dir/to_request"
  awk -v t="$noticed" '{print $2 - t}' "$dir/running" >"$dir/to_running"
  # Exactly once: one recovery and one replacement VM per job, no job twice.
  check_once_per_job "$jobs" "$dir/recovering" recoveries
  check_once_per_job "$jobs" "$dir/requested" "replacement VMs"
  # The reads skyd polls Compute Engine with (DescribeInstances' counterpart).
  curl -s "$cloud/_admin/gcp/stats" >"$dir/stats.json"
  local lists
  lists=$(jq '(.calls.list // 0) + (.calls.aggregatedList // 0)' "$dir/stats.json")
  print_row "$jobs" "$task" "$lists"
  cancel_and_check_nothing_left "$skyd_pid" "$cloud_pid" "$cloud/_admin/gcp/stats"
}

print_header bulkInsert list+agg
for n in "${counts[@]}"; do
  for task in hears ignores; do run_one "$n" "$task"; done
done
echo "check: every job recovered exactly once; no VM left"
