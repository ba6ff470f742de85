# Sourced by the fakecloud check scripts: `start_fakecloud BINARY [FLAG...]` starts a virtual-mode
# fakecloud on a free port in a fresh temporary directory and sets `dir`, `pid` and `port`; the
# process and the directory go when the script exits.
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
