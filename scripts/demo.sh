#!/usr/bin/env bash
# make demo: a hub and four site nodes (MAS, ANT, MAG, ADS) on 127.0.0.1 in a temporary folder,
# sample data imported at each site, a reference data update at the hub, all in step, a status
# table, the web console's address with a demo operator to log in as, and every process stopped
# again; with KEEP=1 the hub, its console and the four sites run on until Ctrl-C.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
SITES=(MAS ANT MAG ADS)
PARTICIPANTS=${DEMO_PARTICIPANTS:-3000}
WORK=$(mktemp -d /tmp/osrc-demo.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "hub: init in $WORK/hub"
HUB_KEY=$("$BIN/osrc-hub" init --data "$WORK/hub" --bind 'tcp://127.0.0.1:*' | tail -1)
DEMO_OPERATOR=demo-admin
DEMO_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
"$BIN/osrc-hub" operator add --data "$WORK/hub" "$DEMO_OPERATOR" --role admin <<<"$DEMO_PASSWORD"
"$BIN/osrc-hub" run --data "$WORK/hub" --console "127.0.0.1:${DEMO_CONSOLE_PORT:-0}" 2>"$WORK/hub.err" &
PIDS+=($!)
for _ in $(seq 100); do
  ENDPOINT=$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$WORK/hub.err" | head -1)
  [ -n "$ENDPOINT" ] && break
  sleep 0.1
done
[ -n "$ENDPOINT" ] || { cat "$WORK/hub.err"; echo "hub did not start"; exit 1; }
echo "hub listening on $ENDPOINT"

step "sites: init, enrol at the hub, import sample data, start the node daemons"
for site in "${SITES[@]}"; do
  key=$("$BIN/osrc-node" init --data "$WORK/$site" --site "$site" --hub "$ENDPOINT" \
        --hub-key "$HUB_KEY" | tail -1)
  "$BIN/osrc-hub" enrol --data "$WORK/hub" --site "$site" --key "$key" --name "OSRC $site"
  "$BIN/osrc-gen" --site "$site" --participants "$PARTICIPANTS" --services-per 2 \
      --referrals-per 1 --trainings 20 --out "$WORK/$site.jsonl"
  printf '%s: ' "$site"
  "$BIN/osrc-node" import --data "$WORK/$site" "$WORK/$site.jsonl"
  "$BIN/osrc-node" run --data "$WORK/$site" 2>"$WORK/$site.err" &
  PIDS+=($!)
done

step "hub: a reference data update and a central correction"
cat >"$WORK/courses.jsonl" <<'JSON'
{"collection":"courses","id":"seafarer_rights","fields":{"hours":8,"name":"Know your rights at sea","topic":"migrant rights"}}
JSON
"$BIN/osrc-hub" ref import --data "$WORK/hub" courses "$WORK/courses.jsonl"

in_step() {  # site -> 0 when the node reports in step with nothing pending at the hub's head
  local status head
  status=$("$BIN/osrc-node" status --data "$WORK/$1")
  head=$("$BIN/osrc-hub" status --data "$WORK/hub" | sed -n 's/^hub log head \([0-9]*\).*/\1/p')
  grep -q '^link *in step' <<<"$status" &&
    grep -q '^pending *0$' <<<"$status" &&
    grep -q "^reference data *version $head\b" <<<"$status"
}

step "waiting until every site is in step"
start=$(date +%s)
while true; do
  done=0
  for site in "${SITES[@]}"; do in_step "$site" && done=$((done + 1)); done
  [ "$done" = "${#SITES[@]}" ] && break
  if [ $(($(date +%s) - start)) -gt 120 ]; then
    echo "not in step after 120 s"; tail -5 "$WORK"/*.err; exit 1
  fi
  sleep 0.5
done
echo "all ${#SITES[@]} sites in step after $(($(date +%s) - start)) s"

step "hub: a central correction reaches its site"
"$BIN/osrc-hub" put --data "$WORK/hub" participants MAS-P0000001 --json '{"occupation":"seafarer"}'
for _ in $(seq 100); do
  "$BIN/osrc-node" get --data "$WORK/MAS" participants MAS-P0000001 | grep -q seafarer && break
  sleep 0.2
done
"$BIN/osrc-node" get --data "$WORK/MAS" participants MAS-P0000001 | grep -q seafarer
echo "MAS-P0000001 now reads occupation \"seafarer\" at site MAS"

step "site status"
printf '%-5s %-9s %9s %9s %8s  %-20s %s\n' site link records acked pending "last contact" reference
for site in "${SITES[@]}"; do
  s=$("$BIN/osrc-node" status --data "$WORK/$site")
  field() { sed -n "s/^$1 *//p" <<<"$s"; }
  records=$(awk '/^records/{on=1;next} on && /^  (participants|services|referrals|trainings|attendance) /{n+=$2} END{print n+0}' <<<"$s")
  printf '%-5s %-9s %9s %9s %8s  %-20s %s\n' "$site" "$(field link)" "$records" \
    "$(field acknowledged)" "$(field pending)" "$(field 'last contact')" "$(field 'reference data')"
done

step "hub status"
"$BIN/osrc-hub" status --data "$WORK/hub"

step "exports agree"
for site in "${SITES[@]}"; do
  for c in attendance participants referrals services trainings; do  # sorted, as export sorts
    "$BIN/osrc-node" export --data "$WORK/$site" --collection "$c" --include-personal
  done >"$WORK/$site.site.jsonl"
  "$BIN/osrc-hub" export --data "$WORK/hub" --site "$site" --include-personal >"$WORK/$site.hub.jsonl"
  cmp -s "$WORK/$site.site.jsonl" "$WORK/$site.hub.jsonl" &&
    echo "$site: site export == hub export --site $site ($(wc -l <"$WORK/$site.hub.jsonl") records)" ||
    { echo "$site: exports differ"; exit 1; }
done

step "the web console"
CONSOLE=$(cat "$WORK/hub/console.address")
echo "console:  http://$CONSOLE/"
echo "operator: $DEMO_OPERATOR"
echo "password: $DEMO_PASSWORD"
if [ "${KEEP:-0}" = 1 ]; then
  echo "the hub, its console and the four sites keep running in $WORK: Ctrl-C stops them"
  trap 'echo; echo "stopping"; exit 0' INT TERM
  wait
else
  echo "(stopped with the demo below: make demo KEEP=1 keeps it running)"
fi

step "stopping every process"
