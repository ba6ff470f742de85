#!/usr/bin/env bash
# Debian's rclone (1.60, its "google cloud storage" backend, i.e. Google's Go client) against a
# fresh fakecloud's Cloud Storage: credentials as a service-account key whose token_uri is
# fakecloud's token endpoint (the JWT grant), and as an OAuth token with a refresh token and a
# client (the refresh grant); mkdir, copy (a small object, and one larger than the Go client's
# 16 MiB chunk, so a resumable upload), ls, cat (whole and a range), delete, purge.
# Usage: run_rclone_gcs_check.sh FAKECLOUD_BINARY GCP_KEY_TOOL. Exit 77 (skipped) without rclone.
set -euo pipefail
fakecloud=$1
tool=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v rclone >/dev/null; then
  echo "SKIP: rclone is not installed (scripts/install-deps.sh installs Debian's rclone)"
  exit 77
fi
# shellcheck source=../start_fakecloud.sh
. "$here/../start_fakecloud.sh"
keys=$(mktemp -d /tmp/rclone-gcs-keys.XXXXXX)
trap 'rm -rf "$keys"' EXIT
"$tool" service-account "$keys/sa.json"
"$tool" authorized-user "$keys/user.json"
start_fakecloud "$fakecloud" --gcp-service-account "$keys/sa.json" \
  --gcp-authorized-user "$keys/user.json"
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi; rm -rf "$dir" "$keys"' EXIT
base="http://127.0.0.1:$port"

fail() {
  echo "FAIL: $*"
  echo "--- fakecloud log"; tail -n 40 "$dir/fakecloud.log"
  exit 1
}

# The key file rclone reads: the same key, its token_uri at fakecloud.
sed "s#https://oauth2.googleapis.com/token#$base/token#" "$keys/sa.json" >"$keys/client.json"
project=$(jq -r .project_id "$keys/sa.json")
touch "$dir/rclone.conf"
export RCLONE_CONFIG="$dir/rclone.conf"
export RCLONE_CONFIG_FAKEGCS_TYPE="google cloud storage"
# rclone 1.60 hands the endpoint to Google's Go client as its base path: the URL with
# /storage/v1/ (uploads then go to /upload/storage/v1/ on the same host).
export RCLONE_CONFIG_FAKEGCS_ENDPOINT="$base/storage/v1/"
export RCLONE_CONFIG_FAKEGCS_PROJECT_NUMBER="$project"
RCLONE_CONFIG_FAKEGCS_SERVICE_ACCOUNT_CREDENTIALS=$(cat "$keys/client.json")
export RCLONE_CONFIG_FAKEGCS_SERVICE_ACCOUNT_CREDENTIALS
# Never -vv: rclone's debug output prints the credentials.
rc() { rclone --retries 1 --low-level-retries 2 "$@"; }

mkdir -p "$dir/data"
printf 'hello from rclone\n' >"$dir/data/small.txt"
head -c $((20 * 1024 * 1024 + 12345)) /dev/urandom >"$dir/data/large.bin"

rc mkdir fakegcs:rclone-check || fail "mkdir"
[ "$(curl -sf "$base/_admin/gcs/buckets" | jq -r '.buckets[0].project')" = "$project" ] ||
  fail "the bucket is not in $project"
rc copy "$dir/data" fakegcs:rclone-check/dir || fail "copy"
listing=$(rc ls fakegcs:rclone-check) || fail "ls"
echo "$listing"
grep -qE "^ +18 dir/small.txt$" <<<"$listing" || fail "ls does not show small.txt"
grep -qE "^ +$((20 * 1024 * 1024 + 12345)) dir/large.bin$" <<<"$listing" ||
  fail "ls does not show large.bin"
[ "$(rc cat fakegcs:rclone-check/dir/small.txt)" = "hello from rclone" ] || fail "cat small.txt"
rc cat fakegcs:rclone-check/dir/large.bin | cmp - "$dir/data/large.bin" || fail "cat large.bin"
cmp <(rc cat --offset 1000000 --count 4096 fakegcs:rclone-check/dir/large.bin) \
  <(tail -c +1000001 "$dir/data/large.bin" | head -c 4096) || fail "cat of a range"
# rclone checks the MD5 it computed against the object's md5Hash.
rc check "$dir/data" fakegcs:rclone-check/dir || fail "check (md5 of both sides)"
[ "$(curl -sf "$base/_admin/gcs/stats" | jq -r '.calls["objects.resume"] // 0')" -gt 0 ] ||
  fail "large.bin did not go through a resumable upload"
rc delete fakegcs:rclone-check/dir/small.txt || fail "delete"
[ "$(rc ls fakegcs:rclone-check | wc -l)" = 1 ] || fail "small.txt is still listed"

# The refresh grant as rclone sends it (form POST with client_id and client_secret) to a token
# URL, starting from an expired token.
client_id=$(jq -r .client_id "$keys/user.json")
client_secret=$(jq -r .client_secret "$keys/user.json")
refresh_token=$(jq -r .refresh_token "$keys/user.json")
token=$(jq -nc --arg r "$refresh_token" \
  '{access_token:"ya29.expired",token_type:"Bearer",refresh_token:$r,expiry:"2000-01-01T00:00:00Z"}')
listing=$(env -u RCLONE_CONFIG_FAKEGCS_SERVICE_ACCOUNT_CREDENTIALS \
  RCLONE_CONFIG_FAKEGCS_CLIENT_ID="$client_id" RCLONE_CONFIG_FAKEGCS_CLIENT_SECRET="$client_secret" \
  RCLONE_CONFIG_FAKEGCS_TOKEN_URL="$base/token" RCLONE_CONFIG_FAKEGCS_TOKEN="$token" \
  rclone --retries 1 --low-level-retries 1 ls fakegcs:rclone-check) || fail "ls with a refresh token"
grep -q "dir/large.bin" <<<"$listing" || fail "ls with a refresh token does not show large.bin"
# A refresh token fakecloud does not know is refused: rclone fails.
bad_token=$(jq -nc '{access_token:"ya29.expired",token_type:"Bearer",refresh_token:"1//unknown",expiry:"2000-01-01T00:00:00Z"}')
if env -u RCLONE_CONFIG_FAKEGCS_SERVICE_ACCOUNT_CREDENTIALS \
  RCLONE_CONFIG_FAKEGCS_CLIENT_ID="$client_id" RCLONE_CONFIG_FAKEGCS_CLIENT_SECRET="$client_secret" \
  RCLONE_CONFIG_FAKEGCS_TOKEN_URL="$base/token" RCLONE_CONFIG_FAKEGCS_TOKEN="$bad_token" \
  rclone --retries 1 --low-level-retries 1 ls fakegcs:rclone-check >/dev/null 2>&1; then
  fail "an unknown refresh token was accepted"
fi

rc purge fakegcs:rclone-check || fail "purge"
[ "$(curl -sf "$base/_admin/gcs/buckets" | jq '.buckets | length')" = 0 ] ||
  fail "purge left the bucket"
echo "rclone GCS check passed"
