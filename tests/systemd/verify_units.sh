#!/usr/bin/env bash
# Runs `systemd-analyze verify` on UNITS_DIR/*.{service,socket} (the repository's systemd/, or
# the Debian package's units), offline (no systemd as PID 1 needed): the binaries' paths are
# pointed at the given ones, and any message about our units -- an unknown key, a bad value, a
# missing binary -- fails the test, since verify itself exits 0 for most of them.
# Usage: verify_units.sh UNITS_DIR SKYD_BINARY SKYLET_BINARY. Exit 77: skipped.
set -euo pipefail
units_dir=$1 skyd=$2 skylet=$3
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi
dir=$(mktemp -d /tmp/skyd-units.XXXXXX)
trap 'rm -rf "$dir"' EXIT
units=()
for unit in "$units_dir"/*.service "$units_dir"/*.socket; do
  name=$(basename "$unit")
  # skyd is /usr/local/bin/skyd in the repository's unit, /usr/bin/skyd in the package's.
  sed -E -e "s#/usr(/local)?/bin/skyd\b#$skyd#g" -e "s#/opt/skyd/bin/skylet#$skylet#g" "$unit" \
    >"$dir/$name"
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
