#!/usr/bin/env bash
# API benchmark: ducha's GraphQL API against PostGraphile 5, on the same PostgreSQL
# database, under the same wrk load.
#
#   scripts/bench-api/run.sh                                  # full run, about 16 minutes plus seeding
#   DURATION=3 REPS=1 CONNS=1 scripts/bench-api/run.sh        # quick try
#   SKIP_SEED=1 DB=api_probe PERSON_ID=6 DURATION=3 REPS=1 CONNS="1 8" scripts/bench-api/run.sh
#   WRITE_BENCHMARKS=1 scripts/bench-api/run.sh               # also updates BENCHMARKS.md
#
# What it does, from the repository root:
#  1. Installs what is missing: PostGraphile and Node 22 (npm ci here), and wrk (apt-get).
#  2. Unless SKIP_SEED=1, drops and recreates the database. Then it seeds it with
#     `cargo bench -p ducha-server --bench api_data`: 300 units, ITEMS items, about 1.5
#     assignments per item, and person 2 a supervisor.
#  3. Starts ducha (the release binary, run as deployed, background jobs included) and
#     PostGraphile (one Node process, pool POOL). It issues a token for PERSON_ID, and waits
#     until both servers and the database are idle: a fresh database gets its first reminder
#     sweep at ducha's first start.
#  4. Sends each query once to both servers, and aborts if the answers differ after
#     normalising (compare.py).
#  5. Runs wrk (post.lua) for each query, each number of connections and each rep: first
#     ducha, then PostGraphile. It reads both servers' VmRSS/VmHWM when idle and after the
#     load.
#  6. Writes OUT/results.jsonl (one line per wrk run, plus meta and memory lines), and
#     OUT/table.md (report.py). With WRITE_BENCHMARKS=1 it also puts the table between the
#     api-bench markers in BENCHMARKS.md.
# Both servers are stopped on exit. Their logs are OUT/ducha.log and OUT/pgl.log, and wrk's
# own output goes to OUT/wrk/.
#
# Settings (environment, defaults in brackets): DB [ducha_api_bench], ITEMS [100000],
# DURATION [20] seconds per run, REPS [3], CONNS ["1 8 32"], QUERIES ["list item
# item-random list+colour"], WARMUP [5] seconds per server and query (not counted), DUCHA_BIN
# [target/release/ducha], DUCHA_PORT [18181], PGL_PORT [18182], POOL [16] (PostGraphile's
# pool; ducha's is its own setting DUCHA_DB_POOL, 8 by default), PGL_IDLE_MS [600000]
# (PostGraphile's pool idle timeout, set to sqlx's default), PERSON_ID [2], SKIP_SEED [0], OUT [scripts/bench-api/out],
# WRITE_BENCHMARKS [0], PGHOST [127.0.0.1], PGPORT [5432], PGUSER [postgres] (trust auth),
# QUIET_TIMEOUT [600] seconds to wait for idle, REPORT_MONTH [2026-10] the month whose report
# is published before the load to read the peak memory (empty: none), REPORT_SETTLE [15]
# seconds after start-up work, and after publishing, before memory is read. DUCHA_LOG and the other ducha settings are
# passed through to ducha; ducha logs every response at its default level, info.
# This script never builds ducha. Build it first with `cargo build --release`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# The command line as given, for the table: only the settings that were set explicitly.
command_line=""
for name in DUCHA_CACHES WRITE_BENCHMARKS SKIP_SEED DB ITEMS PERSON_ID DURATION REPS CONNS QUERIES WARMUP POOL DUCHA_BIN; do
  if [[ -n "${!name+x}" ]]; then
    value="${!name}"
    [[ "$value" =~ [[:space:]] ]] && value="\"$value\""
    command_line+="$name=$value "
  fi
done
command_line+="scripts/bench-api/run.sh"

DB="${DB:-ducha_api_bench}"
ITEMS="${ITEMS:-100000}"
DURATION="${DURATION:-20}"
REPS="${REPS:-3}"
CONNS="${CONNS:-1 8 32}"
QUERIES="${QUERIES:-list item item-random list+colour}"
WARMUP="${WARMUP:-5}"
DUCHA_BIN="${DUCHA_BIN:-target/release/ducha}"
DUCHA_PORT="${DUCHA_PORT:-18181}"
PGL_PORT="${PGL_PORT:-18182}"
POOL="${POOL:-16}"
PGL_IDLE_MS="${PGL_IDLE_MS:-600000}"
PERSON_ID="${PERSON_ID:-2}"
SKIP_SEED="${SKIP_SEED:-0}"
OUT="${OUT:-scripts/bench-api/out}"
WRITE_BENCHMARKS="${WRITE_BENCHMARKS:-0}"
QUIET_TIMEOUT="${QUIET_TIMEOUT:-600}"
REPORT_MONTH="${REPORT_MONTH-2026-10}"
REPORT_SETTLE="${REPORT_SETTLE:-15}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
db_url="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"

say() { printf '[bench-api %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
results="$OUT/results.jsonl"

# Appends one JSON object to results.jsonl: jsonl key=string key:=number ...
jsonl() {
  python3 -c '
import json, sys
rec = {}
for arg in sys.argv[1:]:
    k, v = arg.split("=", 1)
    if k.endswith(":"):
        rec[k[:-1]] = json.loads(v)
    else:
        rec[k] = v
print(json.dumps(rec, ensure_ascii=False))' "$@" >>"$results"
}

# ---------------------------------------------------------------- checks and installs
for tool in python3 psql createdb dropdb curl npm; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x "$DUCHA_BIN" ]] || die "$DUCHA_BIN not found: build it with 'cargo build --release' (or set DUCHA_BIN)"
newer="$(find server/src domain entity migration calendar report src -name '*.rs' -newer "$DUCHA_BIN" 2>/dev/null | head -3 || true)"
if [[ -n "$newer" ]]; then
  say "warning: sources newer than $DUCHA_BIN (rebuild with 'cargo build --release'?):"
  printf '    %s\n' $newer >&2
fi
for n in $CONNS; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "CONNS must be positive integers, got '$CONNS'"
done
for name in ITEMS DURATION REPS POOL PERSON_ID DUCHA_PORT PGL_PORT; do
  [[ "${!name}" =~ ^[1-9][0-9]*$ ]] || die "$name must be a positive integer, got '${!name}'"
done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds, got '$WARMUP'"

if [[ ! -d "$here/node_modules" ]]; then
  say "npm ci in scripts/bench-api (PostGraphile and Node 22; the EBADENGINE warnings are"
  say "expected: npm runs on the system's Node, PostGraphile on the Node 22 it installs)"
  (cd "$here" && npm ci --no-audit --no-fund)
fi
node="$here/node_modules/.bin/node"
[[ -x "$node" ]] || die "$node is missing: remove scripts/bench-api/node_modules and run again"
node_version="$("$node" -v)"
[[ "$node_version" == v22.* ]] || die "PostGraphile 5 needs Node 22; $node is $node_version"
pgl_version="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$here/node_modules/postgraphile/package.json")"

if ! command -v wrk >/dev/null; then
  say "installing wrk"
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

for port in "$DUCHA_PORT" "$PGL_PORT"; do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    die "something already listens on port $port; stop it or choose another port"
  fi
done

# ---------------------------------------------------------------- database
if [[ "$SKIP_SEED" == 1 ]]; then
  psql -d "$DB" -Atqc 'SELECT 1' >/dev/null 2>&1 || die "database $DB does not exist (SKIP_SEED=1)"
  say "using database $DB as it is (SKIP_SEED=1)"
else
  say "recreating database $DB and seeding $ITEMS items (cargo bench -p ducha-server --bench api_data)"
  dropdb --if-exists --force "$DB"
  createdb "$DB"
  rm -rf "$OUT/ducha-data"
  API_BENCH_DATABASE_URL="$db_url" API_BENCH_ITEMS="$ITEMS" \
    cargo bench -p ducha-server --bench api_data
fi
q() { psql -d "$DB" -XAtqc "$1"; }
items="$(q 'SELECT count(*) FROM item')"
assignments="$(q 'SELECT count(*) FROM assignment')"
role="$(q "SELECT role FROM person WHERE id = $PERSON_ID")"
[[ -n "$role" ]] || die "person $PERSON_ID does not exist in $DB (set PERSON_ID)"
[[ "$role" == SUPERVISOR ]] || say "warning: person $PERSON_ID is $role, not SUPERVISOR"
say "$DB: $items items, $assignments assignments; token for person $PERSON_ID ($role)"

# ---------------------------------------------------------------- servers
ducha_pid="" pgl_pid=""
stop() { # pid name: TERM, up to 15 s for a graceful stop, then KILL
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name ($pid) did not stop in 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
stop_servers() {
  stop "$pgl_pid" PostGraphile
  pgl_pid=""
  stop "$ducha_pid" ducha
  ducha_pid=""
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

alive() { # pid name log
  kill -0 "$1" 2>/dev/null || { tail -n 30 "$3" >&2; die "$2 exited; see $3"; }
}

# Both servers talk to PostgreSQL in plain text over loopback. PostGraphile's client (pg)
# uses TLS only when asked; sqlx prefers it whenever the server offers it (Debian's does),
# which cost ducha about 30 µs a statement in encryption that PostGraphile did not pay.
export DUCHA_DATABASE_URL="$db_url?sslmode=disable" DUCHA_DATA_DIR="$OUT/ducha-data"
say "starting ducha on 127.0.0.1:$DUCHA_PORT (log: $OUT/ducha.log)"
DUCHA_LISTEN="127.0.0.1:$DUCHA_PORT" "$DUCHA_BIN" serve >"$OUT/ducha.log" 2>&1 &
ducha_pid=$!
for i in $(seq 1 600); do
  alive "$ducha_pid" ducha "$OUT/ducha.log"
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$DUCHA_PORT/healthz" && break
  [[ "$i" == 600 ]] && die "ducha did not answer /healthz within 60 s"
  sleep 0.1
done
token="$("$DUCHA_BIN" token --person-id "$PERSON_ID")"
[[ "$token" =~ ^[A-Za-z0-9_.-]+$ ]] || die "ducha token printed something unexpected"

say "starting PostGraphile $pgl_version on 127.0.0.1:$PGL_PORT, pool $POOL (log: $OUT/pgl.log)"
(
  cd "$here"
  export DATABASE_URL="$db_url" PGL_HOST=127.0.0.1 PGL_PORT PGL_POOL_MAX="$POOL" PGL_IDLE_MS NODE_ENV=production
  exec "$node" node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs
) >"$OUT/pgl.log" 2>&1 &
pgl_pid=$!
for i in $(seq 1 600); do
  alive "$pgl_pid" PostGraphile "$OUT/pgl.log"
  answer="$(curl -s --max-time 2 -H 'Content-Type: application/json' \
    -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PGL_PORT/graphql" || true)"
  [[ "$answer" == *'"__typename":"Query"'* ]] && break
  [[ "$i" == 600 ]] && die "PostGraphile did not answer within 60 s"
  sleep 0.1
done

# Waits until neither server uses CPU (under 5% of a core) and the database runs no query,
# for 3 seconds in a row. A freshly seeded database gets its first reminder sweep as soon as
# ducha starts.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
say "waiting until the servers and the database are idle"
quiet=0 waited=0
while ((quiet < 3)); do
  alive "$ducha_pid" ducha "$OUT/ducha.log"
  alive "$pgl_pid" PostGraphile "$OUT/pgl.log"
  before=$(($(cpu_ticks "$ducha_pid") + $(cpu_ticks "$pgl_pid")))
  sleep 1
  after=$(($(cpu_ticks "$ducha_pid") + $(cpu_ticks "$pgl_pid")))
  active="$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()")"
  if ((after - before <= 5 && active == 0)); then quiet=$((quiet + 1)); else quiet=0; fi
  waited=$((waited + 1))
  if ((waited >= QUIET_TIMEOUT)); then
    say "warning: still busy after $QUIET_TIMEOUT s; going on"
    break
  fi
  ((waited % 15 == 0)) && say "… still busy after $waited s (CPU ticks $((after - before))/s, active queries $active)"
done

: >"$results"
memory() { # server pid when
  local rss hwm
  rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$2/status")"
  hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$2/status")"
  jsonl kind=memory server="$1" when="$3" rss_kb:="$rss" hwm_kb:="$hwm" at="$(date -u +%FT%T.%6NZ)"
  say "memory $1 $3: VmRSS $((rss / 1024)) MB, VmHWM $((hwm / 1024)) MB"
}
# Idle is what each process holds once its start-up work has settled: ducha's allocator
# gives freed pages back after a 10 s decay, so the reading waits REPORT_SETTLE seconds.
sleep "$REPORT_SETTLE"
memory ducha "$ducha_pid" idle
memory pgl "$pgl_pid" idle

# ---------------------------------------------------------------- memory of a report
# Publishes REPORT_MONTH's report over every item through the API, as the office would,
# and reads ducha's peak (VmHWM) and what it holds REPORT_SETTLE seconds later. On a
# database where that month's report is already published with the same figures, nothing
# new is written and the peak is only the computation's.
if [[ -n "$REPORT_MONTH" ]]; then
  say "publishing the $REPORT_MONTH report through ducha's API"
  publish_body="$(python3 -c 'import json,sys; print(json.dumps({"query": "mutation($m: String!) { publishMonthlyReport(input: {month: $m, reason: \"基准测试\"}) { created report { version } } }", "variables": {"m": sys.argv[1]}}))' "$REPORT_MONTH")"
  started=$(date +%s.%N)
  answer="$(curl -sS --max-time 600 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$publish_body" "http://127.0.0.1:$DUCHA_PORT/graphql")"
  finished=$(date +%s.%N)
  [[ "$answer" == *'"publishMonthlyReport"'* && "$answer" != *'"errors"'* ]] || die "publishing failed: $answer"
  say "published in $(python3 -c "print(round($finished - $started, 2))") s: $answer"
  memory ducha "$ducha_pid" report_published
  sleep "$REPORT_SETTLE"
  memory ducha "$ducha_pid" report_settled
fi

# ---------------------------------------------------------------- correctness
item_id="$(q 'SELECT id FROM item ORDER BY id OFFSET (SELECT count(*) / 2 FROM item) LIMIT 1')"
[[ -n "$item_id" ]] || die "no item in $DB"
python3 "$here/queries.py" "$OUT/bodies" "$item_id"
# item-random asks for a random item of the whole table on every request (post.lua).
id_min="$(q 'SELECT min(id) FROM item')"
id_max="$(q 'SELECT max(id) FROM item')"
mkdir -p "$OUT/answers"

port_of() { if [[ "$1" == ducha ]]; then echo "$DUCHA_PORT"; else echo "$PGL_PORT"; fi; }
ask() { # server query: one request; the answer goes to OUT/answers/<query>.<server>.json
  local server="$1" query="$2" code auth=()
  [[ "$server" == ducha ]] && auth=(-H "Authorization: Bearer $token")
  local answer="$OUT/answers/$query.$server.json"
  code="$(curl -sS -o "$answer" -w '%{http_code}' --max-time 60 "${auth[@]}" \
    -H 'Content-Type: application/json' --data-binary @"$OUT/bodies/$query.$server.json" \
    "http://127.0.0.1:$(port_of "$server")/graphql")"
  [[ "$code" == 200 ]] || { head -c 2000 "$answer" >&2; echo >&2; die "$server answered HTTP $code to $query"; }
}
say "checking the answers (item $item_id for the item query)"
for query in list item; do
  ask ducha "$query"
  ask pgl "$query"
  python3 "$here/compare.py" pair "$query" "$OUT/answers/$query.ducha.json" "$OUT/answers/$query.pgl.json" \
    || die "ducha and PostGraphile disagree on '$query'; the answers are in $OUT/answers"
done
ask ducha list+colour
python3 "$here/compare.py" colour "$OUT/answers/list.ducha.json" "$OUT/answers/list+colour.ducha.json" \
  || die "ducha's list+colour answer is wrong; see $OUT/answers"

# ---------------------------------------------------------------- load
git_head="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]] && git_head="$git_head + uncommitted changes"
jsonl kind=meta date="$(date +%F)" nproc:="$(nproc)" \
  mem_total_kb:="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
  cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  postgres_version="$(q 'SHOW server_version' | awk '{ print $1 }')" \
  db="$DB" items:="$items" assignments:="$assignments" item_id:="$item_id" person_id:="$PERSON_ID" person_role="$role" \
  duration:="$DURATION" reps:="$REPS" conns="$CONNS" warmup:="$WARMUP" pool:="$POOL" \
  pgl_version="$pgl_version" node_version="${node_version#v}" \
  ducha_version="$("$DUCHA_BIN" --version | awk '{ print $2 }')" \
  ducha_commit="binary of $(date -u -r "$DUCHA_BIN" '+%F %H:%M UTC'), HEAD $git_head" \
  ducha_log="${RUST_LOG:-${DUCHA_LOG:-info}}" ducha_pool="${DUCHA_DB_POOL:-8}" \
  ducha_caches="${DUCHA_CACHES:-on}" command="$command_line"

mkdir -p "$OUT/wrk"
rm -f "$OUT/wrk/"*.txt
# One wrk run: bench server query conns rep seconds. Rep 0 is a warm-up, not recorded.
bench() {
  local server="$1" query="$2" conns="$3" rep="$4" seconds="$5" tok="" line
  local threads=$((conns < 2 ? conns : 2))
  local file="$OUT/wrk/$query.$server.c$conns.r$rep.txt"
  [[ "$server" == ducha ]] && tok="$token"
  local range=()
  [[ "$query" == item-random ]] && range=(ID_MIN="$id_min" ID_MAX="$id_max")
  alive "$ducha_pid" ducha "$OUT/ducha.log"
  alive "$pgl_pid" PostGraphile "$OUT/pgl.log"
  env "${range[@]}" BODY_FILE="$OUT/bodies/$query.$server.json" TOKEN="$tok" BENCH_SERVER="$server" \
    BENCH_QUERY="$query" BENCH_CONNS="$conns" BENCH_REP="$rep" \
    wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s -s "$here/post.lua" \
    "http://127.0.0.1:$(port_of "$server")/graphql" >"$file" 2>&1 \
    || { cat "$file" >&2; die "wrk failed"; }
  line="$(grep '^{"kind":"run"' "$file" | tail -n 1 || true)"
  [[ -n "$line" ]] || { cat "$file" >&2; die "wrk printed no result line"; }
  if ((rep > 0)); then
    echo "$line" >>"$results"
  fi
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
tag = "warm-up" if r["rep"] == 0 else "rep %d" % r["rep"]
bad = r["errors"] + r["non_200"]
print("  %-12s %-5s c=%-3d %-7s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms%s" % (
    r["query"], r["server"], r["conns"], tag, r["rps"], r["p50_ms"], r["p99_ms"], r["p999_ms"],
    "  ERRORS %d (non-200 %d)" % (bad, r["non_200"]) if bad else ""))' "$line" >&2
}

servers_for() { if [[ "$1" == list+colour ]]; then echo ducha; else echo "ducha pgl"; fi; }
say "load: queries [$QUERIES], conns [$CONNS], $REPS reps of $DURATION s"
load_start="$(date -u +%FT%T.%6NZ)"
for query in $QUERIES; do
  [[ -f "$OUT/bodies/$query.ducha.json" ]] || die "unknown query '$query'"
  if ((WARMUP > 0)); then
    for server in $(servers_for "$query"); do
      bench "$server" "$query" "$(awk '{ print $NF }' <<<"$CONNS")" 0 "$WARMUP"
    done
  fi
  for conns in $CONNS; do
    for rep in $(seq 1 "$REPS"); do
      for server in $(servers_for "$query"); do
        bench "$server" "$query" "$conns" "$rep" "$DURATION"
      done
    done
  done
done
load_end="$(date -u +%FT%T.%6NZ)"
jsonl kind=load start="$load_start" end="$load_end"
memory ducha "$ducha_pid" after_load
memory pgl "$pgl_pid" after_load

say "stopping the servers"
stop_servers

report_args=("$OUT")
[[ "$WRITE_BENCHMARKS" == 1 ]] && report_args+=(--benchmarks "$root/BENCHMARKS.md")
python3 "$here/report.py" "${report_args[@]}"
say "done: $OUT/table.md, $OUT/results.jsonl"
