#!/usr/bin/env bash
# Installs, upgrades, removes and purges skyd's .deb for real -- dpkg, its maintainer scripts,
# adduser, systemctl enable -- in a throwaway copy of this machine: an overlay of / whose writes
# go to a tmpfs, in a private mount namespace, chrooted. The host's /usr, /etc and dpkg database
# are never touched. Usage: install_test.sh DEB VERSION (run by package_test.sh).
# Exit 77: skipped (not root, or no mount namespace or overlayfs here).
set -euo pipefail
deb=$1 version=$2

if [ "${SKYD_SANDBOX:-}" = "" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: installing the package in a sandbox needs root (mount namespace, chroot)"
    exit 77
  fi
  if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "SKIP: no private mount namespace here (unshare --mount)"
    exit 77
  fi
  # The sandbox's mounts live and die with the namespace: once it is gone the directory is empty
  # again, so it is removed with rmdir -- never a recursive delete that could follow a mount.
  sandbox=$(mktemp -d /tmp/skyd-deb-sandbox.XXXXXX)
  trap 'rmdir "$sandbox"' EXIT
  SKYD_SANDBOX=$sandbox unshare --mount --propagation private "$0" "$@"
  exit
fi

# In the private namespace. Everything below is on a tmpfs: the overlay's writes, and the
# chroot's own /dev (a few device nodes, not the host's), /run and /tmp.
sandbox=$SKYD_SANDBOX
mount -t tmpfs tmpfs "$sandbox"
mkdir "$sandbox/upper" "$sandbox/work" "$sandbox/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$sandbox/upper,workdir=$sandbox/work" \
    "$sandbox/root"; then
  echo "SKIP: overlayfs over / is not available here"
  exit 77
fi
root=$sandbox/root
mount -t proc proc "$root/proc"
mount -t tmpfs tmpfs "$root/dev"
mknod -m 0666 "$root/dev/null" c 1 3
mknod -m 0666 "$root/dev/zero" c 1 5
mknod -m 0666 "$root/dev/urandom" c 1 9
ln -s /proc/self/fd "$root/dev/fd"
# A fresh /run: no /run/systemd/system, so the maintainer scripts see no running systemd.
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
cp "$deb" "$root/tmp/skyd.deb"

in_root() { chroot "$root" "$@"; }
fail() {
  echo "FAILED: $*"
  exit 1
}
expect_path() { [ -e "$root$1" ] || [ -L "$root$1" ] || fail "$1 is missing"; }
expect_no_path() {
  if [ -e "$root$1" ] || [ -L "$root$1" ]; then fail "$1 is still there"; fi
}

# A clean start, even on a machine where skyd is installed or has a user already.
in_root dpkg --purge skyd >/dev/null 2>&1 || true
in_root userdel skyd >/dev/null 2>&1 || true
in_root groupdel skyd >/dev/null 2>&1 || true
# (Deletions here only hide the host's files: the overlay records them as whiteouts.)
in_root rm -rf /var/lib/skyd /etc/skyd

echo "--- dpkg -i"
in_root dpkg -i /tmp/skyd.deb || fail "dpkg -i failed"
# shellcheck disable=SC2016 # dpkg-query's own ${Status}
in_root dpkg-query -W -f='${Status}\n' skyd | grep -qx 'install ok installed' ||
  fail "skyd is not 'install ok installed'"
for program in skyd sky skylet; do
  out=$(in_root "/usr/bin/$program" --version) || fail "$program --version failed"
  grep -q " $version\$" <<<"$out" || fail "$program --version says '$out', expected $version"
done
[ "$(readlink "$root/usr/bin/skylet")" = /opt/skyd/bin/skylet ] || fail "/usr/bin/skylet is no link"
# bash-completion loads this file on the first `sky <TAB>`: sourcing it registers the function.
in_root bash -c '. /usr/share/bash-completion/completions/sky && complete -p sky' |
  grep -q -- '-F _sky_complete sky$' || fail "the bash completion does not register for sky"
in_root /usr/bin/skyd --config /etc/skyd/config.yaml --print-config >/dev/null ||
  fail "skyd refuses the shipped /etc/skyd/config.yaml"

IFS=: read -r _ _ uid gid _ home shell < <(in_root getent passwd skyd) || fail "no skyd user"
[ "$uid" -lt 1000 ] || fail "skyd's uid $uid is not a system uid"
[ "$(in_root getent group skyd | cut -d: -f3)" = "$gid" ] || fail "skyd's group is not skyd"
[ "$home" = /var/lib/skyd ] || fail "skyd's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "skyd's shell is $shell"
state=$(in_root stat -c '%U:%G %a' /var/lib/skyd) || fail "no /var/lib/skyd"
[ "$state" = "skyd:skyd 750" ] || fail "/var/lib/skyd is $state, expected skyd:skyd 750"

echo "--- dpkg -i again (an upgrade in place)"
echo history >"$root/var/lib/skyd/history"
in_root dpkg -i /tmp/skyd.deb >/dev/null || fail "reinstalling failed"
[ "$(in_root getent passwd skyd | cut -d: -f3)" = "$uid" ] || fail "the upgrade changed skyd's uid"

echo "--- systemctl enable, offline"
in_root systemctl enable skyd.socket skyd.service
expect_path /etc/systemd/system/sockets.target.wants/skyd.socket
expect_path /etc/systemd/system/multi-user.target.wants/skyd.service

echo "--- dpkg -r: the programs and units go; the user, the job history and the config stay"
in_root dpkg -r skyd || fail "dpkg -r failed"
for path in /usr/bin/skyd /usr/bin/sky /usr/bin/skylet /opt/skyd /lib/systemd/system/skyd.service \
  /lib/systemd/system/skyd.socket /lib/systemd/system/skylet.service /usr/share/doc/skyd \
  /usr/share/bash-completion/completions/sky; do
  expect_no_path "$path"
done
expect_path /var/lib/skyd/history
expect_path /etc/skyd/config.yaml
in_root getent passwd skyd >/dev/null || fail "dpkg -r removed the skyd user"

echo "--- dpkg --purge: the rest goes too"
in_root dpkg --purge skyd || fail "dpkg --purge failed"
for path in /var/lib/skyd /etc/skyd /etc/systemd/system/sockets.target.wants/skyd.socket \
  /etc/systemd/system/multi-user.target.wants/skyd.service; do
  expect_no_path "$path"
done
! in_root getent passwd skyd >/dev/null || fail "the skyd user is still there"
! in_root getent group skyd >/dev/null || fail "the skyd group is still there"
# Nothing of skyd's in what the sandbox changed, but dpkg's own records of it (whiteouts, the
# character devices, are deletions).
left=$(cd "$sandbox/upper" && find . -path '*skyd*' ! -type c ! -path './var/lib/dpkg/*')
[ -z "$left" ] || fail "left behind after the purge: $left"
echo "installed, upgraded, removed and purged cleanly"
