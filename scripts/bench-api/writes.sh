#!/usr/bin/env bash
# Write benchmark (issue 32): `reportProgress` by a unit's clerk on a random open item of its
# unit, on the SQLite file (the embedded default) or on PostgreSQL; on PostgreSQL also random
# `item(id:)` reads alone and with a share of writes mixed in.
#
#   scripts/bench-api/writes.sh                               # SQLite file, 100,000 items
#   DB_KIND=postgres scripts/bench-api/writes.sh              # PostgreSQL: reads, writes, mix
#   SKIP_SEED=1 DURATION=5 REPS=1 CONNS=8 scripts/bench-api/writes.sh   # quick try
#
# It seeds with `cargo bench -p ducha-server --bench api_data` (as run.sh does; person 3 is
# the clerk of unit 2, which holds every 150th item, all open), starts the release binary as deployed
# (background jobs on), waits until the first sweep has settled, and runs wrk with mix.lua
# for each run, number of connections and rep. A run's line in OUT/results.jsonl has its
# rate split into writes and reads a second, its latency percentiles (of all its requests)
# and its failures (non-200 or GraphQL errors).
#
# Settings (environment, defaults in brackets): DB_KIND [sqlite] or postgres, ITEMS
# [100000], DURATION [10] seconds per run, REPS [3], CONNS ["1 8 32"], RUNS [writes on
# SQLite; "reads writes mix" on PostgreSQL], WRITE_SHARE [0.1] (the mix's), WARMUP [3],
# SKIP_SEED [0], DB [ducha_write_bench] (PostgreSQL), OUT [scripts/bench-api/out-writes],
# DUCHA_BIN [target/release/ducha], DUCHA_PORT [18183]. Other DUCHA_* settings pass through
# (DUCHA_CACHES=off runs with the kept copies off). It never builds ducha.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."

DB_KIND="${DB_KIND:-sqlite}"
ITEMS="${ITEMS:-100000}"
DURATION="${DURATION:-10}"
REPS="${REPS:-3}"
CONNS="${CONNS:-1 8 32}"
WRITE_SHARE="${WRITE_SHARE:-0.1}"
WARMUP="${WARMUP:-3}"
SKIP_SEED="${SKIP_SEED:-0}"
DB="${DB:-ducha_write_bench}"
OUT="${OUT:-scripts/bench-api/out-writes}"
DUCHA_BIN="${DUCHA_BIN:-target/release/ducha}"
DUCHA_PORT="${DUCHA_PORT:-18183}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

say() { printf '[bench-writes %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ -x "$DUCHA_BIN" ]] || die "$DUCHA_BIN not found: build it with 'cargo build --release -p ducha'"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
results="$OUT/results.jsonl"

case "$DB_KIND" in
  sqlite)
    file="$OUT/writes.sqlite"
    url="sqlite://$file?mode=rwc"
    RUNS="${RUNS:-writes}"
    q() { sqlite3 "$file" "$1"; }
    if [[ "$SKIP_SEED" != 1 ]]; then rm -f "$file" "$file-wal" "$file-shm"; fi
    ;;
  postgres)
    url="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable"
    RUNS="${RUNS:-reads writes mix}"
    q() { psql -d "$DB" -XAtqc "$1"; }
    if [[ "$SKIP_SEED" != 1 ]]; then dropdb --if-exists --force "$DB"; createdb "$DB"; fi
    ;;
  *) die "DB_KIND is sqlite or postgres, got '$DB_KIND'" ;;
esac
if [[ "$SKIP_SEED" != 1 ]]; then
  say "seeding $ITEMS items into $DB_KIND (cargo bench -p ducha-server --bench api_data)"
  rm -rf "$OUT/ducha-data"
  API_BENCH_DATABASE_URL="$url" API_BENCH_ITEMS="$ITEMS" cargo bench -q -p ducha-server --bench api_data
fi

ducha_pid=""
stop() {
  [[ -n "$ducha_pid" ]] && kill -TERM "$ducha_pid" 2>/dev/null && wait "$ducha_pid" 2>/dev/null
  ducha_pid=""
}
trap stop EXIT
trap 'exit 130' INT TERM

export DUCHA_DATABASE_URL="$url" DUCHA_DATA_DIR="$OUT/ducha-data" DUCHA_LISTEN="127.0.0.1:$DUCHA_PORT"
say "starting ducha (log: $OUT/ducha.log)"
"$DUCHA_BIN" serve >"$OUT/ducha.log" 2>&1 &
ducha_pid=$!
for i in $(seq 1 600); do
  kill -0 "$ducha_pid" 2>/dev/null || { tail -n 30 "$OUT/ducha.log" >&2; die "ducha exited"; }
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$DUCHA_PORT/healthz" && break
  [[ "$i" == 600 ]] && die "ducha did not answer /healthz within 60 s"
  sleep 0.1
done
read_token="$("$DUCHA_BIN" token --person-id 2)"
write_token="$("$DUCHA_BIN" token --person-id 3)"

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
say "waiting until ducha is idle (the first sweep of a fresh database)"
quiet=0
while ((quiet < 3)); do
  before=$(cpu_ticks "$ducha_pid"); sleep 1; after=$(cpu_ticks "$ducha_pid")
  if ((after - before <= 5)); then quiet=$((quiet + 1)); else quiet=0; fi
done

ids="$OUT/ids.txt"
q "SELECT DISTINCT i.id FROM item i JOIN assignment a ON a.item_id = i.id
   WHERE a.unit_id = 2 AND a.status = 'ACTIVE' AND i.stage NOT IN ('CLOSED', 'CANCELLED', 'SUSPENDED')
   ORDER BY i.id" >"$ids"
id_min="$(q 'SELECT min(id) FROM item')"
id_max="$(q 'SELECT max(id) FROM item')"
say "$(wc -l <"$ids") open items of unit 2 to write on; reads over ids $id_min..$id_max"

printf '%s' '{"query":"mutation($id: ID!) { reportProgress(input: {itemId: $id, body: \"基准测试：本周进展\"}) { report { databaseId } } }","variables":{"id":"__WRITE_ID__"}}' >"$OUT/write.json"
printf '%s' '{"query":"query($id: ID!) { item(id: $id) { databaseId serial title stage assignments { lead dueAt effectiveDueAt unit { name } } } }","variables":{"id":"__RANDOM_ID__"}}' >"$OUT/read.json"

: >"$results"
load() { # run conns seconds rep
  local share
  case "$1" in
    reads) share=0 ;;
    writes) share=1 ;;
    mix) share="$WRITE_SHARE" ;;
    *) die "unknown run '$1' (reads, writes, mix)" ;;
  esac
  WRITE_BODY_FILE="$OUT/write.json" IDS_FILE="$ids" WRITE_TOKEN="$write_token" WRITE_SHARE="$share" \
    READ_BODY_FILE="$OUT/read.json" READ_TOKEN="$read_token" ID_MIN="$id_min" ID_MAX="$id_max" \
    BENCH_SERVER=ducha BENCH_QUERY="$1" BENCH_CONNS="$2" BENCH_REP="$4" \
    wrk -t "$(($2 < 2 ? $2 : 2))" -c "$2" -d "${3}s" --timeout 10s -s "$here/mix.lua" \
    "http://127.0.0.1:$DUCHA_PORT/graphql" | grep '^{"kind":"run"'
}
for run in $RUNS; do
  for conns in $CONNS; do
    [[ "$WARMUP" -gt 0 ]] && load "$run" "$conns" "$WARMUP" 0 >/dev/null
    for rep in $(seq 1 "$REPS"); do
      line="$(load "$run" "$conns" "$DURATION" "$rep")"
      echo "$line" >>"$results"
      say "$line"
    done
  done
done
rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$ducha_pid/status")"
say "ducha VmRSS after the load: $((rss / 1024)) MB"
python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("| run | conns | writes/s (min / median / max) | reads/s (median) | p99 ms (median) | failed |")
print("|---|---|---|---|---|---|")
keys = sorted({(r["query"], r["conns"]) for r in runs}, key=lambda k: (["reads", "writes", "mix"].index(k[0]), k[1]))
for query, conns in keys:
    rs = [r for r in runs if r["query"] == query and r["conns"] == conns]
    w = sorted(r["writes_rps"] for r in rs)
    print(f"| {query} | {conns} | {w[0]:,.0f} / **{statistics.median(w):,.0f}** / {w[-1]:,.0f} | "
          f"{statistics.median(r['reads_rps'] for r in rs):,.0f} | {statistics.median(r['p99_ms'] for r in rs):.2f} | "
          f"{sum(r['failed'] + r['errors'] for r in rs)} |")
PY
