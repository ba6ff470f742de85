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
# shellcheck source=../start_fakecloud.sh
. "$here/../start_fakecloud.sh"
start_fakecloud "$fakecloud"
if ! FAKECLOUD_URL="http://127.0.0.1:$port" node "$here/check.mjs"; then
  echo "--- fakecloud log"; tail -n 50 "$dir/fakecloud.log"; exit 1
fi
