# lib_hil.sh - helpers for the hil tests that run treadlabd against treadsim over a
# real wire (sourced, not run). Builds on tests/integration/lib.sh (check, finish,
# start_daemon, stop_daemon, wait_for, near): the same rules hold. Everything waits on a
# readiness line, the live stream or treadsim's frame log; processes are stopped by pid.
source "$TL_SOURCE_DIR/tests/integration/lib.sh"

: "${TREADSIM:?run through ctest}"
SIM_PID=""
SIM_LOG="$WORK/sim.log"
SIM_CTL="$WORK/sim.ctl"
SIM_LINK="$WORK/tty-sim"
SIM_LINK2="$WORK/tty-box"

hil_cleanup() {
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	cleanup
}
trap hil_cleanup EXIT

# start_treadsim ARGS...: starts treadsim with its control socket and frame log in $WORK
# and returns once it printed "ready".
start_treadsim() {
	rm -f "$WORK/sim.out" "$SIM_LOG"
	mkfifo "$WORK/sim.out"
	"$TREADSIM" --control "$SIM_CTL" --log "$SIM_LOG" "$@" >"$WORK/sim.out" 2>>"$WORK/sim.err" &
	SIM_PID=$!
	local line=""
	if ! read -r -t 10 line <"$WORK/sim.out" || [ "$line" != ready ]; then
		say "treadsim did not become ready:"
		cat "$WORK/sim.err" >&2 || true
		return 1
	fi
}

stop_treadsim() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null || true
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=""
}

# simctl COMMAND: one line to treadsim's control socket; prints its one-line answer.
simctl() {
	printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$SIM_CTL"
}

# sim_state KEY: one field of treadsim's `state` answer (running, speed_kmh, ...).
sim_state() {
	simctl state | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# wait_log PATTERN [TIMEOUT_S]: blocks until a line of treadsim's frame log (from its
# beginning) matches the extended regular expression; prints that line. Fails after the
# timeout.
wait_log() {
	local pattern=$1 limit=${2:-30} fd pid rc=0
	exec {fd}< <(exec timeout "$limit" tail -n +1 -F "$SIM_LOG" 2>/dev/null)
	pid=$!
	grep -m1 -E -- "$pattern" <&"$fd" || rc=$?
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	return "$rc"
}

# simctl_and_wait COMMAND PATTERN [TIMEOUT_S]: sends COMMAND to treadsim once the live
# stream is open (its first record, the status, has arrived), then blocks until a record
# of the stream matches PATTERN: what the command causes at once is not missed.
simctl_and_wait() {
	local cmd=$1 pattern=$2 limit=${3:-30} fd pid rc=0 first=""
	exec {fd}< <(exec timeout "$limit" "$T" watch --json)
	pid=$!
	read -r -u "$fd" first || rc=$?
	[ "$rc" -eq 0 ] && { simctl "$cmd" | grep -q '^ok' || rc=$?; }
	[ "$rc" -eq 0 ] && { grep -E -m1 -q -- "$pattern" <&"$fd" || rc=$?; }
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	return "$rc"
}

# wait_frames_after PATTERN N [TIMEOUT_S]: blocks until N more frames were received
# (rx lines) after the first log line matching PATTERN: "a while of polling", measured
# on the wire.
wait_frames_after() {
	local pattern=$1 n=$2 limit=${3:-30} fd pid rc=0
	exec {fd}< <(exec timeout "$limit" tail -n +1 -F "$SIM_LOG" 2>/dev/null)
	pid=$!
	awk -v p="$pattern" -v n="$n" 'found && $2 == "rx" && ++k >= n { ok = 1; exit }
		!found && $0 ~ p { found = 1 } END { exit !ok }' <&"$fd" || rc=$?
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	return "$rc"
}

# log_after LINE_PATTERN: the log lines after the first line matching the pattern.
log_after() {
	awk -v p="$1" 'found { print } !found && $0 ~ p { found = 1 }' "$SIM_LOG"
}

# rtu_conf FILE SCALE [extra INI lines]: a daemon configuration for treadsim's RTU pty.
rtu_conf() {
	local file=$1 scale=$2
	shift 2
	write_config "$file" "[treadmill]" "driver = modbus" "device = $SIM_LINK" "framing = 8N1" \
		"profile = $TL_SOURCE_DIR/config/devices/treadsim.profile" "simulated = true" \
		"[buttons]" "modbus = true" "[sim]" "time_scale = $scale" "$@"
}

# tm_conf FILE SCALE [extra INI lines]: the same for treadsim's Trackmaster pty and box.
tm_conf() {
	local file=$1 scale=$2
	shift 2
	write_config "$file" "[treadmill]" "driver = trackmaster" "device = $SIM_LINK" \
		"simulated = true" "[buttons]" "box_device = $SIM_LINK2" \
		"[sim]" "time_scale = $scale" "$@"
}

# Frames that start the belt: Modbus "write single register command (0x0002) = start
# (0x0001)" to unit 1, Trackmaster A0 / A1.
# (Received or, under a wire fault, logged as lost: rx-lost, rx-unplugged.)
RTU_START_FRAME='rx[a-z-]* modbus-rtu 01 06 00 02 00 01 '
TM_START_FRAME='rx[a-z-]* trackmaster A[01]$'
