# Sourced by the fakecloud check scripts: `start_fakecloud BINARY [FLAG...]` starts a virtual-mode
# fakecloud on a free port in a fresh temporary directory and sets `dir`, `pid` and `port`; the
# process and the directory go when the script exits. `require_node_check DIR PACKAGE` skips the
# check (exit 77) without node or the npm package; `run_node_check COMMAND...` shows fakecloud's
# log when the check fails.
require_node_check() {
  if ! command -v node >/dev/null; then
    echo "SKIP: node is not installed (scripts/install-deps.sh installs nodejs and npm)"
    exit 77
  fi
  if [ ! -d "$1/node_modules/$2" ]; then
    echo "SKIP: $2 is not installed (run: npm ci --prefix $1)"
    exit 77
  fi
}

run_node_check() {
  if ! "$@"; then
    echo "--- fakecloud log"; tail -n 50 "$dir/fakecloud.log"; exit 1
  fi
}

start_fakecloud() {
  local binary=$1
  shift
  dir=$(mktemp -d /tmp/fakecloud-check.XXXXXX)
  pid=
  trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; fi; rm -rf "$dir"' EXIT
  mkfifo "$dir/ports"
  exec 3<>"$dir/ports"  # read-write: opening does not wait for fakecloud
  "$binary" --mode virtual --port 0 --port-file "$dir/ports" "$@" >"$dir/fakecloud.log" 2>&1 &
  pid=$!
  if ! read -r -t 20 port <&3; then
    echo "fakecloud did not start:"; cat "$dir/fakecloud.log"; exit 1
  fi
}
