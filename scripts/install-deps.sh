#!/usr/bin/env bash
# Installs the Debian 12 packages skyd needs to build, test and run. Idempotent and quiet when
# everything is already present. Needs root (or sudo) only when something is missing.
set -euo pipefail

# awscli: Debian's AWS CLI cross-checks fakecloud's catalog APIs (tests/fakecloud/aws_cli_check).
# rclone, fuse3: skylet mounts and copies buckets with rclone (docs/storage.md, "On the node");
# bench/s3_bench copies the same data with it, next to skyd's S3 client.
# openssh-server: tests/integration/remote_test.cpp runs its own sshd on loopback (a controller VM
# for `sky --host ssh://`). Debian's package also enables the system's sshd, as on any server.
# dpkg-dev (dpkg-shlibdeps), systemd (systemd-analyze), adduser: scripts/package.sh derives the
# .deb's library dependencies, and its test verifies the units and runs the postinst.
PACKAGES=(
  g++ cmake ninja-build pkg-config ccache mold git
  libboost1.81-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libpq-dev libssl-dev openssl postgresql
  libgtest-dev libgmock-dev
  clang-14 libclang-rt-14-dev
  util-linux procps iproute2 curl bc jq
  openssh-client openssh-server awscli
  rclone fuse3
  # The container tests (image_id: docker:IMAGE): podman with runc (crun fails on hybrid cgroup
  # hosts) runs a task in an image made from busybox-static's rootfs, no registry needed.
  podman runc busybox-static
  dpkg-dev systemd adduser
  nodejs chromium
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
# Debian's npm package; nodejs builds from other sources (NodeSource) bundle npm and conflict
# with it, so it is only asked for when no npm command exists.
command -v npm >/dev/null || missing+=(npm)
# Debian's kubectl (kubernetes-client) cross-checks fakecloud's Kubernetes API
# (tests/fakecloud/kubectl_check); a kubectl from elsewhere (Google's packages) serves as well and
# would conflict with it.
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The AWS SDK for JavaScript that tests/fakecloud/sdk_check cross-checks fakecloud with (pinned by
# its package-lock.json); only when its node_modules is missing. Google's @google-cloud/compute for
# tests/fakecloud/gce_sdk_check, @google-cloud/storage for tests/fakecloud/gcs_sdk_check, and
# @google-cloud/tpu for tests/fakecloud/tpu_sdk_check, the same way.
# playwright-core for the dashboard's browser test (tests/dashboard; it drives Debian's chromium,
# never a downloaded browser). Same rule: pinned by package-lock.json, only when missing.
# s3rver, the S3 server the storage tests and bench/s3_bench start (tests/s3). Same rule.
# Google's google-auth-library, which tests/fakecloud/google_auth_check cross-checks fakecloud's
# token endpoint and skyd's JWTs with. Same rule.
root="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$root/tests/fakecloud/sdk_check" "$root/tests/fakecloud/gce_sdk_check" \
  "$root/tests/fakecloud/gcs_sdk_check" "$root/tests/fakecloud/tpu_sdk_check" \
  "$root/tests/dashboard" "$root/tests/s3" "$root/tests/fakecloud/google_auth_check"; do
  if [ ! -d "$dir/node_modules" ] && command -v npm >/dev/null; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  fi
done
