#!/usr/bin/env bash
# Debian's mbpoll, an independent Modbus master, reads and writes treadsim's registers
# over TCP on 127.0.0.1 exactly where config/devices/treadsim.profile says they are.
# Synchronises on treadsim's "ready" line and its control socket; stops it by pid.
set -euo pipefail
: "${TREADSIM:?}" "${TL_SOURCE_DIR:?}"
profile="$TL_SOURCE_DIR/config/devices/treadsim.profile"
dir=$(mktemp -d /tmp/treadsim-mbpoll-XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# kind and address of a profile key: "holding 0x0003"
reg() { awk -v k="$1" '$1 == k && $2 == "=" { print $3, $4 }' "$profile"; }
table() { case "$1" in holding) echo 4 ;; input) echo 3 ;; coil) echo 0 ;; discrete) echo 1 ;; esac; }

exec {out}< <(exec "$TREADSIM" --modbus-tcp 127.0.0.1:0 --tcp-port-file "$dir/port" \
	--control "$dir/ctl" --watchdog-ms 5000 --time-scale 20 --log "$dir/log")
pid=$!
read -r -t 10 -u "$out" line || fail "treadsim did not become ready"
[ "$line" = ready ] || fail "treadsim said '$line', not 'ready'"
port=$(cat "$dir/port")
mb() { mbpoll -m tcp -a 1 -p "$port" -1 -o 2 "$@"; }

# Reads one profile key with mbpoll (-0: protocol addresses, as in the profile).
read_key() {
	local kind addr
	read -r kind addr < <(reg "$1")
	[ -n "$addr" ] || fail "profile has no $1"
	mb -0 -t "$(table "$kind")" -r $((addr)) -c 1 127.0.0.1 | awk -F'\t' '/^\[/ { print $2 }'
}
write_key() {
	local kind addr
	read -r kind addr < <(reg "$1")
	mb -0 -t "$(table "$kind")" -r $((addr)) 127.0.0.1 "$2" >/dev/null
}
control() { printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$dir/ctl"; }
wait_state() {
	local i
	for i in $(seq 1 2000); do
		control state | grep -q -- "$1" && return 0
	done
	fail "treadsim never reached '$1'"
}
expect() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

expect "watchdog_ms" "$(read_key watchdog_ms)" 5000
expect "boot_count" "$(read_key boot_count)" 1
expect "status at rest" "$(read_key status)" 0
expect "button at rest" "$(read_key button)" 0

# mbpoll numbers from 1 without -0: reference 4 is protocol address 3 (watchdog_ms).
expect "1-based numbering" "$(mb -t 4 -r 4 -c 1 127.0.0.1 | awk -F'\t' '/^\[/ { print $2 }')" 5000

write_key speed_setpoint 300   # 3.00 km/h at 0.01 km/h per count
write_key grade_setpoint 25    # 2.5 % at 0.1 % per count
expect "speed_setpoint read back" "$(read_key speed_setpoint)" 300
expect "grade_setpoint read back" "$(read_key grade_setpoint)" 25
write_key command 1            # [command] start
wait_state "speed_kmh=3.000"
wait_state "grade_pct=2.50"
expect "status running" "$(( $(read_key status) & 1 ))" 1
expect "speed_actual" "$(read_key speed_actual)" 300
expect "grade_actual" "$(read_key grade_actual)" 25

# a press through the button path shows in the button register (bit 0 onset)
control press-onset >/dev/null
expect "button onset" "$(( $(read_key button) & 1 ))" 1

# key pulled: status shows it, the belt stops by itself
control key-pulled >/dev/null
expect "status key_pulled" "$(( $(read_key status) & 4 ))" 4
wait_state "running=0"

# an unmapped address is an exception, not a zero
if mb -0 -t 4 -r 100 -c 1 127.0.0.1 >/dev/null 2>&1; then fail "unmapped register read"; fi

write_key command 0            # [command] stop
grep -q "rx modbus-tcp" "$dir/log" || fail "frame log is empty"
kill "$pid"
wait "$pid" || fail "treadsim did not exit cleanly on SIGTERM"
pid=
# The same registers over Modbus RTU on treadsim's pty (mbpoll's parity default is even:
# the profile's device speaks 8N1).
exec {out2}< <(exec "$TREADSIM" --modbus-rtu "$dir/tty" --watchdog-ms 700 --baud 19200)
pid=$!
read -r -t 10 -u "$out2" line || fail "treadsim (rtu) did not become ready"
[ "$line" = ready ] || fail "treadsim (rtu) said '$line'"
rtu() { mbpoll -m rtu -b 19200 -P none -a 1 -1 -o 2 -0 "$@"; }
read -r kind addr < <(reg watchdog_ms)
expect "rtu watchdog_ms" "$(rtu -t "$(table "$kind")" -r $((addr)) "$dir/tty" | awk -F'\t' '/^\[/ { print $2 }')" 700
read -r kind addr < <(reg speed_setpoint)
rtu -t "$(table "$kind")" -r $((addr)) "$dir/tty" 250 >/dev/null
expect "rtu speed_setpoint" "$(rtu -t "$(table "$kind")" -r $((addr)) "$dir/tty" | awk -F'\t' '/^\[/ { print $2 }')" 250
kill "$pid"
wait "$pid" || fail "treadsim (rtu) did not exit cleanly on SIGTERM"
pid=
[ ! -e "$dir/tty" ] || fail "treadsim left its pty symlink behind"
echo "mbpoll: all checks passed"
