#!/usr/bin/env bash
# Runs check.mjs (Google's @google-cloud/tpu, REST transport) against a fresh fakecloud on a free
# port. Usage: run_tpu_sdk_check.sh FAKECLOUD_BINARY. Exit 77 (skipped) when node or the client
# library is missing.
set -euo pipefail
fakecloud=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../start_fakecloud.sh
. "$here/../start_fakecloud.sh"
require_node_check "$here" @google-cloud/tpu
start_fakecloud "$fakecloud"
run_node_check env FAKECLOUD_URL="http://127.0.0.1:$port" node "$here/check.mjs"
