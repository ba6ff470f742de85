#!/usr/bin/env bash
# Runs check.mjs (Google's @google-cloud/compute, REST transport) against a fresh fakecloud on a
# free port. Usage: run_gce_sdk_check.sh FAKECLOUD_BINARY. Exit 77 (skipped) when node or the
# client library is missing.
set -euo pipefail
fakecloud=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null; then
  echo "SKIP: node is not installed (scripts/install-deps.sh installs nodejs and npm)"
  exit 77
fi
if [ ! -d "$here/node_modules/@google-cloud/compute" ]; then
  echo "SKIP: @google-cloud/compute is not installed (run: npm ci --prefix $here)"
  exit 77
fi
# shellcheck source=../start_fakecloud.sh
. "$here/../start_fakecloud.sh"
start_fakecloud "$fakecloud"
if ! FAKECLOUD_URL="http://127.0.0.1:$port" node "$here/check.mjs"; then
  echo "--- fakecloud log"; tail -n 50 "$dir/fakecloud.log"; exit 1
fi
