#!/usr/bin/env bash
# make sites-bench: many sites on one hub. Starts a hub on 127.0.0.1, enrols SITES simulated
# sites (osrc-loadgen keys, osrc-hub enrol --file), runs them all in one osrc-loadgen process
# pushing CHANGES changes each at RATE per second, and once every site is online imports 1,000
# reference records at the hub, whose delivery every site must then apply. Prints loadgen's JSON,
# the hub's peak anonymous memory, and the time from the reference import to the last site.
# The sites first connect evenly over CONNECT_OVER seconds (default 4), as a fleet comes back
# after a hub restart of a few seconds: each site retries after a jittered backoff of 2 to 4 s by
# then. CONNECT_OVER=0 starts all of them at once.
# Usage: [CONNECT_OVER=S] scripts/sites_bench.sh [BIN_DIR] [SITES] [CHANGES] [RATE] [REFERENCE]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIN=$(cd "${1:-build/bin}" && pwd)
SITES=${2:-2000}
CHANGES=${3:-60}
RATE=${4:-1}
REFERENCE=${5:-1000}  # 0: no reference update, the steady load alone
CONNECT_OVER=${CONNECT_OVER:-4}
WORK=$(mktemp -d /tmp/osrc-sites-bench.XXXXXX)
HUB_PID=""
cleanup() {
  [ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
hub_json() { "$BIN/osrc-hub" status --data "$WORK/hub" --json; }

echo "sites bench: $SITES sites connecting over $CONNECT_OVER s, $CHANGES changes each at $RATE/s, $(nproc) cores"
"$BIN/osrc-hub" init --data "$WORK/hub" --bind 'tcp://127.0.0.1:*' >/dev/null 2>&1
"$BIN/osrc-loadgen" keys --sites "$SITES" --out "$WORK/keys.csv"
"$BIN/osrc-hub" enrol --data "$WORK/hub" --file "$WORK/keys.csv"
"$BIN/osrc-hub" run --data "$WORK/hub" 2>"$WORK/hub.err" &
HUB_PID=$!
until [ -s "$WORK/hub/hub.endpoint" ]; do
  kill -0 "$HUB_PID" || { cat "$WORK/hub.err" >&2; exit 1; }
  sleep 0.1
done
HEAD=$(hub_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["log_head"])')
write_reference_records "$WORK/reference.jsonl" "$REFERENCE"
"$BIN/osrc-loadgen" run --keys "$WORK/keys.csv" --hub "$(cat "$WORK/hub/hub.endpoint")" \
  --hub-key "$(cat "$WORK/hub/hub.pub")" --changes-per-site "$CHANGES" --rate "$RATE" \
  --until-cursor $((HEAD + REFERENCE)) --timeout 900 --connect-over "$CONNECT_OVER" \
  ${LOADGEN_THREADS:+--threads "$LOADGEN_THREADS"} \
  >"$WORK/loadgen.json" &
LOADGEN_PID=$!
PEAK_ANON=0
sample_memory() {
  local kb
  kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$HUB_PID/status" 2>/dev/null || echo 0)
  [ "${kb:-0}" -gt "$PEAK_ANON" ] && PEAK_ANON=$kb
  return 0
}
online() { hub_json | python3 -c 'import json,sys; print(sum(s["online"] for s in json.load(sys.stdin)["sites"]))'; }
until [ "$(online)" -ge "$SITES" ]; do
  kill -0 "$LOADGEN_PID" 2>/dev/null || break
  sample_memory
  sleep 0.5
done
IMPORT_MS=$(now_ms)
if [ "$REFERENCE" -gt 0 ]; then
  "$BIN/osrc-hub" ref import --data "$WORK/hub" localities "$WORK/reference.jsonl" >/dev/null
fi
while kill -0 "$LOADGEN_PID" 2>/dev/null; do
  sample_memory
  sleep 0.5
done
wait "$LOADGEN_PID" || echo "osrc-loadgen failed: $?" >&2
HUB_CPU=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$HUB_PID/stat")
RESULT=$(tail -n 1 "$WORK/loadgen.json")
echo "$RESULT"
python3 - "$RESULT" "$IMPORT_MS" "$PEAK_ANON" "$REFERENCE" "$HUB_CPU" <<'PY'
import json, sys
result, import_ms, peak_kb, reference = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
hub_cpu = float(sys.argv[5])
last = result["cursor_last_unix_ms"]
print(f"sites connected {result['sites_connected']}/{result['sites']} in {result['connect_seconds']:.1f} s; "
      f"changes acked {result['changes_acked']}/{result['changes_expected']}; "
      f"ack p50 {result['ack_p50_ms']:.0f} ms, p99 {result['ack_p99_ms']:.0f} ms, "
      f"p99 once all were connected {result['ack_p99_after_connect_ms']:.0f} ms")
print(f"hub peak anonymous memory {peak_kb / 1024:.0f} MiB")
print(f"CPU: hub {hub_cpu:.1f} s, osrc-loadgen {result['cpu_seconds']:.1f} s, in {result['seconds']:.1f} s")
if last:
    print(f"{reference} reference records reached {result['sites_at_cursor']}/{result['sites']} sites, "
          f"the last {(last - import_ms) / 1000:.1f} s after the import began")
PY
echo "reproduce: CONNECT_OVER=$CONNECT_OVER ${LOADGEN_THREADS:+LOADGEN_THREADS=$LOADGEN_THREADS }scripts/sites_bench.sh $BIN $SITES $CHANGES $RATE $REFERENCE"
