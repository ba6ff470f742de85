#!/usr/bin/env bash
# The chaos run: jobs of every kind at once (successes, user failures with restarts, spot jobs
# that are preempted, cancels at random moments, pipelines) on fakecloud's virtual EC2 nodes and
# on the local provider, while EC2 calls fail (5xx, throttling, no capacity, lost answers), skyd
# is killed (-9) and restarted, stopped and started (SIGTERM), and its embedded PostgreSQL server
# is killed (-9). At the end it checks what skyd promises (docs/operations.md, "What survives
# which fault"):
#   1. every job in its expected final state;
#   2. never two live attempts of one task (fakecloud's attempt_overlaps; the flock in each local
#      task's bucket);
#   3. no instance and no local machine left;
#   4. every job_events row a legal transition from the row before it (docs/job-states.md);
#   5. no line of a finished attempt missing from `sky jobs logs`.
# Prints a table; exits 1 when a check fails, keeping the run's directory (its path is printed).
#
#   bench/chaos.sh [--build DIR] [--jobs N] [--kills N] [--pg-kills N] [--sigterms N]
#                  [--rate JOBS_PER_S] [--seed N] [--keep] [--ci]
# --ci is the short variant ctest runs (chaos_ci): 60 jobs, 10 kills, 1 PostgreSQL kill, 2 SIGTERM
# cycles. The seed is printed; SKYD_CHAOS_SEED (or --seed) replays a run's choices.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=build
jobs=1000
kills=100
pg_kills=5
sigterms=10
rate=2.5
seed=${SKYD_CHAOS_SEED:-$(( $(date +%s%N) / 1000 % 100000 ))}
keep=0
drain_limit=900
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --kills) kills=$2; shift ;;
    --pg-kills) pg_kills=$2; shift ;;
    --sigterms) sigterms=$2; shift ;;
    --rate) rate=$2; shift ;;
    --seed) seed=$2; shift ;;
    --keep) keep=1 ;;
    --ci) jobs=60; kills=10; pg_kills=1; sigterms=2; rate=1.5; drain_limit=120 ;;
    *) echo "usage: $0 [--build DIR] [--jobs N] [--kills N] [--pg-kills N] [--sigterms N] [--rate R] [--seed N] [--keep] [--ci]" >&2
       exit 2 ;;
  esac
  shift
done
build=$(cd "$build" && pwd) || exit 2
for tool in jq curl psql flock; do
  command -v $tool >/dev/null || { echo "chaos: $tool is missing" >&2; exit 77; }
done
here=$(cd "$(dirname "$0")/.." && pwd)

dir=$(mktemp -d /tmp/skyd-chaos.XXXXXX)
chmod 755 "$dir"
state=$dir/state
mkdir -p "$state"
chmod 755 "$state"
sock=$state/skyd.sock
key=AKIDCHAOS0000000
secret=chaos-secret-key-0123456789
started=$(date +%s.%N)
echo "chaos: seed=$seed jobs=$jobs kills=$kills pg_kills=$pg_kills sigterms=$sigterms rate=$rate/s dir=$dir"

now_ms() { date +%s%3N; }
log() { echo "$(date +%T.%3N) $*" >>"$dir/chaos.log"; }
sky() { "$build/cli/sky" --socket "$sock" "$@"; }
api() { curl -s --max-time 5 --unix-socket "$sock" "http://skyd$1"; }
cloud_admin() { curl -s --max-time 5 "$@"; }
# A seeded generator of our own ($RANDOM does not advance in the subshells of $(...)): rand A B
# sets R to an integer in [A, B].
rng=$seed
rand() {
  rng=$(( (rng * 1103515245 + 12345) % 2147483648 ))
  R=$(( (rng >> 8) % ($2 - $1 + 1) + $1 ))
}

fakecloud_pid=
cleanup() {
  local code=$?
  # What this run started: the supervisor, skyd (which stops its PostgreSQL), fakecloud, and the
  # local machines' skylets (their own sessions, so skyd's end does not take them).
  [ -n "${supervisor_pid:-}" ] && kill "$supervisor_pid" 2>/dev/null
  if [ -s "$dir/skyd.pid" ] && kill -0 "$(cat "$dir/skyd.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$dir/skyd.pid")"
    for _ in $(seq 1 300); do kill -0 "$(cat "$dir/skyd.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  local postmaster
  postmaster=$(head -1 "$state/postgres/data/postmaster.pid" 2>/dev/null)
  [ -n "$postmaster" ] && kill -0 "$postmaster" 2>/dev/null && kill -TERM "$postmaster"
  for pid in $(pgrep -f "$state/local" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  [ -n "$fakecloud_pid" ] && kill -TERM "$fakecloud_pid" 2>/dev/null && wait "$fakecloud_pid" 2>/dev/null
  if [ "$code" = 0 ] && [ "$keep" = 0 ]; then
    rm -rf "$dir"
  else
    echo "chaos: the run's directory is kept: $dir (chaos.log, skyd.log, fakecloud.log, state/)"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- fakecloud: virtual nodes, ~10% of EC2 calls faulted ------------------------------------
cat >"$dir/cloud.json" <<'EOF'
{
  "faults": [
    {"action": "RunInstances", "zone": "us-east-1a", "code": "InsufficientInstanceCapacity", "rate": 0.5},
    {"action": "RunInstances", "market": "spot", "zone": "us-east-1b", "code": "InsufficientInstanceCapacity", "rate": 0.3},
    {"action": "RunInstances", "lose_answer_ms": 1500, "rate": 0.05},
    {"action": "TerminateInstances", "lose_answer_ms": 1500, "rate": 0.03},
    {"action": "DescribeInstances", "lose_answer_ms": 1500, "rate": 0.01}
  ],
  "throttle_rate": 0.03,
  "error_5xx_rate": 0.03,
  "virtual_boot_ms": 300,
  "virtual_task_ms": 3000,
  "virtual_exit_after_notice_ms": 300
}
EOF
"$build/tests/fakecloud/fakecloud" --mode virtual --port-file "$dir/ports" --config "$dir/cloud.json" \
  --access-key "$key" --secret-key "$secret" --seed "$seed" --log-level info 2>"$dir/fakecloud.log" &
fakecloud_pid=$!
for _ in $(seq 1 200); do [ -s "$dir/ports" ] && [ "$(wc -l <"$dir/ports")" -ge 2 ] && break; sleep 0.05; done
cloud="http://127.0.0.1:$(sed -n 1p "$dir/ports")"
virtual_port=$(sed -n 2p "$dir/ports")

# ---- skyd: fast timings, EC2 through fakecloud, calls that time out at 500 ms ------------------
cat >"$dir/config.yaml" <<EOF
shards: 2
log_level: info
launch_backoff: 200ms
node_lost_after: 5s
failure_check_grace: 200ms
local_preemption_grace: 1s
spot_notice_signal: TERM
skylet_binary: $build/daemon/skylet
aws_enabled: true
aws_endpoint: "$cloud"
aws_regions: us-east-1
catalog_dir: $root/tests/fakecloud/catalog
aws_skylet_port: $virtual_port
aws_request_timeout: 500ms
EOF

skyd_ready() {  # waits until skyd answers and reports its database; 0 when it does
  local limit=$1 deadline=$(( $(now_ms) + $1 * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    [ "$(api /v1/health | jq -r '.database // .status // empty' 2>/dev/null)" = ok ] && return 0
    sleep 0.1
  done
  return 1
}

start_skyd() {
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_EC2_METADATA_DISABLED=true \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    "$build/daemon/skyd" --state-dir "$state" --config "$dir/config.yaml" 2>>"$dir/skyd.log" &
  echo $! >"$dir/skyd.pid"
}

# ---- the supervisor: kills and restarts, spread over the submissions ---------------------------
# It owns skyd from here on; the main loop only talks to it through the socket. Each event is
# counted in $dir/events (one line per event: kind and what followed).
supervise() {
  trap - EXIT INT TERM
  local events=() i n total span gap pid postmaster code
  start_skyd
  skyd_ready 60 || echo "start-unrecovered" >>"$dir/events"
  touch "$dir/supervisor.ready"
  for _ in $(seq 1 "$kills"); do events+=(kill); done
  for _ in $(seq 1 "$pg_kills"); do events+=(pg); done
  for _ in $(seq 1 "$sigterms"); do events+=(term); done
  total=${#events[@]}
  for ((i = total - 1; i > 0; i--)); do  # a seeded shuffle
    rand 0 "$i"; n=$R
    local t=${events[$i]}; events[$i]=${events[$n]}; events[$n]=$t
  done
  span=$(awk -v j="$jobs" -v r="$rate" 'BEGIN { printf "%d", j / r * 1000 }')
  gap=$(( total > 0 ? span / (total + 1) : 0 ))
  for kind in "${events[@]}"; do
    rand 50 150
    sleep "$(awk -v g="$gap" -v j="$R" 'BEGIN { printf "%.3f", g * j / 100000 }')"
    pid=$(cat "$dir/skyd.pid")
    local since
    since=$(now_ms)
    case $kind in
      kill)
        kill -KILL "$pid"; wait "$pid" 2>/dev/null
        log "event kill -9 skyd pid=$pid"
        rand 0 5; sleep "0.$R"
        start_skyd
        ;;
      term)
        kill -TERM "$pid"
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
        if kill -0 "$pid" 2>/dev/null; then
          echo "term-hung" >>"$dir/events"
          kill -KILL "$pid"
        fi
        wait "$pid"; code=$?
        log "event SIGTERM skyd pid=$pid exit=$code after=$((waited * 100))ms"
        # A stop is clean: exit 0 (not a crash on the way down).
        [ "$code" = 0 ] || echo "term-exit-$code" >>"$dir/events"
        start_skyd
        ;;
      pg)
        postmaster=$(head -1 "$state/postgres/data/postmaster.pid" 2>/dev/null)
        if [ -n "$postmaster" ]; then
          kill -KILL "$postmaster"
          log "event kill -9 postmaster pid=$postmaster"
        fi
        # Back once a new postmaster runs and skyd says its database is ok again.
        local new deadline=$(( $(now_ms) + 60000 ))
        while [ "$(now_ms)" -lt "$deadline" ]; do
          new=$(head -1 "$state/postgres/data/postmaster.pid" 2>/dev/null)
          [ -n "$new" ] && [ "$new" != "$postmaster" ] && kill -0 "$new" 2>/dev/null && break
          sleep 0.1
        done
        log "postmaster after the kill: pid=${new:-none}"
        ;;
    esac
    if skyd_ready 60; then
      echo "$kind $(( $(now_ms) - since ))" >>"$dir/events"
    else
      echo "$kind-unrecovered" >>"$dir/events"
      log "skyd did not come back after $kind"
    fi
  done
  touch "$dir/supervisor.done"
  # The last stop, once the checks that need skyd are done: clean too.
  until [ -e "$dir/stop" ]; do sleep 0.1; done
  pid=$(cat "$dir/skyd.pid")
  kill -TERM "$pid"
  wait "$pid"; code=$?
  log "final SIGTERM skyd pid=$pid exit=$code"
  [ "$code" = 0 ] || echo "term-exit-$code" >>"$dir/events"
}


# ---- the jobs --------------------------------------------------------------------------------
# Kinds, in blocks of 20 (each block holds every kind, in a seeded order):
kinds_block=(aws-ok aws-ok aws-ok aws-spot aws-spot aws-spot aws-cancel
             local-ok local-ok local-ok local-restart local-restart local-restart local-exhaust
             local-spot local-spot local-cancel local-cancel pipe-ok pipe-fail)

# A local task: takes the lock in its bucket for its whole life (a second live attempt would find
# it taken and leave a `violations` file), counts its runs there, prints 200 numbered lines and a
# last one, works STEPS × 0.2 s (its first run FIRST_STEPS × 0.2 s), and fails (exit 1) while its
# run number is at most FAILS. It hears a spot notice (SIGTERM) and dies of it.
local_task() {  # NAME TAG BUCKET STEPS FAILS MAX_RESTARTS USE_SPOT [FIRST_STEPS]
  cat <<EOF
name: $1
resources:
  infra: local
  use_spot: $7
  job_recovery:
    max_restarts_on_errors: $6
file_mounts:
  ~/ckpt:
    name: $3
    mode: MOUNT
envs:
  TAG: $2
  STEPS: "$4"
  FIRST_STEPS: "${8:-$4}"
  FAILS: "$5"
run: |
  B=\$HOME/ckpt
  exec 9>>"\$B/lock"
  if ! flock -n 9; then echo "\$TAG found the lock taken" >>"\$B/violations"; exit 3; fi
  n=\$(( \$(cat "\$B/runs" 2>/dev/null || echo 0) + 1 )); echo \$n >"\$B/runs"
  trap 'exit 143' TERM
  seq -f "\$TAG r\$n line %g" 1 200
  steps=\$STEPS; [ \$n = 1 ] && steps=\$FIRST_STEPS
  i=0; while [ \$i -lt \$steps ]; do sleep 0.2; i=\$((i + 1)); done
  if [ \$n -le \$FAILS ]; then echo "\$TAG r\$n fails"; exit 1; fi
  echo "\$TAG r\$n done"
EOF
}

aws_task() {  # NAME RUN_MS USE_SPOT
  cat <<EOF
name: $1
resources:
  cloud: aws
  region: us-east-1
  instance_type: m6i.large
  use_spot: $3
envs:
  FAKECLOUD_RUN_MS: "$2"
run: train
EOF
}

# plan: one line per job: index kind name expected(final job status) tasks(expected per task)
: >"$dir/plan"
mkdir -p "$dir/yaml"
for ((b = 0; b * 20 < jobs; b++)); do
  order=("${kinds_block[@]}")
  for ((i = 19; i > 0; i--)); do
    rand 0 "$i"; n=$R
    t=${order[$i]}; order[$i]=${order[$n]}; order[$n]=$t
  done
  for ((k = 0; k < 20 && b * 20 + k < jobs; k++)); do
    i=$((b * 20 + k + 1))
    kind=${order[$k]}
    name="c$i-$kind"
    file=$dir/yaml/$i.yaml
    action=none
    rand 1 5; short=$R
    rand 3 12; medium=$R
    rand 1 2; fails=$R
    rand "$fails" 3; restarts=$R
    rand 0 1; few=$R
    rand 1000 4000; run_ms=$R
    case $kind in
      aws-ok) aws_task "$name" "$run_ms" false >"$file"; expect="SUCCEEDED SUCCEEDED" ;;
      aws-spot) aws_task "$name" 10000 true >"$file"; expect="SUCCEEDED SUCCEEDED"; action=cloud-preempt ;;
      aws-cancel) aws_task "$name" 100000000 "$([ "$few" = 0 ] && echo true || echo false)" >"$file"
        expect="CANCELLED CANCELLED"; action=cancel ;;
      local-ok) local_task "$name" "c$i" "chaos-$i-0" "$medium" 0 0 false >"$file"; expect="SUCCEEDED SUCCEEDED" ;;
      local-restart) local_task "$name" "c$i" "chaos-$i-0" "$short" "$fails" "$restarts" false >"$file"
        expect="SUCCEEDED SUCCEEDED" ;;
      local-exhaust) local_task "$name" "c$i" "chaos-$i-0" "$short" 999 "$few" false >"$file"; expect="FAILED FAILED" ;;
      local-spot) local_task "$name" "c$i" "chaos-$i-0" "$short" 0 0 true 60 >"$file"; expect="SUCCEEDED SUCCEEDED"; action=preempt ;;
      local-cancel) local_task "$name" "c$i" "chaos-$i-0" 1000000 0 0 false >"$file"; expect="CANCELLED CANCELLED"; action=cancel ;;
      pipe-ok)
        { echo "name: $name"
          for t in 0 1 2; do echo ---; local_task "t$t" "c$i-$t" "chaos-$i-$t" "$short" 0 0 false; done
        } >"$file"
        expect="SUCCEEDED SUCCEEDED,SUCCEEDED,SUCCEEDED" ;;
      pipe-fail)
        { echo "name: $name"
          echo ---; local_task t0 "c$i-0" "chaos-$i-0" "$short" 0 0 false
          echo ---; local_task t1 "c$i-1" "chaos-$i-1" "$short" 999 0 false
          echo ---; local_task t2 "c$i-2" "chaos-$i-2" "$short" 0 0 false
        } >"$file"
        expect="FAILED SUCCEEDED,FAILED,CANCELLED" ;;
    esac
    # When its cancel or preemption is due, from its submission: spot jobs early in their first
    # run, cancels anywhere from before the launch to well into the run.
    case $action in cancel) rand 300 8000 ;; *) rand 300 3000 ;; esac
    echo "$i $kind $name $action $R $expect" >>"$dir/plan"
  done
done

supervise &
supervisor_pid=$!
for _ in $(seq 1 600); do [ -e "$dir/supervisor.ready" ] && break; sleep 0.1; done
skyd_ready 1 || { echo "chaos: skyd did not start (see $dir/skyd.log)" >&2; exit 1; }

# ---- the main loop: submissions, cancels and preemptions, each retried until skyd takes it ----
declare -A id_of       # plan index -> job id
declare -A action_at   # plan index -> when its action is due (ms)
declare -A tries       # plan index -> action tries
cancels=0; preempts=0; cloud_preempts=0; missed=0; resubmits=0

job_by_name() {  # the id of the job named $1, once skyd answers; empty when there is none
  local out
  for _ in $(seq 1 600); do
    if out=$(sky jobs queue -a -o json 2>/dev/null); then
      jq -r --arg n "$1" '[.[] | select(.job_name == $n) | .job_id] | min // empty' <<<"$out"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

submit() {  # plan index, yaml, name
  local out id
  for _ in $(seq 1 600); do
    if out=$(sky jobs launch -y -d "$2" 2>&1); then
      id=$(sed -n 's/^Managed Job ID: \([0-9]*\)$/\1/p' <<<"$out")
      [ -n "$id" ] && { id_of[$1]=$id; return 0; }
    fi
    # skyd may have taken the job and died before it answered: look for it by name first.
    id=$(job_by_name "$3")
    if [ -n "$id" ]; then id_of[$1]=$id; resubmits=$((resubmits + 1)); return 0; fi
    sleep 0.2
  done
  log "could not submit $3: $out"
  return 1
}

job_field() { api "/v1/jobs/$1" | jq -r "$2" 2>/dev/null; }
is_terminal() { case $1 in SUCCEEDED|CANCELLED|FAILED*) return 0 ;; *) return 1 ;; esac; }

act() {  # plan index, action; 0 when done (or given up), 1 to try again later
  local i=$1 id=${id_of[$1]} out status cluster
  tries[$i]=$(( ${tries[$i]:-0} + 1 ))
  case $2 in
    cancel)
      if out=$(sky jobs cancel -y "$id" 2>&1); then
        if grep -q "scheduled to be cancelled" <<<"$out"; then cancels=$((cancels + 1)); return 0; fi
        log "cancel of job $id: $out"
        status=$(job_field "$id" .status)
        [ "$status" = CANCELLING ] || [ "$status" = CANCELLED ] && { cancels=$((cancels + 1)); return 0; }
      fi
      return 1 ;;
    preempt)
      status=$(job_field "$id" .status)
      is_terminal "$status" && { missed=$((missed + 1)); return 0; }
      [ "$status" = RUNNING ] && sky jobs preempt "$id" >/dev/null 2>&1 && { preempts=$((preempts + 1)); return 0; }
      return 1 ;;
    cloud-preempt)
      out=$(api "/v1/jobs/$id")
      status=$(jq -r .status <<<"$out" 2>/dev/null)
      is_terminal "$status" && { missed=$((missed + 1)); return 0; }
      cluster=$(jq -r '.tasks[0].cluster // empty' <<<"$out" 2>/dev/null)
      if [ "$status" = RUNNING ] && [ -n "$cluster" ] &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$cloud/_admin/preempt?cluster=$cluster&grace_ms=1000")" = 200 ]; then
        cloud_preempts=$((cloud_preempts + 1)); return 0
      fi
      return 1 ;;
  esac
  return 0
}

mapfile -t plan <"$dir/plan"
t0=$(now_ms)
next=0
while :; do
  now=$(now_ms)
  if [ $next -lt ${#plan[@]} ] && [ "$now" -ge $(awk -v t="$t0" -v n="$next" -v r="$rate" 'BEGIN { printf "%d", t + n * 1000 / r }') ]; then
    read -r i kind name action delay _ <<<"${plan[$next]}"
    if submit "$i" "$dir/yaml/$i.yaml" "$name"; then
      log "submitted $name as job ${id_of[$i]}"
      [ "$action" != none ] && action_at[$i]=$(( $(now_ms) + delay ))
    fi
    next=$((next + 1))
    now=$(now_ms)
  fi
  # Due actions run between submissions, not only once the submissions stop: a spot job's
  # preemption is due early in its first run.
  for i in "${!action_at[@]}"; do
    [ "$now" -ge "${action_at[$i]}" ] || continue
    read -r _ _ _ action _ <<<"${plan[$((i - 1))]}"
    if act "$i" "$action" || [ "${tries[$i]}" -ge 200 ]; then
      unset "action_at[$i]"
    else
      action_at[$i]=$(( $(now_ms) + 300 ))
    fi
  done
  [ $next -ge ${#plan[@]} ] && [ ${#action_at[@]} -eq 0 ] && break
  sleep 0.05
done
log "all submitted and acted on; waiting for the supervisor"
until [ -e "$dir/supervisor.done" ]; do sleep 0.2; done

# ---- drain: every job final, every machine gone ---------------------------------------------
deadline=$(( $(now_ms) + drain_limit * 1000 ))
while :; do
  open=$(sky jobs queue -a -o json 2>/dev/null | jq '[.[] | select(.job_status | test("^(SUCCEEDED|CANCELLED|FAILED.*)$") | not) | .job_id] | unique | length' 2>/dev/null)
  [ "$open" = 0 ] && break
  [ "$(now_ms)" -ge "$deadline" ] && { log "jobs still open at the deadline: $open"; break; }
  sleep 1
done
teardown_deadline=$(( $(now_ms) + 60000 ))
while :; do
  live=$(cloud_admin "$cloud/_admin/stats" | jq .live)
  skylets=$(pgrep -f "$state/local" | wc -l)
  [ "$live" = 0 ] && [ "$skylets" = 0 ] && break
  [ "$(now_ms)" -ge "$teardown_deadline" ] && break
  sleep 0.5
done

# ---- the checks -----------------------------------------------------------------------------
failures=0
fail() { echo "FAIL: $*" | tee -a "$dir/failures"; failures=$((failures + 1)); }

sky jobs queue -a -o json >"$dir/queue.json"
# 1. final states
declare -A by_kind
wrong=0
while read -r i kind name action delay expect tasks; do
  id=${id_of[$i]:-}
  if [ -z "$id" ]; then fail "$name was never submitted"; wrong=$((wrong + 1)); continue; fi
  got=$(jq -r --argjson id "$id" '[.[] | select(.job_id == $id)] | "\(.[0].job_status) \([.[].status] | join(","))"' "$dir/queue.json")
  status=${got%% *}
  by_kind[$kind $status]=$(( ${by_kind[$kind $status]:-0} + 1 ))
  if [ "$got" != "$expect $tasks" ]; then
    fail "job $id ($name): $got, expected $expect $tasks"
    wrong=$((wrong + 1))
  fi
  dupes=$(jq --arg n "$name" '[.[] | select(.job_name == $n) | .job_id] | unique | length' "$dir/queue.json")
  [ "$dupes" = 1 ] || fail "$dupes jobs named $name (a submission taken twice)"
done <"$dir/plan"

# 2. never two live attempts
curl -s "$cloud/_admin/stats" >"$dir/cloud-stats.json"
curl -s "$cloud/_admin/attempts" >"$dir/cloud-attempts.json"
overlaps=$(jq .attempt_overlaps "$dir/cloud-stats.json")
[ "$overlaps" = 0 ] || fail "$overlaps virtual attempts ran beside a live attempt of their task (cloud-attempts.json)"
violations=$(find "$state/local/buckets" -name violations 2>/dev/null | wc -l)
[ "$violations" = 0 ] || fail "$violations local tasks found their lock taken: $(find "$state/local/buckets" -name violations | head -3)"
overlaps=$((overlaps + violations))

# 3. nothing left
live=$(jq .live "$dir/cloud-stats.json")
skylets=$(pgrep -f "$state/local" | wc -l)
[ "$live" = 0 ] || fail "$live instances still live"
[ "$skylets" = 0 ] || fail "$skylets local skylet processes left: $(pgrep -af "$state/local" | head -3)"

# 4. job_events: legal and gapless. The allowed pairs come from the table in docs/job-states.md
# (the unit test JobStateMachine.AllowsExactlyTheDocumentedMatrix holds it to the code).
awk -F'|' '
  /^\| from \\ to/ { for (c = 3; c <= NF; c++) { gsub(/ /, "", $c); col[c] = $c }; next }
  /^\| (PENDING|STARTING|RUNNING|RECOVERING|CANCELLING) / {
    from = $2; gsub(/ /, "", from)
    for (c = 3; c <= NF; c++) if ($c ~ /✓/) print from, col[c]
  }' "$here/docs/job-states.md" |
  sed -e 's/ PEND$/ PENDING/; s/ START$/ STARTING/; s/ RUN$/ RUNNING/; s/ RECOV$/ RECOVERING/' \
      -e 's/ SUCC$/ SUCCEEDED/; s/ F_SETUP$/ FAILED_SETUP/; s/ F_PRECHECKS$/ FAILED_PRECHECKS/' \
      -e 's/ F_NO_RES$/ FAILED_NO_RESOURCE/; s/ F_CTRL$/ FAILED_CONTROLLER/' >"$dir/allowed"
[ "$(wc -l <"$dir/allowed")" -ge 20 ] || fail "could not read the transition table of docs/job-states.md"
psql -h "$state/postgres" -U postgres -d skyd -At -F ' ' -c \
  "SELECT job_id, coalesce(task_index, -1), id, coalesce(from_status, 'NULL'), to_status
   FROM job_events ORDER BY job_id, task_index, id" >"$dir/events.txt" ||
  fail "could not read job_events"
illegal=$(awk 'NR == FNR { ok[$1 " " $2] = 1; next }
  { key = $1 " " $2
    if (key != last) { if ($4 != "NULL" || $5 != "PENDING") { print "first event of", key, ":", $4, "->", $5; bad++ } }
    else { if ($4 != prev) { print "gap in", key, "at event", $3, ": previous ->", prev, "then", $4, "->", $5; bad++ }
           if (!(($4 " " $5) in ok)) { print "illegal", key, "event", $3, ":", $4, "->", $5; bad++ } }
    last = key; prev = $5 }
  END { print bad + 0 > "/dev/stderr" }' "$dir/allowed" "$dir/events.txt" 2>"$dir/illegal.count" >"$dir/illegal.txt"; cat "$dir/illegal.count")
[ "$illegal" = 0 ] || fail "$illegal illegal or missing transitions: $(head -3 "$dir/illegal.txt")"
event_rows=$(wc -l <"$dir/events.txt")

# 5. logs: every line of each finished local task's final run is in `sky jobs logs`
lost=0; checked_logs=0
while read -r i kind name action delay expect tasks; do
  case $kind in local-ok|local-restart|local-exhaust|local-spot|pipe-ok|pipe-fail) ;; *) continue ;; esac
  id=${id_of[$i]:-}; [ -n "$id" ] || continue
  IFS=, read -r -a task_states <<<"$tasks"
  for t in "${!task_states[@]}"; do
    case ${task_states[$t]} in SUCCEEDED|FAILED) ;; *) continue ;; esac
    runs=$(cat "$state/local/buckets/chaos-$i-$t/runs" 2>/dev/null)
    [ -n "$runs" ] || { fail "job $id task $t ended ${task_states[$t]} without a run"; continue; }
    tag="c$i"; case $kind in pipe-*) tag="c$i-$t" ;; esac
    if [ "${#task_states[@]}" -gt 1 ]; then sky jobs logs --no-follow "$id" "$t" >"$dir/logs.txt" 2>&1
    else sky jobs logs --no-follow "$id" >"$dir/logs.txt" 2>&1; fi
    last="$tag r$runs done"; [ "${task_states[$t]}" = FAILED ] && last="$tag r$runs fails"
    have=$( { seq -f "$tag r$runs line %g" 1 200; echo "$last"; } | grep -cxvFf "$dir/logs.txt")
    checked_logs=$((checked_logs + 1))
    if [ "$have" != 0 ]; then
      fail "job $id task $t: $have lines of run $runs missing from its logs"
      lost=$((lost + have))
      cp "$dir/logs.txt" "$dir/logs-$id-$t.txt"
    fi
  done
done <"$dir/plan"

# The final stop (clean, like every SIGTERM before it), and nothing of the run left after it.
touch "$dir/stop"
wait "$supervisor_pid"
supervisor_pid=
skylets_after=$(pgrep -f "$state/local" | wc -l)
[ "$skylets_after" = 0 ] || fail "$skylets_after local skylet processes left after skyd stopped"
skylets=$((skylets + skylets_after))
crashes=$(grep -c '^term-exit-' "$dir/events")
[ "$crashes" = 0 ] || fail "$crashes SIGTERMs did not end in a clean exit: $(grep '^term-exit-' "$dir/events" | sort | uniq -c | tr '\n' ' ')"
! grep -q unrecovered "$dir/events" ||
  fail "skyd did not come back after: $(grep unrecovered "$dir/events" | sort | uniq -c | tr '\n' ' ')"

# A run whose preemptions all came too late proves nothing about recovery.
spot_jobs=$(grep -c -E '^[0-9]+ (aws-spot|local-spot) ' "$dir/plan")
[ "$spot_jobs" = 0 ] || [ $((preempts + cloud_preempts)) -gt 0 ] ||
  fail "none of the $spot_jobs spot jobs was preempted ($missed had ended before their turn)"

# ---- the summary ----------------------------------------------------------------------------
wall=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
count_events() { grep -c "^$1 [0-9]*$" "$dir/events" 2>/dev/null || true; }
back_in() {  # p50 and max of the time from an event of kind $1 until skyd answered again
  grep "^$1 [0-9]*$" "$dir/events" | awk '{print $2}' | sort -n |
    awk '{v[NR]=$1} END {if (NR) printf "%.1f s / %.1f s", v[int((NR+1)/2)]/1000, v[NR]/1000; else printf "-"}'
}
stat() { jq -r "$1" "$dir/cloud-stats.json"; }
{
  echo
  echo "chaos run: seed $seed, $jobs jobs, wall time ${wall} s"
  printf '%-15s %6s  %s\n' KIND JOBS "FINAL STATES"
  for kind in aws-ok aws-spot aws-cancel local-ok local-restart local-exhaust local-spot local-cancel pipe-ok pipe-fail; do
    total=0; states=""
    for key in "${!by_kind[@]}"; do
      [ "${key%% *}" = "$kind" ] || continue
      total=$((total + by_kind[$key])); states="$states ${key#* }=${by_kind[$key]}"
    done
    printf '%-15s %6s %s\n' "$kind" "$total" "$states"
  done
  printf '%-44s %s\n' "skyd kill -9 / restarted" "$(count_events kill) / $kills"
  printf '%-44s %s\n' "skyd SIGTERM + start / unclean exits" "$(count_events term) / $sigterms / $crashes"
  printf '%-44s %s\n' "PostgreSQL kill -9 / recovered" "$(count_events pg) / $pg_kills"
  printf '%-44s %s\n' "answering again after kill -9, p50 / max" "$(back_in kill)"
  printf '%-44s %s\n' "answering again after SIGTERM, p50 / max" "$(back_in term)"
  printf '%-44s %s\n' "answering again after a PostgreSQL kill" "$(back_in pg)"
  printf '%-44s %s\n' "submissions found by name after a lost answer" "$resubmits"
  printf '%-44s %s\n' "cancels / preemptions (local, EC2) / missed" "$cancels / $preempts, $cloud_preempts / $missed"
  printf '%-44s %s\n' "EC2 calls" "$(stat '[.calls[]] | add')"
  printf '%-44s %s\n' "EC2 faults: 5xx / throttled / rules fired" "$(stat .errors_5xx) / $(stat .throttled) / $(stat .faults_fired)"
  printf '%-44s %s\n' "EC2 answers lost" "$(stat .answers_lost)"
  printf '%-44s %s\n' "virtual attempt runs" "$(stat .attempt_runs)"
  printf '%-44s %s\n' "jobs in a wrong final state" "$wrong"
  printf '%-44s %s\n' "overlapping attempts (EC2 + local)" "$overlaps"
  printf '%-44s %s\n' "leaks (instances + skylets)" "$((live + skylets))"
  printf '%-44s %s\n' "illegal transitions (of $event_rows events)" "$illegal"
  printf '%-44s %s\n' "lost log lines (of $checked_logs final runs)" "$lost"
} | tee "$dir/summary.txt"
if [ "$failures" -gt 0 ]; then
  echo "chaos: $failures checks failed (seed $seed)"
  exit 1
fi
echo "chaos: every check holds"
