#!/usr/bin/env bash
# tests/pg.sh start|stop DIR [PORT]: a throwaway PostgreSQL server for the pg tests.
# Unix socket only (in DIR; PORT, default 54329, only names the socket file), trust auth,
# superuser "postgres", database "postgres". Works as root (the server runs as the `postgres`
# user through runuser; DIR must be on a path that user can traverse, e.g. under /tmp) and as a
# normal user. `start` first stops a server left in DIR by an earlier run. Durability is off
# (fsync, synchronous_commit, full_page_writes) unless SKYD_PG_FSYNC=1 (the benchmark sets it).
# Connect with: host=DIR port=PORT user=postgres dbname=postgres
set -euo pipefail

action=${1:?usage: pg.sh start|stop DIR [PORT]}
dir=${2:?usage: pg.sh start|stop DIR [PORT]}
port=${3:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)

as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_server() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

case "$action" in
  start)
    stop_server
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 0700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
    as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${SKYD_PG_FSYNC:-0}" = 1 ]; then durability=""; fi
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-k $dir -p $port -c listen_addresses= -c max_connections=200 $durability" start \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    stop_server
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
