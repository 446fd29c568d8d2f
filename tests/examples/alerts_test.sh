#!/bin/bash
# The sample alert rules load: with promtool (Debian package prometheus) when installed, else as
# YAML with the three alerts on the metrics the hub exports.
set -euo pipefail
rules="$1"
if command -v promtool >/dev/null; then
  exec promtool check rules "$rules"
fi
python3 - "$rules" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
rules = [r for g in doc["groups"] for r in g["rules"]]
alerts = {r["alert"]: r["expr"] for r in rules}
want = {
    "OsrcSiteSilentForADay": "osrc_site_last_contact_timestamp_seconds",
    "OsrcStoreNearlyFull": "osrc_store_map_bytes",
    "OsrcConflictsWaitingForAWeek": "osrc_conflicts_open",
}
for name, metric in want.items():
    if name not in alerts or metric not in alerts[name]:
        sys.exit(f"{sys.argv[1]}: alert {name} missing or not on {metric}")
for r in rules:
    for key in ("expr", "labels", "annotations"):
        if key not in r:
            sys.exit(f"{sys.argv[1]}: alert {r.get('alert')} lacks {key}")
print(f"{len(rules)} rules parse")
PY
