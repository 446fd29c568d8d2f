# Helpers shared by the shell drivers (scripts/soak.sh, bench/link_figures.sh). Sourced.

# The value of "key" in a pretty-printed JSON object with one key per line (osrc-node status).
json_value() {
  sed -n -e "s/^ *\"$2\": *\"\(.*\)\",\{0,1\} *$/\1/p" -e "s/^ *\"$2\": *\([^\",]*\),\{0,1\} *$/\1/p" \
    <<<"$1" | head -1
}
