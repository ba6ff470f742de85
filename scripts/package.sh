#!/usr/bin/env bash
# Builds skyd's Debian package, skyd_<version>_amd64.deb (docs/operations.md, "Installing the
# Debian package"): skyd and sky in /usr/bin, skylet in /opt/skyd/bin (where node images and
# skylet.service expect it) with /usr/bin/skylet beside skyd, the systemd units, a default
# /etc/skyd/config.yaml and the maintainer scripts in scripts/package.
# Usage: package.sh [--build-dir DIR] [--out DIR]
#   --build-dir DIR  package the programs of an existing build (default: a Release build into
#                    build-package/, made here through scripts/build.sh)
#   --out DIR        where the .deb goes (default: the repository root)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# The package's files get their modes from here, whatever the caller's umask.
umask 022
build_dir="" out_dir="$root"
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build_dir=$(realpath "${2:?--build-dir needs a directory}"); shift 2 ;;
    --out) out_dir=$(realpath "${2:?--out needs a directory}"); shift 2 ;;
    *) echo "usage: $0 [--build-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$build_dir" ]; then
  build_dir="$root/build-package"
  SKYD_BUILD_DIR="$build_dir" SKYD_BUILD_TYPE=Release "$root/scripts/build.sh" skyd sky skylet
fi
for program in daemon/skyd daemon/skylet cli/sky; do
  [ -x "$build_dir/$program" ] || { echo "$build_dir/$program is missing: build it first" >&2; exit 1; }
done

version=$(sed -n 's/.*kVersion = "\(.*\)";.*/\1/p' "$root/daemon/version.hpp")
[ -n "$version" ] || { echo "no kVersion in daemon/version.hpp" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# dpkg-shlibdeps wants the tree at debian/<package> beside a debian/control.
work=$(mktemp -d /tmp/skyd-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
touch "$work/debian/control"
stage="$work/debian/skyd"

install -d "$stage/usr/bin" "$stage/opt/skyd/bin" "$stage/lib/systemd/system" \
  "$stage/etc/skyd" "$stage/usr/share/doc/skyd" "$stage/usr/share/bash-completion/completions"
install -m 0755 --strip "$build_dir/daemon/skyd" "$build_dir/cli/sky" "$stage/usr/bin/"
install -m 0755 --strip "$build_dir/daemon/skylet" "$stage/opt/skyd/bin/"
# skyd starts the local provider's skylet from beside itself (skylet_binary's default).
ln -s /opt/skyd/bin/skylet "$stage/usr/bin/skylet"
# The units name /usr/local/bin/skyd for the by-hand install; the package's skyd is in /usr/bin.
for unit in "$root"/systemd/*.service "$root"/systemd/*.socket; do
  sed 's|/usr/local/bin/skyd|/usr/bin/skyd|g' "$unit" >"$stage/lib/systemd/system/$(basename "$unit")"
done
chmod 0644 "$stage"/lib/systemd/system/*
install -m 0644 "$root/scripts/package/config.yaml" "$stage/etc/skyd/config.yaml"
install -m 0644 "$root/docs/operations.md" "$root/docs/storage.md" "$root/README.md" \
  "$stage/usr/share/doc/skyd/"
"$build_dir/cli/sky" completion bash >"$stage/usr/share/bash-completion/completions/sky"

install -d "$stage/DEBIAN"
install -m 0755 "$root"/scripts/package/{postinst,prerm,postrm} "$stage/DEBIAN/"
echo /etc/skyd/config.yaml >"$stage/DEBIAN/conffiles"
libraries=$(cd "$work" && dpkg-shlibdeps -O -edebian/skyd/usr/bin/skyd -edebian/skyd/usr/bin/sky \
  -edebian/skyd/opt/skyd/bin/skylet | sed -n 's/^shlibs:Depends=//p')
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@LIBRARIES@|$libraries|" \
  -e "s|@INSTALLED_SIZE@|$installed_size|" "$root/scripts/package/control" >"$stage/DEBIAN/control"

mkdir -p "$out_dir"
deb="$out_dir/skyd_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
