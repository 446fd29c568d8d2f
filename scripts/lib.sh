# Helpers shared by the shell drivers (scripts/soak.sh, bench/link_figures.sh). Sourced.

# A port that was free on 127.0.0.1 a moment ago (nothing answers on it). Racy: bench only
# (bench/link_figures.sh); tests and the soak bind port 0 and read the port back.
free_port() {
  local port
  while true; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# The value of "key" in a pretty-printed JSON object with one key per line (osrc-node status).
json_value() {
  sed -n -e "s/^ *\"$2\": *\"\(.*\)\",\{0,1\} *$/\1/p" -e "s/^ *\"$2\": *\([^\",]*\),\{0,1\} *$/\1/p" \
    <<<"$1" | head -1
}
