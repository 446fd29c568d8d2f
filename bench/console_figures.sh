#!/usr/bin/env bash
# Page weight and time of the console's Sites and Conflicts pages on a hub holding the records
# of four sites (default 4 x 125,000 participants with one service each: 1,000,000 records).
# Usage: bench/console_figures.sh [BIN_DIR] [PARTICIPANTS_PER_SITE]
# Server time: curl's time to first byte on loopback (request sent, page rendered, first byte
# back), median of 5 requests after one warm-up.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
PER_SITE=${2:-125000}
SITES=(MAS ANT MAG ADS)
WORK=$(mktemp -d /tmp/osrc-console-figures.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

HUB_KEY=$("$BIN/osrc-hub" init --data "$WORK/hub" --bind 'tcp://127.0.0.1:*' | tail -1)
"$BIN/osrc-hub" operator add --data "$WORK/hub" bench --role admin <<<"bench-password"
"$BIN/osrc-hub" run --data "$WORK/hub" --console 127.0.0.1:0 2>"$WORK/hub.err" &
PIDS+=($!)
until [ -s "$WORK/hub/hub.endpoint" ] && [ -s "$WORK/hub/console.address" ]; do sleep 0.1; done
ENDPOINT=$(cat "$WORK/hub/hub.endpoint")
CONSOLE=$(cat "$WORK/hub/console.address")
start=$(date +%s)
for site in "${SITES[@]}"; do
  key=$("$BIN/osrc-node" init --data "$WORK/$site" --site "$site" --hub "$ENDPOINT" \
        --hub-key "$HUB_KEY" | tail -1)
  "$BIN/osrc-hub" enrol --data "$WORK/hub" --site "$site" --key "$key" >/dev/null
  "$BIN/osrc-gen" --site "$site" --participants "$PER_SITE" --services-per 1 --out "$WORK/$site.jsonl"
  "$BIN/osrc-node" import --data "$WORK/$site" "$WORK/$site.jsonl" >/dev/null 2>&1
  rm "$WORK/$site.jsonl"
done
echo "generated and imported at the sites in $(($(date +%s) - start)) s"
start=$(date +%s)
SYNCS=()
for site in "${SITES[@]}"; do "$BIN/osrc-node" sync --data "$WORK/$site" >/dev/null 2>&1 & SYNCS+=($!); done
for pid in "${SYNCS[@]}"; do wait "$pid"; done
echo "synced to the hub in $(($(date +%s) - start)) s"
# A conflict per site on the same record: hub and site edit between two syncs.
for site in "${SITES[@]}"; do
  "$BIN/osrc-hub" put --data "$WORK/hub" participants "$site-P0000001" --json '{"occupation":"hub"}' >/dev/null
  "$BIN/osrc-node" put --data "$WORK/$site" participants "$site-P0000001" --json '{"occupation":"site"}' >/dev/null
  "$BIN/osrc-node" sync --data "$WORK/$site" >/dev/null 2>&1
  "$BIN/osrc-node" run --data "$WORK/$site" 2>"$WORK/$site.err" &
  PIDS+=($!)
done
"$BIN/osrc-hub" status --data "$WORK/hub" | sed -n '2,3p;5,9p'
echo "records at the hub: $("$BIN/osrc-hub" status --data "$WORK/hub" --json |
  python3 -c 'import json,sys; print(sum(s["records"] for s in json.load(sys.stdin)["sites"]))')"
curl -s -c "$WORK/jar" -o "$WORK/login.html" "http://$CONSOLE/login"  # the form's token and cookie
TOKEN=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$WORK/login.html")
curl -s -b "$WORK/jar" -c "$WORK/jar" -o /dev/null -d "csrf=$TOKEN&name=bench&password=bench-password" \
  "http://$CONSOLE/login"
for page in sites conflicts reference metrics; do
  auth=(-b "$WORK/jar")
  [ "$page" = metrics ] && auth=(-u bench:bench-password)
  curl -s "${auth[@]}" -o /dev/null "http://$CONSOLE/$page"  # warm-up
  times=()
  for _ in 1 2 3 4 5; do
    times+=("$(curl -s "${auth[@]}" -o "$WORK/$page.html" -w '%{time_starttransfer}' "http://$CONSOLE/$page")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  printf '%-10s %8d bytes  %6.1f ms (median of 5: %s s)\n' "/$page" "$(wc -c <"$WORK/$page.html")" \
    "$(echo "$median * 1000" | bc -l)" "${times[*]}"
done
