#!/usr/bin/env bash
# Interoperability: the "modbus" driver (through tldrive) against an independent Modbus
# TCP slave, npm modbus-serial's ServerTCP, programmed from config/devices/treadsim.profile.
# modbus-serial is pinned in tests/package-lock.json and installed by .ci/install-deps;
# this test never fetches it. Skips (77) only when node is not installed at all.
set -euo pipefail
: "${TLDRIVE:?}" "${TL_SOURCE_DIR:?}" "${TL_BUILD_DIR:?}"
here=$(cd "$(dirname "$0")" && pwd)
profile="$TL_SOURCE_DIR/config/devices/treadsim.profile"
modules="$TL_SOURCE_DIR/tests/node_modules"
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
[ -d "$modules/modbus-serial" ] ||
	{ echo "FAIL: $modules/modbus-serial is missing: run .ci/install-deps" >&2; exit 1; }
mkdir -p "$TL_BUILD_DIR/npm"
export NODE_PATH="$modules"
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Starts the server with the given watchdog; sets pid and port.
start_server() {
	exec {out}< <(exec node "$here/modbus_serial_server.js" "$profile" "$1")
	pid=$!
	read -r -t 20 -u "$out" word port || fail "modbus-serial server did not become ready"
	[ "$word" = ready ] || fail "server said '$word'"
}
stop_server() { kill "$pid"; wait "$pid" || true; pid=; }

start_server 1000
"$TLDRIVE" --driver modbus --tcp "127.0.0.1:$port" --profile "$profile" --speed 3.0 \
	--grade 2.0 --run-ms 3000 --until-speed 2.99 > "$TL_BUILD_DIR/npm/drive.log" ||
	{ cat "$TL_BUILD_DIR/npm/drive.log"; fail "driver against modbus-serial"; }
grep -q "sent speed_kmh=3.000 grade_pct=2.00" "$TL_BUILD_DIR/npm/drive.log" || fail "setpoints"
grep -q "speed_kmh=3.000 grade_pct=2.00 running=1" "$TL_BUILD_DIR/npm/drive.log" || fail "feedback"
stop_server

# the same refusal as against treadsim: a slave whose watchdog is off
start_server 0
if "$TLDRIVE" --driver modbus --tcp "127.0.0.1:$port" --profile "$profile" --no-start \
	--run-ms 100 2> "$TL_BUILD_DIR/npm/refuse.log"; then fail "watchdog-off slave accepted"; fi
grep -q "watchdog is off" "$TL_BUILD_DIR/npm/refuse.log" || fail "refusal message"
stop_server
echo "modbus-serial: all checks passed"
