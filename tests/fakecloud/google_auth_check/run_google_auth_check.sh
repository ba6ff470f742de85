#!/usr/bin/env bash
# Runs check.mjs (Google's google-auth-library for Node.js) against a fresh fakecloud that knows a
# freshly made service account and authorized user, and hands it a JWT made by skyd's code.
# Usage: run_google_auth_check.sh FAKECLOUD_BINARY GCP_KEY_TOOL. Exit 77 (skipped) when node or
# the library is missing.
set -euo pipefail
fakecloud=$1
tool=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../start_fakecloud.sh
. "$here/../start_fakecloud.sh"
require_node_check "$here" google-auth-library
keys=$(mktemp -d /tmp/google-auth-keys.XXXXXX)
trap 'rm -rf "$keys"' EXIT
"$tool" service-account "$keys/sa.json"
email=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).client_email)' \
  "$keys/sa.json")
# The same account with another key: what fakecloud must refuse.
"$tool" service-account "$keys/impostor.json" --email "$email"
"$tool" authorized-user "$keys/user.json"
jwt=$("$tool" assertion "$keys/sa.json")

start_fakecloud "$fakecloud" --gcp-service-account "$keys/sa.json" \
  --gcp-authorized-user "$keys/user.json"
# start_fakecloud's clean-up replaced ours: do both.
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi; rm -rf "$dir" "$keys"' EXIT
run_node_check env FAKECLOUD_URL="http://127.0.0.1:$port" GCE_METADATA_HOST="127.0.0.1:$port" \
  KEY_FILE="$keys/sa.json" IMPOSTOR_FILE="$keys/impostor.json" USER_FILE="$keys/user.json" \
  SKYD_JWT="$jwt" node "$here/check.mjs"
