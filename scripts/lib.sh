# Helpers shared by the shell drivers (scripts/soak.sh, scripts/sites_bench.sh,
# bench/link_figures.sh). Sourced.

# The value of "key" in a pretty-printed JSON object with one key per line (osrc-node status).
json_value() {
  sed -n -e "s/^ *\"$2\": *\"\(.*\)\",\{0,1\} *$/\1/p" -e "s/^ *\"$2\": *\([^\",]*\),\{0,1\} *$/\1/p" \
    <<<"$1" | head -1
}

# write_reference_records FILE N: N localities records, the hub's reference data, as JSON Lines.
write_reference_records() {
  python3 - "$1" "$2" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[2])):
        out.write(json.dumps({"collection": "localities", "id": "99%08d" % i,
                              "fields": {"level": "municipality", "name": "Bench town %d" % i}}) + "\n")
PY
}
