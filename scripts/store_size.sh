#!/usr/bin/env bash
# A site's folder after a year of use: PARTICIPANTS new participants with 2 services each
# (osrc-gen seed 1, `osrc-node import` into a new site), then every record edited once (seed 2
# over the same ids). Prints the store (data.mdb) against all the JSON Lines imported so far.
# Usage: scripts/store_size.sh [BIN_DIR] [PARTICIPANTS]     (5,000: the busiest year we assume)
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
PARTICIPANTS=${2:-5000}
WORK=$(mktemp -d /tmp/osrc-store-size.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BIN/osrc-node" init --data "$WORK/node" --site MAS --hub tcp://127.0.0.1:9 \
  --hub-key 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7' >/dev/null
json=0
for seed in 1 2; do
  "$BIN/osrc-gen" --site MAS --participants "$PARTICIPANTS" --services-per 2 --seed "$seed" \
    --out "$WORK/seed$seed.jsonl"
  "$BIN/osrc-node" import --data "$WORK/node" "$WORK/seed$seed.jsonl" >/dev/null
  records=$(wc -l <"$WORK/seed$seed.jsonl")
  size=$(stat -c %s "$WORK/node/data.mdb")
  json=$(( json + $(stat -c %s "$WORK/seed$seed.jsonl") ))
  label=$([ "$seed" = 1 ] && echo "$records new records" || echo "then each edited once")
  awk -v l="$label" -v s="$size" -v j="$json" \
    'BEGIN { printf "site store, %s: %.1f MB, %.2f times the JSON Lines imported (%.1f MB); target 1.5\n", l, s / 1e6, s / j, j / 1e6 }'
done
echo "reproduce: scripts/store_size.sh $BIN $PARTICIPANTS"
