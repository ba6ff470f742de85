#!/usr/bin/env bash
# The run command: installs what is missing, builds, starts skyd on its embedded defaults in a
# throwaway state directory, and shows it working through the `sky` CLI. Stops skyd at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

build=${SKYD_BUILD_DIR:-build}
state_dir=${SKYD_DEMO_STATE_DIR:-$(mktemp -d /tmp/skyd-demo.XXXXXX)}
export SKYD_SOCKET="$state_dir/skyd.sock"
sky() { "$build/cli/sky" "$@"; }

"$build/daemon/skyd" --state-dir "$state_dir" --log-level warn &
skyd_pid=$!
trap 'kill -TERM $skyd_pid 2>/dev/null; wait $skyd_pid 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  sky daemon status >/dev/null 2>&1 && break
  kill -0 $skyd_pid 2>/dev/null || { echo "skyd exited during start-up" >&2; exit 1; }
  sleep 0.1
done

echo "\$ sky daemon status"
sky daemon status
