#!/usr/bin/env bash
# Runs `systemd-analyze verify` on systemd/*.{service,socket}, offline (no systemd as PID 1
# needed): the binaries' paths are pointed at the build, and any message about our units -- an
# unknown key, a bad value, a missing binary -- fails the test, since verify itself exits 0 for
# most of them. Usage: verify_units.sh SOURCE_DIR SKYD_BINARY SKYLET_BINARY. Exit 77: skipped.
set -euo pipefail
source_dir=$1 skyd=$2 skylet=$3
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi
dir=$(mktemp -d /tmp/skyd-units.XXXXXX)
trap 'rm -rf "$dir"' EXIT
units=()
for unit in "$source_dir"/systemd/*.service "$source_dir"/systemd/*.socket; do
  name=$(basename "$unit")
  sed -e "s|/usr/local/bin/skyd|$skyd|g" -e "s|/opt/skyd/bin/skylet|$skylet|g" "$unit" >"$dir/$name"
  units+=("$dir/$name")
done
# Probe: can verify run here at all? (It needs to start a private manager, which some sandboxes
# refuse.) A trivial unit must verify cleanly, or the environment is the problem, not our units.
printf '[Service]\nExecStart=/bin/true\n' >"$dir/probe.service"
if ! probe=$(cd "$dir" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
    --generators=no "$dir/probe.service" 2>&1) || [ -n "$probe" ]; then
  echo "SKIP: systemd-analyze verify cannot run in this environment:"
  echo "$probe"
  exit 77
fi
rm "$dir/probe.service"
set +e
output=$(cd "$dir" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no --generators=no \
  "${units[@]}" 2>&1)
status=$?
set -e
echo "$output"
if [ $status -ne 0 ] || grep -q "$dir/" <<<"$output" || grep -qE '^(skyd|skylet)\.' <<<"$output"; then
  echo "FAILED: systemd-analyze verify reported problems with the units above (exit $status)"
  exit 1
fi
echo "verified: ${units[*]##*/}"
