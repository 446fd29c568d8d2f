#!/usr/bin/env bash
# Link figures of a site node syncing with the hub through osrc-faultproxy (bytes counted at the
# proxy), with the default [sync] settings of node.toml unless said otherwise:
#   (a) time and bytes (both directions) to sync 1,000 participants (3,000 records: osrc-gen
#       --participants 1000 --services-per 2) over 256 kbit/s (32,000 bytes/s each way) with
#       300 ms one-way latency, one `osrc-node sync`; (a2) then 3,000 more records in a second
#       `osrc-node sync` of the same site, whose first pushes leave with the Hello; (a3) the floor
#       of a session: one with nothing to send, and the data's own time on the link;
#   (b) bytes re-sent when the connection is cut every 256 KiB during a 30,000-record sync by the
#       daemon (`osrc-node run`): bytes up with cuts minus bytes up of a clean run of the same data;
#   (d) a first sync of 30,000 records (10,000 participants) on loopback through the proxy without
#       limits, `osrc-node sync` from process start to exit, and the session alone as the node
#       reports it (from starting to connect until in step, as PouchDB times (p)), medians;
#   (c) time from a blackhole to its detection with the default heartbeats (2000/6000 ms): node
#       status leaving "in step" (polled every 50 ms) and the "link down" line of node.log;
#   (e) a long thin pipe, 64 kbit/s (8,000 bytes/s each way) with 1 s one-way latency: how busy
#       the link is during (e1) a first sync of 1,000 participants (`osrc-node sync`, bytes up)
#       and (e2) a reference update of 10,000 records at the hub delivered to the running site
#       node (bytes down). Busy: the share of the link's capacity used from the first to the last
#       100 ms the direction ran at least half full (the proxy's timeline); the set-up round
#       trips before and the last acknowledgement after are outside it, and shown as the time;
#   (p) the baseline of (d) and (a): PouchDB 9 replicating the same records to a CouchDB-protocol
#       server (express-pouchdb, bench/pouchdb) through the same proxy; the replication alone is
#       timed. With (a) or (d) in the same run, prints how many times as long PouchDB took.
#
#   bench/link_figures.sh [BIN_DIR] [a|b|c|d|e|p ...]     e.g. bench/link_figures.sh build/bin
# LINK_FIGURES_RUNS=N repeats (c), (d) and (p-d) N times each (default 3; the host's noise on
# (d) is tens of milliseconds, so 9 or more give a steadier median). Exits 1 if a sync fails.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
POUCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/pouchdb" && pwd)
POUCH=$POUCH_DIR/replicate.mjs
BIN=$(cd "${1:-build/bin}" && pwd)
shift || true
WHICH=${*:-a b c d e p}
RUNS=${LINK_FIGURES_RUNS:-3}
WORK=$(mktemp -d /tmp/osrc-link-figures.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# start_proxy TARGET_PORT: an osrc-faultproxy in front of it, in $D. Sets PFD and PROXY_PORT.
start_proxy() {
  mkfifo "$D/proxy.in"
  "$BIN/osrc-faultproxy" --listen 0 --target "$1" <"$D/proxy.in" >"$D/proxy.out" 2>&1 &
  PIDS+=($!)
  exec {PFD}>"$D/proxy.in"
  PROXY_PORT=
  for _ in $(seq 100); do
    PROXY_PORT=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$D/proxy.out")
    [ -n "$PROXY_PORT" ] && break
    sleep 0.05
  done
}

# setup NAME: a hub (running) and a node MAS behind a proxy, in $WORK/NAME. Sets D, HUB, PFD.
setup() {
  D=$WORK/$1
  mkdir -p "$D"
  local port key hub_key
  hub_key=$("$BIN/osrc-hub" init --data "$D/hub" --bind "tcp://127.0.0.1:*" | tail -1)
  "$BIN/osrc-hub" run --data "$D/hub" --console off 2>"$D/hub.err" &
  HUB=$!
  PIDS+=("$HUB")
  for _ in $(seq 200); do grep -q 'listening on' "$D/hub.err" && break; sleep 0.05; done
  port=$(sed -n 's/^tcp:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$D/hub/hub.endpoint")
  start_proxy "$port"
  key=$("$BIN/osrc-node" init --data "$D/node" --site MAS --hub "tcp://127.0.0.1:$PROXY_PORT" \
        --hub-key "$hub_key" | tail -1)
  "$BIN/osrc-hub" enrol --data "$D/hub" --site MAS --key "$key" >/dev/null
}

# setup_pouch NAME: the PouchDB baseline's CouchDB-protocol server (running, as HUB) behind a
# proxy, in $WORK/NAME. Sets D, HUB, PFD.
setup_pouch() {
  D=$WORK/$1
  mkdir -p "$D"
  node "$POUCH" serve "$D/server" >"$D/server.out" 2>&1 &
  HUB=$!
  PIDS+=("$HUB")
  for _ in $(seq 200); do grep -q '^listening' "$D/server.out" && break; sleep 0.05; done
  start_proxy "$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$D/server.out")"
}

# participants N: the path of osrc-gen's records of N participants (3 records each) for MAS.
participants() {
  local file=$WORK/participants-$1.jsonl
  [ -s "$file" ] || "$BIN/osrc-gen" --site MAS --participants "$1" --services-per 2 --out "$file"
  echo "$file"
}

# proxy_ask COMMAND PREFIX: sends COMMAND to the proxy and prints its answer, the next line of its
# output that starts with PREFIX.
proxy_ask() {
  local before
  before=$(grep -c "^$2" "$D/proxy.out")
  echo "$1" >&"$PFD"
  for _ in $(seq 200); do
    [ "$(grep -c "^$2" "$D/proxy.out")" -gt "$before" ] && break
    sleep 0.02
  done
  grep "^$2" "$D/proxy.out" | tail -1
}

# proxy_stats: "UP DOWN ACCEPTED CUT" of the current proxy.
proxy_stats() { proxy_ask stats up= | sed 's/[a-z]*=//g'; }

in_step() {
  local status
  status=$("$BIN/osrc-node" status --data "$D/node" --json)
  [ "$(json_value "$status" link)" = "in step" ] && [ "$(json_value "$status" pending)" = 0 ]
}

wait_in_step() {  # seconds
  local deadline=$(( $(date +%s) + $1 ))
  while ! in_step; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05  # polling interval
  done
}

# timed_sync TIMEOUT: one `osrc-node sync` of $D/node, from process start to exit; sets SYNC_MS,
# and SESSION_MS to the session alone as the node reports it ("in step after S s": from starting
# to connect until in step), and returns the sync's exit status (its stderr in $D/sync.err).
timed_sync() {
  local t0 rc seconds
  t0=$(now_ms)
  "$BIN/osrc-node" sync --data "$D/node" --timeout "$1" >"$D/sync.out" 2>"$D/sync.err"
  rc=$?
  SYNC_MS=$(( $(now_ms) - t0 ))
  seconds=$(sed -n 's/^in step after \([0-9]*\)\.\([0-9]*\) s:.*/\1\2/p' "$D/sync.out")
  SESSION_MS=$(( 10#${seconds:-0} ))
  return "$rc"
}

# link_busy up|down RATE: "BYTES SPAN_MS PERCENT" of that direction since the proxy's last `mark`:
# the bytes over its busy span (first to last 100 ms slot at least half full) and how full.
link_busy() {
  local line
  line=$(proxy_ask timeline timeline)
  sed -n "s/.* $1=\([0-9,]*\).*/\1/p" <<<"$line" | tr ',' '\n' | awk -v rate="$2" '
    { slot[NR] = $1 }
    END {
      full = rate / 10; first = 0; last = 0
      for (i = 1; i <= NR; i++) if (slot[i] >= full / 2) { if (!first) first = i; last = i }
      if (!first) { print 0, 0, 0; exit }
      for (i = first; i <= last; i++) bytes += slot[i]
      span = (last - first + 1) * 100
      printf "%d %d %d\n", bytes, span, 100 * bytes / (full * (last - first + 1))
    }'
}

teardown() {
  echo quit >&"$PFD"
  exec {PFD}>&-
  kill -TERM "$HUB" 2>/dev/null
  wait "$HUB" 2>/dev/null
}

figure_a() {
  setup a
  "$BIN/osrc-node" import --data "$D/node" "$(participants 1000)" >/dev/null
  echo "rate 32000" >&"$PFD"
  echo "latency 300" >&"$PFD"
  local rc
  timed_sync 600
  rc=$?
  read -r up down accepted cut < <(proxy_stats)
  [ "$rc" = 0 ] || { teardown; echo "(a) sync failed: $(cat "$D/sync.err")"; return 1; }
  printf '(a) 3,000 records over 32,000 B/s + 300 ms: %d.%03d s, %d bytes up + %d bytes down = %d bytes (%d connection)\n' \
    $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) "$up" "$down" $(( up + down )) "$accepted"
  A_MS=$SYNC_MS
  # A later session of the same site: its first pushes leave with the Hello.
  "$BIN/osrc-gen" --site MAS --participants 1000 --services-per 2 --start 1001 --seed 2 |
    "$BIN/osrc-node" import --data "$D/node" - >/dev/null
  local up2 down2 accepted2
  timed_sync 600
  rc=$?
  read -r up2 down2 accepted2 cut < <(proxy_stats)
  [ "$rc" = 0 ] || { teardown; echo "(a2) sync failed: $(cat "$D/sync.err")"; return 1; }
  printf '(a2) 3,000 more records in a later session, same link: %d.%03d s, %d bytes up + %d bytes down = %d bytes\n' \
    $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) $(( up2 - up )) $(( down2 - down )) $(( up2 - up + down2 - down ))
  local a2_ms=$SYNC_MS
  # The floor: a session with nothing to send (connection, CurveZMQ handshake, Hello and
  # Welcome, Bye), and the data's own time on the link; a session cannot take much less than
  # their sum.
  timed_sync 600
  rc=$?
  teardown
  [ "$rc" = 0 ] || { echo "(a3) sync failed: $(cat "$D/sync.err")"; return 1; }
  awk -v e="$SYNC_MS" -v a="$A_MS" -v a2="$a2_ms" -v b1="$up" -v b2="$(( up2 - up ))" 'BEGIN {
    t1 = b1 / 32; t2 = b2 / 32
    printf "(a3) the floor, same link: a session with nothing to send %.3f s; (a) %.3f s is %+.3f s from it plus its data time on the link (%.3f s); (a2) %.3f s is %+.3f s from it plus its data time (%.3f s)\n",
      e / 1000, a / 1000, (a - e - t1) / 1000, t1 / 1000, a2 / 1000, (a2 - e - t2) / 1000, t2 / 1000
  }'
}

figure_b() {
  local clean_up up down accepted cut t0 t1
  setup b-clean
  "$BIN/osrc-node" import --data "$D/node" "$(participants 10000)" >/dev/null
  "$BIN/osrc-node" sync --data "$D/node" --timeout 300 >/dev/null 2>"$D/sync.err" ||
    { echo "(b) clean sync failed: $(cat "$D/sync.err")"; teardown; return 1; }
  read -r clean_up down accepted cut < <(proxy_stats)
  teardown

  setup b-cut
  "$BIN/osrc-node" import --data "$D/node" "$(participants 10000)" >/dev/null
  sed -i -e 's/^reconnect_max_ms = .*/reconnect_max_ms = 1000/' "$D/node/node.toml"
  echo "cut-after 262144" >&"$PFD"
  t0=$(now_ms)
  "$BIN/osrc-node" run --data "$D/node" 2>"$D/node.err" &
  local node=$!
  PIDS+=("$node")
  wait_in_step 300 || echo "(b) not in step after 300 s"
  t1=$(now_ms)
  read -r up down accepted cut < <(proxy_stats)
  kill -TERM "$node"; wait "$node"
  teardown
  printf '(b) 30,000 records, cut every 256 KiB: clean %d bytes up; with %d cuts %d bytes up over %d connections: re-sent %d bytes (%d per cut); %d.%03d s\n' \
    "$clean_up" "$cut" "$up" "$accepted" $(( up - clean_up )) $(( cut > 0 ? (up - clean_up) / cut : 0 )) \
    $(( (t1 - t0) / 1000 )) $(( (t1 - t0) % 1000 ))
}

# median_of N...: the middle value (the mean of the two middle ones for an even count).
median_of() {
  local sorted
  mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
  local n=${#sorted[@]}
  if (( n % 2 )); then echo "${sorted[n / 2]}"; else echo $(( (sorted[n / 2 - 1] + sorted[n / 2]) / 2 )); fi
}

figure_d() {
  local rc up down accepted cut runs=() sessions=() run
  for run in $(seq "$RUNS"); do
    setup "d$run"
    "$BIN/osrc-node" import --data "$D/node" "$(participants 10000)" >/dev/null
    timed_sync 300
    rc=$?
    read -r up down accepted cut < <(proxy_stats)
    teardown
    [ "$rc" = 0 ] || { echo "(d) sync failed: $(cat "$D/sync.err")"; return 1; }
    runs+=("$SYNC_MS")
    sessions+=("$SESSION_MS")
    printf '(d) run %d: 30,000 records, first sync on loopback: %d.%03d s from process start to exit, %d.%03d s the session alone; %d bytes up (%d.%d per record)\n' \
      "$run" $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) $(( SESSION_MS / 1000 )) $(( SESSION_MS % 1000 )) \
      "$up" $(( up / 30000 )) $(( up * 10 / 30000 % 10 ))
  done
  local median session
  median=$(median_of "${runs[@]}")
  session=$(median_of "${sessions[@]}")
  printf '(d) median %d.%03d s from process start to exit, %d.%03d s the session alone\n' \
    $(( median / 1000 )) $(( median % 1000 )) $(( session / 1000 )) $(( session % 1000 ))
  D_MS=$median
  D_SESSION_MS=$session
}

# pouch_push RECORDS: replicates them from a fresh local PouchDB through the proxy once; sets
# SYNC_MS (the replication alone, as PouchDB times it).
pouch_push() {
  local result
  result=$(node "$POUCH" push "$D/local" "$1" "http://127.0.0.1:$PROXY_PORT/osrc" 2>"$D/push.err") ||
    { echo "PouchDB replication failed: $(cat "$D/push.err")" >&2; return 1; }
  SYNC_MS=$(sed -n 's/.*"ms":\([0-9]*\).*/\1/p' <<<"$result")
}

# (p) the PouchDB baseline of (d) and (a): the same records replicated by PouchDB 9 to a
# CouchDB-protocol server (express-pouchdb) through the same proxy.
figure_p() {
  if [ ! -d "$POUCH_DIR/node_modules" ]; then
    echo "(p) skipped: the PouchDB baseline is not installed (make pouchdb-deps)"
    return 0
  fi
  local run runs=() up down accepted cut median
  for run in $(seq "$RUNS"); do
    setup_pouch "p$run"
    pouch_push "$(participants 10000)" || { teardown; return 1; }
    read -r up down accepted cut < <(proxy_stats)
    teardown
    runs+=("$SYNC_MS")
    printf '(p-d) run %d: PouchDB, 30,000 records on loopback: %d.%03d s, %d bytes up + %d down (%d per record)\n' \
      "$run" $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) "$up" "$down" $(( (up + down) / 30000 ))
  done
  median=$(median_of "${runs[@]}")
  printf '(p-d) median %d.%03d s\n' $(( median / 1000 )) $(( median % 1000 ))
  PD_MS=$median
  setup_pouch pa
  echo "rate 32000" >&"$PFD"
  echo "latency 300" >&"$PFD"
  pouch_push "$(participants 1000)" || { teardown; return 1; }
  read -r up down accepted cut < <(proxy_stats)
  teardown
  printf '(p-a) PouchDB, 3,000 records over 32,000 B/s + 300 ms: %d.%03d s, %d bytes up + %d down (%d per record)\n' \
    $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) "$up" "$down" $(( (up + down) / 3000 ))
  PA_MS=$SYNC_MS
}

# ratio NAME OURS_MS THEIRS_MS: how many times faster osrc-sync was in this run.
ratio() {
  [ -n "$2" ] && [ -n "$3" ] && [ "$2" -gt 0 ] || return 0
  printf '%s: PouchDB took %d.%d times as long as osrc-sync in this run\n' "$1" \
    $(( $3 / $2 )) $(( $3 * 10 / $2 % 10 ))
}

figure_c() {
  local run t0 t_status t_log node status line
  for run in $(seq "$RUNS"); do
    setup "c$run"
    "$BIN/osrc-node" run --data "$D/node" 2>"$D/node.err" &
    node=$!
    PIDS+=("$node")
    wait_in_step 60 || { echo "(c) not in step"; return 1; }
    # Idle in step for a moment, like a real link between syncs.
    sleep 1
    echo blackhole >&"$PFD"
    t0=$(date +%s%N)
    t_status=
    while true; do
      status=$("$BIN/osrc-node" status --data "$D/node" --json)
      if [ "$(json_value "$status" link)" != "in step" ]; then t_status=$(date +%s%N); break; fi
      [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 60 ] || break
      sleep 0.05  # polling interval
    done
    # The time of the "link down" line in node.log ("[YYYY-MM-DD HH:MM:SS.mmm] ...").
    for _ in $(seq 100); do grep -q 'link down' "$D/node/node.log" && break; sleep 0.05; done
    line=$(grep -m1 'link down' "$D/node/node.log")
    t_log=$(date -d "$(sed 's/^\[\([^]]*\)\].*/\1/' <<<"$line")" +%s%N)
    printf '(c) run %d: blackhole detected after %d ms (status: "%s", "%s"); node.log line after %d ms\n' \
      "$run" $(( (t_status - t0) / 1000000 )) "$(json_value "$status" link)" \
      "$(json_value "$status" last_error)" $(( (t_log - t0) / 1000000 ))
    kill -TERM "$node"; wait "$node"
    teardown
  done
}

figure_e() {
  local rate=8000 rc up down accepted cut bytes span busy t0 head
  setup e
  "$BIN/osrc-node" import --data "$D/node" "$(participants 1000)" >/dev/null
  echo "rate $rate" >&"$PFD"
  echo "latency 1000" >&"$PFD"
  echo mark >&"$PFD"
  timed_sync 600
  rc=$?
  read -r up down accepted cut < <(proxy_stats)
  [ "$rc" = 0 ] || { teardown; echo "(e1) sync failed: $(cat "$D/sync.err")"; return 1; }
  read -r bytes span busy < <(link_busy up "$rate")
  printf '(e1) first sync of 3,000 records over 8,000 B/s + 1 s: %d.%03d s, %d bytes up; link up %d%% busy over %d.%d s (%d bytes)\n' \
    $(( SYNC_MS / 1000 )) $(( SYNC_MS % 1000 )) "$up" "$busy" $(( span / 1000 )) $(( span % 1000 / 100 )) "$bytes"

  "$BIN/osrc-node" run --data "$D/node" 2>"$D/node.err" &
  local node=$!
  PIDS+=("$node")
  wait_in_step 120 || { teardown; echo "(e2) node not in step"; return 1; }
  write_reference_records "$WORK/reference.jsonl" 10000
  echo mark >&"$PFD"
  t0=$(now_ms)
  "$BIN/osrc-hub" ref import --data "$D/hub" localities "$WORK/reference.jsonl" >/dev/null
  head=$(json_value "$("$BIN/osrc-hub" status --data "$D/hub" --json)" log_head)
  until [ "$(json_value "$("$BIN/osrc-node" status --data "$D/node" --json)" reference_version)" -ge "$head" ]; do
    [ $(( $(now_ms) - t0 )) -lt 600000 ] || { teardown; echo "(e2) not delivered in 600 s"; return 1; }
    sleep 0.05  # polling interval
  done
  local took=$(( $(now_ms) - t0 ))
  read -r bytes span busy < <(link_busy down "$rate")
  kill -TERM "$node"; wait "$node"
  teardown
  printf '(e2) 10,000 reference records to a running site over the same link: %d.%03d s from the import; link down %d%% busy over %d.%d s (%d bytes)\n' \
    $(( took / 1000 )) $(( took % 1000 )) "$busy" $(( span / 1000 )) $(( span % 1000 / 100 )) "$bytes"
}

echo "link figures: $BIN, work folder $WORK"
status=0
A_MS= D_MS= D_SESSION_MS= PA_MS= PD_MS=
for figure in $WHICH; do "figure_$figure" || status=1; done
ratio "(d) vs (p-d), 30,000 records on loopback" "$D_MS" "$PD_MS"
ratio "(d) session alone vs (p-d), both the replication alone" "$D_SESSION_MS" "$PD_MS"
ratio "(a) vs (p-a), 3,000 records over 256 kbit/s + 300 ms" "$A_MS" "$PA_MS"
exit "$status"
