#!/usr/bin/env bash
# Runs check.mjs (the AWS SDK for JavaScript) against a fresh fakecloud on a free port.
# Usage: run_sdk_check.sh FAKECLOUD_BINARY. Exit 77 (skipped) when node or the SDK is missing.
set -euo pipefail
fakecloud=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null; then
  echo "SKIP: node is not installed (scripts/install-deps.sh installs nodejs and npm)"
  exit 77
fi
if [ ! -d "$here/node_modules/@aws-sdk/client-ec2" ]; then
  echo "SKIP: @aws-sdk/client-ec2 is not installed (run: npm ci --prefix $here)"
  exit 77
fi
dir=$(mktemp -d /tmp/sdk-check.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/ports"
exec 3<>"$dir/ports"  # read-write: opening does not wait for fakecloud
"$fakecloud" --mode virtual --port 0 --port-file "$dir/ports" >"$dir/fakecloud.log" 2>&1 &
pid=$!
if ! read -r -t 20 port <&3; then
  echo "fakecloud did not start:"; cat "$dir/fakecloud.log"; exit 1
fi
if ! FAKECLOUD_URL="http://127.0.0.1:$port" node "$here/check.mjs"; then
  echo "--- fakecloud log"; tail -n 50 "$dir/fakecloud.log"; exit 1
fi
