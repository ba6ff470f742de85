#!/usr/bin/env bash
# skyd's Debian package end to end: scripts/package.sh packages an existing build; the package
# has the programs, units, config and control fields it should; its units pass
# `systemd-analyze verify`; and it installs, upgrades, removes and purges cleanly
# (install_test.sh, in a sandbox). Usage: package_test.sh SOURCE_DIR BUILD_DIR.
# Exit 77: a part could not run here (it says which); every part that ran passed.
set -euo pipefail
source_dir=$1 build_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (scripts/install-deps.sh)"; exit 77; }
done
fail() {
  echo "FAILED: $*"
  exit 1
}
# Runs one part (a script that exits 77 when it cannot run here) and notes a skip.
skipped=()
run_part() {
  local name=$1 status=0
  shift
  "$@" || status=$?
  case $status in
    0) ;;
    77) skipped+=("$name") ;;
    *) fail "$name" ;;
  esac
}

work=$(mktemp -d /tmp/skyd-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/.*kVersion = "\(.*\)";.*/\1/p' "$source_dir/daemon/version.hpp")
arch=$(dpkg --print-architecture)

echo "--- scripts/package.sh --build-dir $build_dir"
deb=$("$source_dir/scripts/package.sh" --build-dir "$build_dir" --out "$work") || fail "package.sh"
[ "$deb" = "$work/skyd_${version}_${arch}.deb" ] || fail "package.sh made $deb"

echo "--- dpkg-deb --info"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = skyd ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
# The names in Depends, one a line, without versions.
depends=$(field Depends | tr ',' '\n' | awk '{ print $1 }')
# The libraries the programs link (from dpkg-shlibdeps) and what skyd runs.
for package in libc6 libstdc++6 libpq5 libssl3 libyaml-cpp0.7 libspdlog1.10-fmt9 libsimdjson14 \
  adduser postgresql rclone fuse3; do
  grep -qxF "$package" <<<"$depends" || fail "Depends lacks $package: $(field Depends)"
done
grep -q openssh-server <<<"$(field Recommends)" || fail "Recommends lacks openssh-server"
info=$(dpkg-deb --info "$deb")
for script in postinst prerm postrm; do
  grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script " <<<"$info" || fail "no executable $script"
done

echo "--- dpkg-deb --contents"
# "mode owner path" (and "-> target" for a link) per entry.
contents=$(dpkg-deb --contents "$deb" | awk '{ print $1, $2, $6 ($7 == "->" ? " -> " $8 : "") }')
expect_entry() { grep -qxF -e "$1" <<<"$contents" || fail "no '$1' in the package:"$'\n'"$contents"; }
expect_entry "-rwxr-xr-x root/root ./usr/bin/skyd"
expect_entry "-rwxr-xr-x root/root ./usr/bin/sky"
expect_entry "-rwxr-xr-x root/root ./opt/skyd/bin/skylet"
expect_entry "lrwxrwxrwx root/root ./usr/bin/skylet -> /opt/skyd/bin/skylet"
for unit in skyd.service skyd.socket skylet.service; do
  expect_entry "-rw-r--r-- root/root ./lib/systemd/system/$unit"
done
expect_entry "-rw-r--r-- root/root ./etc/skyd/config.yaml"
expect_entry "-rw-r--r-- root/root ./usr/share/doc/skyd/operations.md"
expect_entry "-rw-r--r-- root/root ./usr/share/bash-completion/completions/sky"
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/skyd/config.yaml ] ||
  fail "conffiles is not /etc/skyd/config.yaml"

echo "--- the units name programs the package installs, and pass systemd-analyze verify"
unpacked=$work/unpacked
dpkg-deb -x "$deb" "$unpacked"
while read -r program; do
  [ -x "$unpacked$program" ] || fail "a unit starts $program, which the package does not install"
done < <(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unpacked"/lib/systemd/system/*)
run_part "systemd-analyze verify" "$source_dir/tests/systemd/verify_units.sh" \
  "$unpacked/lib/systemd/system" "$unpacked/usr/bin/skyd" "$unpacked/opt/skyd/bin/skylet"

echo "--- install, upgrade, remove, purge"
run_part "the install in a sandbox" "$here/install_test.sh" "$deb" "$version"

if [ ${#skipped[@]} -gt 0 ]; then
  echo "SKIP: could not run here: ${skipped[*]}"
  exit 77
fi
echo "passed"
