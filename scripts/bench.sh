#!/usr/bin/env bash
# make bench: the osrc-sync benchmarks, each with its baseline measured in the same run and
# reported as medians of several repetitions.
#   1. osrc-bench-import: ImportJsonLines of 100,000 records (50,000 participants x 1 service)
#      vs raw LMDB puts of the same keys and values.
#   2. osrc-bench-ingest: four sites x 250,000 changes synced at once into one hub over CURVE,
#      vs raw LMDB batched durable puts of the same data; bytes on the wire per change. Then the
#      hub alone: the same pushes encoded beforehand and sent by the bench process.
#   3. osrc-bench-report: reports with disclosure control over 1,000,000 participants and
#      3,000,000 services at a hub vs a raw LMDB cursor scan of the same records.
#   4. osrc-bench-mirror: `osrc-hub mirror --once`'s first copy of the same data set into a
#      private PostgreSQL 15 server vs PostgreSQL COPY of the same rows; the feed's cost at merge.
#   5. osrc-bench-status: `osrc-hub status` on a hub of 10,000,000 records vs a raw LMDB cursor
#      scan of them (status reads kept counts; it must not scan).
#   6. osrc-bench-wire: bytes per change of pushes by encoding and push size, on osrc-gen samples
#      of two seeds and a hand-made file, vs their JSON Lines and zstd -19 of the whole file.
#   7. bench/link_figures.sh a d e p: a site's sync of 3,000 records over 256 kbit/s with 300 ms
#      one way (first and later session); a first sync of 30,000 records on loopback; how busy
#      a 64 kbit/s link with 1 s one way is kept by a first sync and a reference update; and
#      PouchDB replicating the same records through the same proxy, the baseline of the first two.
#   8. scripts/sites_bench.sh: 2,000 sites (times the scale, at least 100) in one osrc-loadgen,
#      60 changes each at 1/s, and a reference update of 1,000 records to all of them.
#   9. scripts/store_size.sh: a site's folder after a year (5,000 participants times the scale,
#      at least 100, with 2 services each, then each record edited), vs the JSON Lines imported.
# Usage: scripts/bench.sh [BIN_DIR] [--scale X] [--reps N] [--only import|ingest|report|mirror|status|wire|link|sites|store]
#   --scale 0.05 runs a quick, smaller check (the full run takes about 10 minutes on 2 cores).
# Environment: BENCH_SCALE, BENCH_REPS give the same defaults.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
shift || true
SCALE=${BENCH_SCALE:-1}
REPS=${BENCH_REPS:-5}
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "usage: $0 [BIN_DIR] [--scale X] [--reps N] [--only import|ingest|report|mirror|status|wire|link|sites|store]" >&2; exit 2 ;;
  esac
done
for program in osrc-bench-import osrc-bench-ingest osrc-bench-report osrc-bench-mirror osrc-bench-status osrc-bench-wire osrc-loadgen osrc-node osrc-hub osrc-gen; do
  [ -x "$BIN/$program" ] || { echo "missing $BIN/$program: build first (make build)" >&2; exit 1; }
done

# N times the scale, at least 100.
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { p = int(n * s); print (p < 100 ? 100 : p) }'; }

echo "osrc-sync benchmarks: scale $SCALE, $REPS repetitions, $(nproc) cores, $(uname -srm)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "$ONLY" ] || [ "$ONLY" = import ]; then
  echo
  "$BIN/osrc-bench-import" --bin "$BIN" --scale "$SCALE" --reps "$REPS" --split
fi
if [ -z "$ONLY" ] || [ "$ONLY" = ingest ]; then
  echo
  "$BIN/osrc-bench-ingest" --bin "$BIN" --scale "$SCALE" --reps "$REPS" --commit-stats
  echo
  "$BIN/osrc-bench-ingest" --bin "$BIN" --scale "$SCALE" --reps "$REPS" --pre-encoded
fi
if [ -z "$ONLY" ] || [ "$ONLY" = report ]; then
  echo
  "$BIN/osrc-bench-report" --scale "$SCALE" --reps "$REPS"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = mirror ]; then
  echo
  "$BIN/osrc-bench-mirror" --scale "$SCALE" --reps "$REPS"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = status ]; then
  echo
  "$BIN/osrc-bench-status" --scale "$SCALE" --reps "$REPS"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = link ]; then
  echo
  "$(dirname "${BASH_SOURCE[0]}")/../bench/link_figures.sh" "$BIN" a d e p
fi
if [ -z "$ONLY" ] || [ "$ONLY" = wire ]; then
  echo
  "$BIN/osrc-bench-wire" --participants "$(scaled 10000)"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = sites ]; then
  echo
  "$(dirname "${BASH_SOURCE[0]}")/sites_bench.sh" "$BIN" "$(scaled 2000)" 60 1 1000
fi
if [ -z "$ONLY" ] || [ "$ONLY" = store ]; then
  echo
  "$(dirname "${BASH_SOURCE[0]}")/store_size.sh" "$BIN" "$(scaled 5000)"
fi
echo
echo "reproduce: scripts/bench.sh $BIN --scale $SCALE --reps $REPS${ONLY:+ --only $ONLY}"
