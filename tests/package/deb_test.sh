#!/usr/bin/env bash
# The Debian package as a provincial IT officer gets it: built by cpack into a temporary folder,
# then its control data (name, version, dependencies computed by dpkg-shlibdeps, maintainer
# scripts), its exact file list (no test tools), its systemd units checked offline by
# systemd-analyze (verify, and security with an exposure ceiling) against a root made of the
# package plus the host's own units, and its programs run from the extracted package: --version,
# and init plus status of a node and a hub, the node's as an unprivileged user in a folder made
# for it beforehand, as the package makes /var/lib/osrc/node for the user osrc.
# Usage: deb_test.sh CPACK CPACK_CONFIG VERSION
set -euo pipefail
CPACK=$1
CONFIG=$2
VERSION=$3
WORK=$(mktemp -d /tmp/osrc-deb-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$CPACK" --config "$CONFIG" -G DEB -B "$WORK/out" >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; fail "cpack did not build the package"; }
DEB=$WORK/out/osrc-sync_${VERSION}_amd64.deb
[ -f "$DEB" ] || fail "no $DEB; cpack wrote: $(ls "$WORK/out")"
echo "package $(basename "$DEB"): $(stat -c %s "$DEB") bytes"

# Control data.
for pair in Package=osrc-sync Version="$VERSION" Architecture=amd64; do
  got=$(dpkg-deb -f "$DEB" "${pair%%=*}")
  [ "$got" = "${pair#*=}" ] || fail "${pair%%=*} is '$got', want '${pair#*=}'"
done
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libstdc++6 libzmq5 libcapnp liblmdb0 libsodium23 libzstd1 libspdlog; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -e "$DEB" "$WORK/control"
for script in postinst prerm postrm; do
  [ -x "$WORK/control/$script" ] || fail "no executable maintainer script $script"
  sh -n "$WORK/control/$script" || fail "$script is not valid sh"
done

# Exactly these files.
want="./usr/bin/osrc-gen
./usr/bin/osrc-hub
./usr/bin/osrc-node
./usr/lib/systemd/system/osrc-hub.service
./usr/lib/systemd/system/osrc-node.service
./usr/lib/sysusers.d/osrc-sync.conf
./usr/share/doc/osrc-sync/README.md
./usr/share/doc/osrc-sync/examples/attendance.csv
./usr/share/doc/osrc-sync/examples/osrc-alerts.yml
./usr/share/doc/osrc-sync/examples/participants.csv
./usr/share/doc/osrc-sync/examples/referrals.csv
./usr/share/doc/osrc-sync/examples/services.csv
./usr/share/doc/osrc-sync/examples/trainings.csv
./usr/share/man/man1/osrc-gen.1.gz
./usr/share/man/man1/osrc-hub.1.gz
./usr/share/man/man1/osrc-node.1.gz"
got=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $6}' | sort)
[ "$got" = "$want" ] || fail "files differ:$(diff <(echo "$want") <(echo "$got") | sed 's/^/ /')"

ROOT=$WORK/root
dpkg-deb -x "$DEB" "$ROOT"
BIN=$ROOT/usr/bin

# The programs.
for program in osrc-node osrc-hub osrc-gen; do
  line=$("$BIN/$program" --version) || fail "$program --version exited $?"
  [[ $line == "$program $VERSION (commit "*")" ]] || fail "$program --version printed '$line'"
done
hub_key=$("$BIN/osrc-hub" init --data "$WORK/hub" --bind tcp://127.0.0.1:7400 | tail -1)
chmod 0755 "$WORK"
install -d -m 0700 -o nobody -g nogroup "$WORK/node"
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
site_key=$("${as_nobody[@]}" "$BIN/osrc-node" init --data "$WORK/node" --site MAS \
  --hub tcp://127.0.0.1:7400 --hub-key "$hub_key" | tail -1)
[ "$(stat -c %U:%a "$WORK/node/node.toml")" = nobody:600 ] || fail "node.toml not nobody's, 0600"
"$BIN/osrc-hub" enrol --data "$WORK/hub" --site MAS --key "$site_key" >/dev/null
node_status=$("${as_nobody[@]}" "$BIN/osrc-node" status --data "$WORK/node")
grep -q "^site  *MAS$" <<<"$node_status" || fail "node status: $node_status"
grep -q "^hub  *tcp://127.0.0.1:7400$" <<<"$node_status" || fail "node status: $node_status"
# The sample spreadsheets the package ships load, in order, with the packaged program.
for collection in participants trainings services referrals attendance; do
  "${as_nobody[@]}" "$BIN/osrc-node" import --data "$WORK/node" --collection "$collection" \
    "$ROOT/usr/share/doc/osrc-sync/examples/$collection.csv" >/dev/null ||
    fail "the packaged $collection.csv does not import"
done
hub_status=$("$BIN/osrc-hub" status --data "$WORK/hub" --json)
grep -q '"MAS"' <<<"$hub_status" || fail "hub status does not list MAS: $hub_status"

# The units, offline: the default dependencies (sysinit.target, ...) come from the host's units,
# the ExecStart= programs and the Documentation= man pages from the package.
cp -rn /lib/systemd/system/. "$ROOT/usr/lib/systemd/system/"
units=(osrc-node.service osrc-hub.service)
verify=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify --root="$ROOT" "${units[@]}" 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warned: $verify"
# Exposure 0.0 (sandboxed) to 10.0 (unprotected); --threshold is in tenths.
for unit in "${units[@]}"; do
  systemd-analyze security --offline=yes --root="$ROOT" --threshold=15 "$unit" >"$WORK/security" 2>&1 ||
    fail "$unit is less sandboxed than exposure 1.5: $(tail -1 "$WORK/security")"
  echo "$(tail -1 "$WORK/security")"
done
echo "ok"
