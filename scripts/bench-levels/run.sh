#!/usr/bin/env bash
# Times what the levels roll-up costs (BENCHMARKS.md, "Levels: what the roll-up costs"): the
# board's whole pass (a colour-policy update drops the held board; the next read computes it)
# and `dashboard(at: now)`, three runs each, against a running instance.
#   TOKEN=<an administrator's API token> URL=http://127.0.0.1:8097/graphql scripts/bench-levels/run.sh
# The database: scripts/bench-levels/seed.sql on a database the binary migrated.
set -euo pipefail
: "${TOKEN:?set TOKEN to an administrator API token}"
URL=${URL:-http://127.0.0.1:8097/graphql}
post() {
  curl -s -o /dev/null -w "%{time_total}" -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "$1" "$URL"
}
# The policy in force by default, written again as a new version.
policy='{"query":"mutation($i: ColourPolicyInput!) { updateColourPolicy(input: $i) { version } }","variables":{"i":{"blueWithinWorkingDays":1,"countProgressReports":true,"onTimeWindowDays":90,"redAfterOverdueWorkingDays":3,"redRejections":2,"reopenIsRed":true,"unitBlueBelowPercent":70,"unitBlueSharePercent":20,"unitMinClosedForRate":10,"unitRedBelowPercent":50,"unitRedSharePercent":30,"unitShareMinItems":3,"unitYellowBelowPercent":60,"unitYellowSharePercent":30,"yellowRejections":1}}}'
board='{"query":"{ dashboard { byColour { colour count } } }"}'
at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
as_of="{\"query\":\"{ dashboard(at: \\\"$at\\\") { byColour { colour count } } }\"}"
for run in 1 2 3; do
  post "$policy" >/dev/null
  whole=$(post "$board")
  echo "run $run: whole pass ${whole}s, as of now $(post "$as_of")s"
done
