#!/usr/bin/env bash
# make soak: a hub and four site nodes (MAS, ANT, MAG, ADS) on 127.0.0.1, each node talking to
# the hub through its own link-fault proxy (osrc-faultproxy). For SOAK_SECONDS the sites keep
# writing (put, import, delete) while links are cut, cut after N bytes, blackholed, throttled and
# healed, and node daemons and the hub are killed (SIGKILL) and restarted, at random. Then every
# link is healed, every daemon runs, and once all sites are in step each site's records
# (`osrc-node export`, site collections) must equal the hub's `osrc-hub export --site` byte for
# byte, with matching counts (hub records, hub acked = node log head = node acked).
#
#   scripts/soak.sh BIN_DIR [SECONDS]      SOAK_SEED=N replays the same sequence of actions
#                                          SOAK_KEEP=1 keeps the work folder
# Prints a summary; exits 1 on any mismatch or unexpected daemon exit, 0 otherwise.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIN=$(cd "${1:-build/bin}" && pwd)
SECONDS_TOTAL=${2:-${SOAK_SECONDS:-300}}
SEED=${SOAK_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
SITES=(MAS ANT MAG ADS)
SITE_COLLECTIONS='^\{"collection":"(attendance|participants|referrals|services|trainings)"'
CONVERGE_SECONDS=${SOAK_CONVERGE_SECONDS:-300}
WORK=$(mktemp -d /tmp/osrc-soak.XXXXXX)
FAILURES=()

declare -A NODE_PID PROXY_PID PROXY_FD PROXY_PORT NEXT_P DELETED LINK_FAULT COUNT
HUB_PID=
fail() { FAILURES+=("$*"); echo "FAIL: $*" >&2; }
count() { COUNT[$1]=$(( ${COUNT[$1]:-0} + 1 )); }
log() { printf '%s %s\n' "$(date +%T)" "$*" >>"$WORK/actions.log"; }

cleanup() {
  local pid
  for pid in "${NODE_PID[@]}" $HUB_PID; do kill -TERM "$pid" 2>/dev/null; done
  for site in "${!PROXY_FD[@]}"; do echo quit >&"${PROXY_FD[$site]}" 2>/dev/null; done
  for pid in "${NODE_PID[@]}" $HUB_PID "${PROXY_PID[@]}"; do wait "$pid" 2>/dev/null; done
  if [ ${#FAILURES[@]} -eq 0 ] && [ -z "${SOAK_KEEP:-}" ]; then
    rm -rf "$WORK"
  else
    echo "work folder kept: $WORK"
  fi
}
trap cleanup EXIT


# "acked records" of a site in `osrc-hub status --json`.
hub_site_counts() {
  "$BIN/osrc-hub" status --data "$WORK/hub" --json | awk -v site="$1" '
    /"site":/ { cur = $2; gsub(/[",]/, "", cur) }
    cur == site && /"acked":/ { a = $2; gsub(/,/, "", a) }
    cur == site && /"records":/ { r = $2; gsub(/,/, "", r) }
    END { print a, r }'
}

start_hub() {
  "$BIN/osrc-hub" run --data "$WORK/hub" --console off 2>>"$WORK/hub.err" &
  HUB_PID=$!
}

start_node() {
  "$BIN/osrc-node" run --data "$WORK/$1" 2>>"$WORK/$1.err" &
  NODE_PID[$1]=$!
}

# Reaps a daemon that ended; a daemon that ended without being killed by us is a failure.
check_alive() {  # what pid
  if ! kill -0 "$2" 2>/dev/null; then
    wait "$2"
    fail "$1 (pid $2) exited by itself with status $?"
    return 1
  fi
}

kill_and_wait() { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

proxy() {  # site command...
  echo "$2${3:+ $3}" >&"${PROXY_FD[$1]}"
}

# -- setup -----------------------------------------------------------------------------------
# The hub binds any free port and logs "listening on ENDPOINT"; hub.toml then keeps that port, so
# restarts come back where the proxies forward.
HUB_KEY=$("$BIN/osrc-hub" init --data "$WORK/hub" --bind 'tcp://127.0.0.1:*' | tail -1)
start_hub
HUB_ENDPOINT=
for _ in $(seq 600); do
  HUB_ENDPOINT=$(sed -n 's/.*listening on \(tcp:\/\/[^ ]*\).*/\1/p' "$WORK/hub.err" | head -1)
  [ -n "$HUB_ENDPOINT" ] && break
  check_alive "osrc-hub run" "$HUB_PID" || exit 1
  sleep 0.05  # polling interval
done
HUB_PORT=${HUB_ENDPOINT##*:}
[ -n "$HUB_PORT" ] || { echo "osrc-hub run did not report its endpoint"; exit 1; }
sed -i "0,/^bind = .*/s||bind = \"$HUB_ENDPOINT\"|" "$WORK/hub/hub.toml"  # the first: the sync bind
for site in "${SITES[@]}"; do
  mkfifo "$WORK/$site.proxy.in"
  "$BIN/osrc-faultproxy" --listen 0 --target "$HUB_PORT" <"$WORK/$site.proxy.in" \
      >"$WORK/$site.proxy.out" 2>"$WORK/$site.proxy.err" &
  PROXY_PID[$site]=$!
  exec {fd}>"$WORK/$site.proxy.in"
  PROXY_FD[$site]=$fd
  for _ in $(seq 100); do
    PROXY_PORT[$site]=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/$site.proxy.out")
    [ -n "${PROXY_PORT[$site]}" ] && break
    sleep 0.05
  done
  [ -n "${PROXY_PORT[$site]}" ] || { echo "proxy for $site did not start"; exit 1; }
  key=$("$BIN/osrc-node" init --data "$WORK/$site" --site "$site" \
        --hub "tcp://127.0.0.1:${PROXY_PORT[$site]}" --hub-key "$HUB_KEY" | tail -1)
  "$BIN/osrc-hub" enrol --data "$WORK/hub" --site "$site" --key "$key" >/dev/null
  # Quick failure detection and retries, so the soak sees many reconnections.
  sed -i -e 's/^heartbeat_ms = .*/heartbeat_ms = 1000/' \
         -e 's/^heartbeat_timeout_ms = .*/heartbeat_timeout_ms = 3000/' \
         -e 's/^reconnect_min_ms = .*/reconnect_min_ms = 100/' \
         -e 's/^reconnect_max_ms = .*/reconnect_max_ms = 2000/' \
         -e 's/^request_timeout_ms = .*/request_timeout_ms = 8000/' "$WORK/$site/node.toml"
  "$BIN/osrc-gen" --site "$site" --participants 300 --services-per 2 |
    "$BIN/osrc-node" import --data "$WORK/$site" - >/dev/null || fail "initial import at $site"
  NEXT_P[$site]=301
  LINK_FAULT[$site]=none
  start_node "$site"
done
echo "soak: seed $SEED, ${SECONDS_TOTAL} s, work folder $WORK, hub port $HUB_PORT"

# -- the random phase --------------------------------------------------------------------------
do_write() {
  local site=$1 n id r=$(( RANDOM % 10 ))
  if [ "$r" -lt 4 ]; then  # put: change a field of a live participant
    n=$(( 1 + RANDOM % (NEXT_P[$site] - 1) ))
    id=$(printf '%s-P%07d' "$site" "$n")
    "$BIN/osrc-node" put --data "$WORK/$site" participants "$id" \
        --json "{\"occupation\":\"soak $RANDOM\",\"phone\":\"09$RANDOM$RANDOM\"}" >/dev/null 2>&1 ||
      fail "put $id at $site"
    count put
  elif [ "$r" -lt 7 ]; then  # import: new participants with their services, one transaction
    n=$(( 1 + RANDOM % 150 ))
    "$BIN/osrc-gen" --site "$site" --participants "$n" --start "${NEXT_P[$site]}" \
        --services-per 2 --seed "$RANDOM" |
      "$BIN/osrc-node" import --data "$WORK/$site" - >/dev/null 2>&1 || fail "import at $site"
    NEXT_P[$site]=$(( NEXT_P[$site] + n ))
    count import
  else  # delete a service not deleted yet
    n=$(( 1 + RANDOM % (2 * (NEXT_P[$site] - 1)) ))
    id=$(printf '%s-S%07d' "$site" "$n")
    [ -n "${DELETED[$id]:-}" ] && return
    "$BIN/osrc-node" delete --data "$WORK/$site" services "$id" >/dev/null 2>&1 ||
      fail "delete $id at $site"
    DELETED[$id]=1
    count delete
  fi
}

do_fault() {
  local site=$1 r=$(( RANDOM % 12 ))
  case $r in
    0|1) proxy "$site" cut; count cut ;;
    2|3) proxy "$site" cut-after $(( 2000 + RANDOM * 8 )); LINK_FAULT[$site]=cut-after
         count cut-after ;;
    4|5) proxy "$site" blackhole; LINK_FAULT[$site]=blackhole; count blackhole ;;
    6)   proxy "$site" rate $(( 4000 + RANDOM % 60000 )); proxy "$site" latency $(( RANDOM % 800 ))
         LINK_FAULT[$site]=slow; count throttle ;;
    *)   proxy "$site" heal; proxy "$site" rate 0; proxy "$site" latency 0
         LINK_FAULT[$site]=none; count heal ;;
  esac
  log "$site link: $r (${LINK_FAULT[$site]})"
}

restart_node() {
  local site=$1
  check_alive "osrc-node run $site" "${NODE_PID[$site]}" && kill_and_wait "${NODE_PID[$site]}"
  start_node "$site"
  count node-restart
  log "$site node restarted"
}

restart_hub() {
  check_alive "osrc-hub run" "$HUB_PID" && kill_and_wait "$HUB_PID"
  start_hub
  count hub-restart
  log "hub restarted"
}

START=$(date +%s)
END=$(( START + SECONDS_TOTAL ))
while [ "$(date +%s)" -lt "$END" ]; do
  site=${SITES[$(( RANDOM % 4 ))]}
  r=$(( RANDOM % 100 ))
  if [ "$r" -lt 60 ]; then
    do_write "$site"
  elif [ "$r" -lt 88 ]; then
    do_fault "$site"
  elif [ "$r" -lt 97 ]; then
    restart_node "$site"
  else
    restart_hub
  fi
  # The pace of the fault injection (not a synchronisation): 0..0.5 s between actions.
  sleep "0.$(( RANDOM % 5 ))"
done

# -- heal, converge, compare -------------------------------------------------------------------
echo "soak: healing every link and waiting for all sites to be in step"
for site in "${SITES[@]}"; do
  proxy "$site" heal; proxy "$site" rate 0; proxy "$site" latency 0
  if ! kill -0 "${NODE_PID[$site]}" 2>/dev/null; then
    check_alive "osrc-node run $site" "${NODE_PID[$site]}"
    start_node "$site"
  fi
done
if ! kill -0 "$HUB_PID" 2>/dev/null; then check_alive "osrc-hub run" "$HUB_PID"; start_hub; fi

in_step() {  # site -> 0 when the node is in step and the hub acknowledged its whole log
  local status head
  status=$("$BIN/osrc-node" status --data "$WORK/$1" --json) || return 1
  head=$(json_value "$status" log_head)
  [ "$(json_value "$status" link)" = "in step" ] && [ "$(json_value "$status" pending)" = 0 ] &&
    [ "$(json_value "$status" acked)" = "$head" ] &&
    [ "$(hub_site_counts "$1" | cut -d' ' -f1)" = "$head" ]
}
HEAL_START=$(date +%s)
pending_sites=("${SITES[@]}")
while [ ${#pending_sites[@]} -gt 0 ] && [ $(( $(date +%s) - HEAL_START )) -lt "$CONVERGE_SECONDS" ]; do
  still=()
  for site in "${pending_sites[@]}"; do in_step "$site" || still+=("$site"); done
  pending_sites=("${still[@]}")
  [ ${#pending_sites[@]} -gt 0 ] && sleep 0.5  # polling interval
done
CONVERGED=$(( $(date +%s) - HEAL_START ))
for site in "${pending_sites[@]}"; do
  fail "$site not in step ${CONVERGE_SECONDS} s after healing: $("$BIN/osrc-node" status --data "$WORK/$site" --json | tr -d '\n ')"
done
for site in "${SITES[@]}"; do check_alive "osrc-node run $site" "${NODE_PID[$site]}"; done
check_alive "osrc-hub run" "$HUB_PID"

echo
printf '%-5s %10s %10s %10s %10s %10s %12s %12s %6s  %s\n' site log_head acked hub_acked \
  records hub_records bytes_up bytes_down cuts exports
for site in "${SITES[@]}"; do
  status=$("$BIN/osrc-node" status --data "$WORK/$site" --json)
  head=$(json_value "$status" log_head)
  acked=$(json_value "$status" acked)
  read -r hub_acked hub_records < <(hub_site_counts "$site")
  "$BIN/osrc-node" export --data "$WORK/$site" --include-personal | grep -E "$SITE_COLLECTIONS" >"$WORK/$site.site.jsonl"
  "$BIN/osrc-hub" export --data "$WORK/hub" --site "$site" --include-personal >"$WORK/$site.hub.jsonl"
  records=$(wc -l <"$WORK/$site.site.jsonl")
  if cmp -s "$WORK/$site.site.jsonl" "$WORK/$site.hub.jsonl"; then
    same=equal
  else
    same=DIFFERENT
    fail "$site: site and hub exports differ ($(wc -l <"$WORK/$site.hub.jsonl") lines at the hub)"
  fi
  [ "$acked" = "$head" ] || fail "$site: node acked $acked, log head $head"
  [ "$hub_acked" = "$head" ] || fail "$site: hub acked $hub_acked, node log head $head"
  [ "$hub_records" = "$records" ] || fail "$site: hub counts $hub_records records, site $records"
  echo stats >&"${PROXY_FD[$site]}"
  stats=
  for _ in $(seq 100); do
    stats=$(grep '^up=' "$WORK/$site.proxy.out" | tail -1)
    [ -n "$stats" ] && break
    sleep 0.05
  done
  up=$(sed -n 's/.*up=\([0-9]*\).*/\1/p' <<<"$stats")
  down=$(sed -n 's/.*down=\([0-9]*\).*/\1/p' <<<"$stats")
  cuts=$(sed -n 's/.*cut=\([0-9]*\).*/\1/p' <<<"$stats")
  printf '%-5s %10s %10s %10s %10s %10s %12s %12s %6s  %s\n' "$site" "$head" "$acked" \
    "$hub_acked" "$records" "$hub_records" "$up" "$down" "$cuts" "$same"
done
echo
actions=
for name in put import delete cut cut-after blackhole throttle heal node-restart hub-restart; do
  actions+=" $name ${COUNT[$name]:-0},"
done
echo "actions:${actions%,}"
echo "link-down lines in node logs: $(cat "$WORK"/*/node.log* 2>/dev/null | grep -c 'link down')"
echo "in step ${CONVERGED} s after healing; seed $SEED; ${SECONDS_TOTAL} s of faults"
if [ ${#FAILURES[@]} -gt 0 ]; then
  echo "SOAK FAILED: ${#FAILURES[@]} problem(s)"
  printf '  %s\n' "${FAILURES[@]}"
  exit 1
fi
echo "SOAK PASSED"
