#!/usr/bin/env bash
# The run command: installs what is missing, builds, starts skyd on its embedded defaults (local
# provider, embedded PostgreSQL) in a throwaway state directory, and runs real managed jobs through
# the `sky` CLI: the train/eval pipeline, then a spot job that is preempted and recovers from its
# checkpoint. Stops skyd (and every machine) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

build=${SKYD_BUILD_DIR:-build}
state_dir=${SKYD_DEMO_STATE_DIR:-$(mktemp -d /tmp/skyd-demo.XXXXXX)}
chmod 755 "$state_dir"  # lets the embedded PostgreSQL (run as `postgres` under root) keep its data here
export SKYD_SOCKET="$state_dir/skyd.sock"
sky() { "$build/cli/sky" "$@"; }
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

"$build/daemon/skyd" --state-dir "$state_dir" --log-level warn --config /dev/null \
  2>"$state_dir/skyd.stderr" &
skyd_pid=$!
stop_skyd() {
  # skyd leaves machines running when it stops (a restart re-attaches): cancel, let it finish.
  sky jobs cancel -a -y >/dev/null 2>&1 || true
  for _ in $(seq 1 600); do
    kill -0 $skyd_pid 2>/dev/null || break
    [ "$(sky jobs queue -s -o json 2>/dev/null)" = "[]" ] && break
    sleep 0.1
  done
  kill -TERM $skyd_pid 2>/dev/null
  wait $skyd_pid 2>/dev/null || true
}
trap stop_skyd EXIT

for _ in $(seq 1 100); do
  sky daemon status >/dev/null 2>&1 && break
  kill -0 $skyd_pid 2>/dev/null || { cat "$state_dir/skyd.stderr" >&2; echo "skyd exited during start-up" >&2; exit 1; }
  sleep 0.1
done

say sky daemon status
sky daemon status

say sky jobs launch -y examples/local_pipeline.yaml
sky jobs launch -y examples/local_pipeline.yaml

say sky jobs launch -y -d examples/local_spot_checkpoint.yaml
submitted=$(sky jobs launch -y -d examples/local_spot_checkpoint.yaml)
echo "$submitted"
spot_job=$(echo "$submitted" | sed -n 's/^Managed Job ID: \([0-9]*\)$/\1/p')
checkpoint="$state_dir/local/buckets/local-spot-checkpoint/step"
for _ in $(seq 1 200); do
  [ -f "$checkpoint" ] && [ "$(cat "$checkpoint")" -ge 5 ] && break
  sleep 0.1
done
say sky jobs preempt "$spot_job"
sky jobs preempt "$spot_job"
say sky jobs logs "$spot_job"
sky jobs logs "$spot_job"

say sky jobs queue
sky jobs queue
say sky jobs logs --controller "$spot_job"
sky jobs logs --controller "$spot_job"
