#!/usr/bin/env bash
# Many supervised jobs at once on AWS, against fakecloud's virtual nodes (EC2 Query API with SigV4
# checks, pinned TLS to every node): N spot jobs submitted in one `sky jobs launch --num-jobs N`,
# all RUNNING, then a kill -9 of skyd and a restart, then a cancel of every job. One row per N:
#   - skyd's RSS idle and with all N RUNNING (40 s after the last), and the difference per job;
#   - skyd's and fakecloud's CPU seconds until all RUNNING (fakecloud plays every node's skylet);
#   - time from the submit to all N RUNNING;
#   - `sky jobs queue` (the latest 50) latency, p50 of 5, with all N RUNNING;
#   - kill -9 and restart: time until the API answers, until every job's machines are adopted
#     (described running by EC2), and until every job is supervised again (its nodes answered
#     that they run its attempt: "re-attached"), and the mutating EC2 calls the restart made;
#   - time from `sky jobs cancel -a` to no job open.
# Ends with a check: every job RUNNING before the cancel, none FAILED_PRECHECKS, all CANCELLED
# after it, and no instance left.
#   bench/scale_bench.sh [BUILD_DIR] [N...]        (default: build 1000)
# Prints to stderr the CPU seconds skyd, fakecloud and PostgreSQL spent in each phase (launch to
# all RUNNING, restart to all supervised, cancel-all).
# SKYD_BENCH_ENV: extra environment for skyd (e.g. "MALLOC_ARENA_MAX=2"); SKYD_BENCH_HEAPTRACK=1
# runs skyd under heaptrack (its file lands in the bench directory, which is then kept);
# SKYD_BENCH_PERF=1 records skyd's phases with `perf record` there (also kept), =restart (or launch,
# quiet, cancel) only that phase; SKYD_BENCH_PERF_OF=fakecloud profiles fakecloud instead;
# SKYD_BENCH_EC2_RPS: skyd's EC2 request rate (default 1000 per second); SKYD_BENCH_LAUNCH_SLOTS:
# its max_launches_in_flight (default 1024); SKYD_BENCH_POLL_WAIT: its log_poll_wait (e.g. 20s);
# SKYD_BENCH_POLLS_PER_SECOND: its log_polls_per_second (0: the window stays log_poll_wait);
# SKYD_BENCH_REATTACH_SLOTS: its max_reattachments_in_flight (default skyd's, 1024).
# SKYD_BENCH_FAKECLOUD_SHARDS: fakecloud's --shards (default: one per core). SKYD_BENCH_LOG_LEVEL:
# skyd's log_level (default warn; its log is $dir/skyd.stderr, kept with SKYD_BENCH_KEEP=1).
# SKYD_BENCH_TRIM=1 also reports skyd's RSS after a malloc_trim(0) (through gdb) and its sockets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
key=AKIDBENCHMARK000
secret=bench-secret-key-0123456789

trap 'kill -TERM $(jobs -p) 2>/dev/null || true; wait' EXIT
# Two long polls per running node: 10,000 jobs need more than 20,000 descriptors in skyd and in
# fakecloud, which raise their soft limits to this hard one (raising it needs root).
ulimit -Hn 1048576 2>/dev/null || true

# shellcheck source=bench/cloud_recovery_common.sh
source "$root/bench/cloud_recovery_common.sh"
build=${1:-build}
shift || true
counts=("${@:-1000}")

now_ms() { date +%s%3N; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
mutating_calls() {  # every EC2 call fakecloud answered but the Describe* ones
  curl -s "$1/_admin/stats" | jq '[.calls | to_entries[] | select(.key | startswith("Describe") | not) | .value] | add // 0'
}
# The queue's totals (one summary query, not N jobs' JSON): "<open tasks by status> <total jobs>".
open_count() {
  local summary
  until summary=$(curl -sf --unix-socket "$SKYD_SOCKET" \
    'http://skyd/v1/jobs?all_users=1&limit=1&summary=1') && [ -n "$summary" ]; do
    echo "the queue's totals did not come; asking again" >&2
    sleep 1
  done
  jq -r --arg s "$1" '"\(.status_counts[$s] // 0) \(.total - ([.status_counts[]] | add // 0))"' <<<"$summary"
}
# One metric's value from skyd's /metrics (0 when absent): cheaper at 10,000 jobs than a full
# `sky jobs queue -a -o json` or a scan of every job's log.
metric() {
  curl -sf --unix-socket "$SKYD_SOCKET" http://skyd/metrics |
    awk -v name="$1" '$1 == name {print $2; found=1} END {if (!found) print 0}'
}
count_status() { metric "skyd_jobs{status=\"$1\"}"; }  # jobs in one status, counted in SQL

start_skyd() {
  local wrap=()
  # Only the first start is profiled: the table's RSS with all jobs RUNNING is its steady state.
  [ -n "${SKYD_BENCH_HEAPTRACK:-}" ] && [ "$1" = 1 ] && wrap=(heaptrack -o "$dir/heaptrack.skyd")
  # shellcheck disable=SC2086  # SKYD_BENCH_ENV is a list of NAME=VALUE words
  env AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_EC2_METADATA_DISABLED=true \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent ${SKYD_BENCH_ENV:-} \
    "${wrap[@]}" "$build/daemon/skyd" --state-dir "$dir" --config "$dir/config.yaml" \
    2>>"$dir/skyd.stderr" &
  skyd_pid=$!
  heaptrack_pid=
  if [ ${#wrap[@]} -gt 0 ]; then  # heaptrack's child is skyd
    until skyd_pid=$(pgrep -P "$!" -x skyd); do sleep 0.05; done
    skyd_pid=${skyd_pid%%$'\n'*}
    heaptrack_pid=$!
  fi
  until "$build/cli/sky" daemon status >/dev/null 2>&1; do sleep 0.05; done
}

# CPU seconds of the embedded PostgreSQL (its postmaster and backends).
postgres_cpu_s() {
  local postmaster total=0
  postmaster=$(head -1 "$dir/postgres/data/postmaster.pid")
  for pid in "$postmaster" $(pgrep -P "$postmaster"); do
    total=$(echo "$total + $(cpu_s "$pid" 2>/dev/null || echo 0)" | bc)
  done
  echo "$total"
}
# Where one phase's CPU went (to stderr: skyd, fakecloud, PostgreSQL); with SKYD_BENCH_PERF=1
# also skyd's profile of it, perf.<phase>.data in the kept bench directory.
perf_pid=
start_profile() {
  phase_t0=$(now_ms) phase_cpu0=("$(cpu_s "$skyd_pid")" "$(cpu_s "$cloud_pid")" "$(postgres_cpu_s)")
  case "${SKYD_BENCH_PERF:-}" in "" | 0) return 0 ;; 1 | "$1") ;; *) return 0 ;; esac
  # shellcheck disable=SC2034  # read by cancel_and_check_nothing_left
  SKYD_BENCH_KEEP=1
  # DWARF call graphs: a Release build keeps no frame pointers.
  # SKYD_BENCH_PERF_OF=fakecloud profiles the test double instead (perf.fakecloud.<phase>.data).
  local profiled=$skyd_pid data=$dir/perf.$1.data
  if [ "${SKYD_BENCH_PERF_OF:-skyd}" = fakecloud ]; then
    profiled=$cloud_pid data=$dir/perf.fakecloud.$1.data
  fi
  perf record -q -F 199 --call-graph dwarf,16384 -p "$profiled" -o "$data" 2>/dev/null &
  perf_pid=$!
  # The connections skyd opens in the phase (each to a node is a TLS handshake), and the full
  # handshakes among them when a probe on certificate verification is set up beforehand:
  #   perf probe -x /usr/lib/x86_64-linux-gnu/libcrypto.so.3 X509_verify_cert
  local events=syscalls:sys_enter_connect
  if perf probe -l 2>/dev/null | grep -q 'probe_libcrypto:X509_verify_cert '; then
    events+=,probe_libcrypto:X509_verify_cert
  fi
  perf stat -x, -e "$events" -p "$skyd_pid" -o "$dir/connects.$1" &
  connects_pid=$!
}
stop_profile() {
  echo "$1 of $jobs jobs: $(echo "($(now_ms) - $phase_t0) / 1000" | bc -l | xargs printf '%.1f') s;" \
    "CPU s: skyd $(echo "$(cpu_s "$skyd_pid") - ${phase_cpu0[0]}" | bc)," \
    "fakecloud $(echo "$(cpu_s "$cloud_pid") - ${phase_cpu0[1]}" | bc)," \
    "PostgreSQL $(echo "$(postgres_cpu_s) - ${phase_cpu0[2]}" | bc)" >&2
  # One scrape (each reads the job counts from the database), the three kinds from it.
  curl -sf --unix-socket "$SKYD_SOCKET" http://skyd/metrics | awk -v phase="$1" '
    /^skyd_tls_handshakes_total\{kind="/ { split($1, k, "\""); n[k[2]] = $2 }
    /^skyd_tls_sessions_dropped_total\{reason="/ { split($1, r, "\""); d[r[2]] = $2 }
    END { printf "%s: TLS handshakes skyd made with nodes since it started: resumed %d, full %d, " \
                 "refused %d; sessions dropped: unreachable %d, unused %d\n", phase, \
                 n["resumed"], n["full"], n["refused"], d["unreachable"], d["unused"] }' >&2
  [ -n "$perf_pid" ] || return 0
  if kill -INT "$perf_pid" "$connects_pid"; then wait "$perf_pid" "$connects_pid" || true; fi
  local verified
  verified=$(grep -m1 X509_verify_cert "$dir/connects.$1" | cut -d, -f1 || true)
  echo "$1: skyd opened $(grep -m1 sys_enter_connect "$dir/connects.$1" | cut -d, -f1)" \
    "connections${verified:+, $verified full TLS handshakes}" >&2
  perf_pid=
}

stop_skyd_pid() { [ -n "${heaptrack_pid:-}" ] && echo "$heaptrack_pid" || echo "$skyd_pid"; }

run_one() {
  local jobs=$1
  dir=$(mktemp -d /tmp/skyd-scalebench.XXXXXX)
  chmod 755 "$dir"
  # shellcheck disable=SC2034  # read by cancel_and_check_nothing_left
  [ -n "${SKYD_BENCH_HEAPTRACK:-}" ] && SKYD_BENCH_KEEP=1
  # Virtual nodes that boot in 100 ms and whose tasks run until cancelled.
  printf '{"virtual_boot_ms": 100, "virtual_task_ms": 100000000}\n' >"$dir/chaos.json"
  "$build/tests/fakecloud/fakecloud" --mode virtual --port-file "$dir/ports" --config "$dir/chaos.json" \
    --access-key "$key" --secret-key "$secret" --log-level warn \
    --shards "${SKYD_BENCH_FAKECLOUD_SHARDS:-0}" 2>"$dir/fakecloud.log" &
  cloud_pid=$!
  local api_port virtual_port
  await_fakecloud_ports
  local cloud="http://127.0.0.1:$api_port"

  export SKYD_SOCKET="$dir/skyd.sock"
  # fakecloud does not throttle: let skyd call EC2 as fast as it likes, so the row measures skyd.
  printf 'log_level: %s\ndb_pool_size: 8\naws_enabled: true\naws_endpoint: "%s"\naws_regions: "us-east-1"\naws_skylet_port: %s\naws_requests_per_second: %s\ncatalog_dir: %s\n' \
    "${SKYD_BENCH_LOG_LEVEL:-warn}" "$cloud" "$virtual_port" "${SKYD_BENCH_EC2_RPS:-1000}" \
    "$root/tests/fakecloud/catalog" \
    >"$dir/config.yaml"
  # 1,024 launches in flight (skyd's default is 256, SkyPilot's 512): with 256 a launch's ~2 s
  # (boot, the state poll, the node's first answer) made 10,000 take 40 waves, not the CPU.
  echo "max_launches_in_flight: ${SKYD_BENCH_LAUNCH_SLOTS:-1024}" >>"$dir/config.yaml"
  [ -z "${SKYD_BENCH_POLL_WAIT:-}" ] || echo "log_poll_wait: $SKYD_BENCH_POLL_WAIT" >>"$dir/config.yaml"
  [ -z "${SKYD_BENCH_POLLS_PER_SECOND:-}" ] ||
    echo "log_polls_per_second: $SKYD_BENCH_POLLS_PER_SECOND" >>"$dir/config.yaml"
  [ -z "${SKYD_BENCH_REATTACH_SLOTS:-}" ] ||
    echo "max_reattachments_in_flight: $SKYD_BENCH_REATTACH_SLOTS" >>"$dir/config.yaml"
  start_skyd 1
  printf 'name: spot\nresources:\n  cloud: aws\n  region: us-east-1\n  instance_type: m6i.large\n  use_spot: true\nrun: train\n' \
    >"$dir/spot.yaml"
  sleep 2
  local rss_idle cpu0 cloud_cpu0 t0 t_running
  rss_idle=$(rss_kib "$skyd_pid")
  cpu0=$(cpu_s "$skyd_pid")
  cloud_cpu0=$(cpu_s "$cloud_pid")
  t0=$(now_ms)
  start_profile launch
  local left batch
  for ((left = jobs; left > 0; left -= batch)); do  # at most 10,000 copies per submission
    batch=$((left < 10000 ? left : 10000))
    "$build/cli/sky" jobs launch -y -d --num-jobs "$batch" "$dir/spot.yaml" >/dev/null
  done
  local running ended
  while read -r running ended < <(open_count RUNNING) && [ "$running" -lt "$jobs" ]; do
    [ "$ended" = 0 ] || fail "$ended jobs ended before all were RUNNING"
    sleep 1
  done
  t_running=$(($(now_ms) - t0))
  stop_profile launch
  echo "launch: EC2 calls by action: $(curl -s "$cloud/_admin/stats" | jq -c .calls)" >&2
  local cpu_run cloud_cpu_run rss_run
  cpu_run=$(echo "$(cpu_s "$skyd_pid") - $cpu0" | bc)
  cloud_cpu_run=$(echo "$(cpu_s "$cloud_pid") - $cloud_cpu0" | bc)
  # Steady state: the long polls run, and what the launches left idle in the connection pools
  # has passed its 30 s expiry and been closed.
  # What watching N quiet nodes costs (one long poll each, answered every log_poll_wait).
  start_profile quiet
  sleep 40
  stop_profile quiet
  rss_run=$(rss_kib "$skyd_pid")
  echo "steady state, $jobs nodes watched: skyd's descriptors" \
    "$(find "/proc/$skyd_pid/fd" -mindepth 1 | wc -l)" >&2
  if [ -n "${SKYD_BENCH_TRIM:-}" ]; then  # how much of the RSS is freed memory malloc still holds
    gdb -p "$skyd_pid" -batch -ex 'call (int) malloc_trim(0)' >/dev/null 2>&1
    echo "RSS with all RUNNING: $((rss_run / 1024)) MiB, after malloc_trim(0): $(($(rss_kib "$skyd_pid") / 1024)) MiB; TCP sockets: $(ss -tnp | grep -c "pid=$skyd_pid,")" >&2
  fi
  local latencies=()
  for _ in 1 2 3 4 5; do
    local q0
    q0=$(now_ms)
    "$build/cli/sky" jobs queue >/dev/null
    latencies+=($(($(now_ms) - q0)))
  done
  local queue_p50
  queue_p50=$(printf '%s\n' "${latencies[@]}" | percentile 50)
  [ "$(count_status RUNNING)" = "$jobs" ] || fail "not every job RUNNING before the restart"

  # kill -9 and restart: the API first, then every job back under its runner.
  local calls_before t1 t_api t_adopted= t_supervised calls_after
  calls_before=$(mutating_calls "$cloud")
  kill -KILL "$skyd_pid"
  wait "$(stop_skyd_pid)" 2>/dev/null || true  # heaptrack writes its file out and ends
  # The embedded PostgreSQL outlives a kill -9 of skyd; skyd's next start takes it over.
  t1=$(now_ms)
  start_skyd 2
  t_api=$(($(now_ms) - t1))
  start_profile restart
  # Both counts from one scrape; the way there goes to stderr.
  local progress=() counts adopted_now=0 reattached_now=0
  while [ "$reattached_now" -lt "$jobs" ]; do
    sleep 0.2
    counts=$(curl -sf --unix-socket "$SKYD_SOCKET" http://skyd/metrics | awk '
      $1 == "skyd_tasks_adopted_total" {a = $2} $1 == "skyd_tasks_reattached_total" {r = $2}
      END {print a + 0, r + 0}') || continue
    read -r adopted_now reattached_now <<<"$counts"
    [ -n "$t_adopted" ] || [ "$adopted_now" -lt "$jobs" ] || t_adopted=$(($(now_ms) - t1))
    progress+=("$(echo "($(now_ms) - $t1) / 1000" | bc -l | xargs printf '%.1f') s: $adopted_now/$reattached_now")
  done
  echo "restart, adopted/re-attached: ${progress[*]}" >&2
  t_supervised=$(($(now_ms) - t1))
  stop_profile restart
  calls_after=$(($(mutating_calls "$cloud") - calls_before))
  [ "$(count_status RUNNING)" = "$jobs" ] || fail "not every job RUNNING after the restart"
  local rss_restarted
  sleep 10
  rss_restarted=$(rss_kib "$skyd_pid")

  local t2 t_cancel
  t2=$(now_ms)
  start_profile cancel
  "$build/cli/sky" jobs cancel -a -y >/dev/null
  for _ in $(seq 1 3000); do
    read -r _ ended < <(open_count RUNNING)
    [ "$ended" -ge "$jobs" ] && break
    sleep 0.2
  done
  t_cancel=$(($(now_ms) - t2))
  stop_profile cancel
  local cancelled
  cancelled=$(count_status CANCELLED)
  [ "$cancelled" = "$jobs" ] || fail "$cancelled of $jobs jobs CANCELLED"
  [ "$(count_status FAILED_PRECHECKS)" = 0 ] || fail "jobs in FAILED_PRECHECKS"

  printf '| %s | %.1f / %.1f | %s | %.1f | %.1f / %.1f | %.1f | %s | %.1f / %.1f / %.1f | %s | %.1f |\n' \
    "$jobs" "$(echo "$rss_idle / 1024" | bc -l)" "$(echo "$rss_run / 1024" | bc -l)" \
    "$(((rss_run - rss_idle) / jobs))" "$(echo "$rss_restarted / 1024" | bc -l)" \
    "$cpu_run" "$cloud_cpu_run" "$(echo "$t_running / 1000" | bc -l)" "$queue_p50" \
    "$(echo "$t_api / 1000" | bc -l)" "$(echo "$t_adopted / 1000" | bc -l)" \
    "$(echo "$t_supervised / 1000" | bc -l)" "$calls_after" \
    "$(echo "$t_cancel / 1000" | bc -l)"
  skyd_pid=$(stop_skyd_pid)
  cancel_and_check_nothing_left "$skyd_pid" "$cloud_pid" "$cloud/_admin/stats"
  heaptrack_pid=
}

# shellcheck disable=SC2016  # the backquotes are Markdown
printf '| jobs | skyd RSS idle / all RUNNING (MiB) | RSS per job (KiB) | RSS after restart (MiB) | CPU skyd / fakecloud to all RUNNING (s) | submit -> all RUNNING (s) | `sky jobs queue` p50 (ms) | restart -> API / all adopted / all supervised (s) | mutating EC2 calls after restart | cancel-all (s) |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in "${counts[@]}"; do run_one "$n"; done
echo "check: every job RUNNING before and after the restart, none FAILED_PRECHECKS, all CANCELLED; no instance left"
