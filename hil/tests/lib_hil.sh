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
	# bash's read, not awk: mawk fills its whole input buffer before it looks at a line,
	# so it saw the frames seconds late (the HIL cuff library's wait had the same flaw)
	local line found=0 k=0 dir
	rc=1
	while IFS= read -r line <&"$fd"; do
		if [ "$found" = 1 ]; then
			read -r _ dir _ <<<"$line"
			if [ "$dir" = rx ] && [ $((++k)) -ge "$n" ]; then
				rc=0
				break
			fi
		elif [[ $line =~ $pattern ]]; then
			found=1
		fi
	done
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

# full_gs_test ID POSTURE: the Gardner-Skinner test ID (started by the caller) walks until
# the virtual patient's max press, then relief and finish; sets REC to its record.
full_gs_test() {
	local id=$1 posture=$2
	check "the walk ends by the patient's max press" wait_for '"state":"recovery"' 60
	"$T" relief --posture "$posture" >/dev/null
	"$T" finish >/dev/null
	REC=$("$T" show "$id" --json)
}

# check_gs_record K P W SOURCE: what both full tests assert of the record REC. treadsim's
# patient pressed onset at 200 s and max at 500 s of belt time through SOURCE.
#
# Tolerance of COT and PWT. Test time 0 is the start command. The belt starts at the next
# tick (up to one period P later), after that tick's wire time W. The patient counts from
# the belt's start; the press then waits for the next look at the button, at most P + W
# later, and the daemon dates it then, never earlier. So an endpoint lies in
# [T, T + K (2 P + 2 W)] in test time, plus scheduling slack (25 ms real). Below T it
# should lie only by the 0.1 s rounding, but one crowded run (eight tests on two cores)
# recorded COT 199.0 for 200 at K = 20: 50 ms real early, not understood yet (the note
# of session 22). The bound below T allows one tick and its wire time, K (P + W), plus
# the same slack.
#
# ICD/ACD: 2.0 mph = 0.89408 m/s over the walk, integrated from the measured speed. Less
# than that by at most the belt's late start (2 P K) and its ramp (3.2 s to full speed);
# the speed is sampled once a tick (P K of test time), so one sample of rectangle error
# either way.
check_gs_record() {
	local k=$1 p=$2 w=$3 source=$4 lo hi
	j() { jq -r "$1" <<<"$REC"; }
	check "state complete" test "$(j .state)" = complete
	check "end reason max_claudication" test "$(j .end_reason)" = max_claudication
	between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
	for t in 200 500; do
		read -r lo hi <<<"$(awk -v t="$t" -v k="$k" -v p="$p" -v w="$w" \
			'BEGIN { printf "%s %s", t - 0.1 - k * (p + w + 0.025), t + k * (2 * p + 2 * w + 0.025) }')"
		local what=COT key=.cot_s
		[ "$t" = 500 ] && what=PWT key=.pwt_s
		check "$what in [$lo, $hi] s ($(j $key))" between "$(j $key)" "$lo" "$hi"
	done
	dist_ok() {
		awk -v d="$1" -v t="$2" -v k="$k" -v p="$p" 'BEGIN { v = 0.89408; slack = v * k * p;
			exit !(d >= v * (t - 2 * k * p - 3.2) - slack && d <= v * t + slack) }'
	}
	check "ICD consistent with 2.0 mph ($(j .icd_m) m at $(j .cot_s) s)" dist_ok "$(j .icd_m)" "$(j .cot_s)"
	check "ACD consistent with 2.0 mph ($(j .acd_m) m at $(j .pwt_s) s)" dist_ok "$(j .acd_m)" "$(j .pwt_s)"
	check "onset pressed through $source" \
		test "$(j '[.events[] | select(.kind=="onset")][0].source')" = "$source"
	check "max pressed through $source" \
		test "$(j '[.events[] | select(.kind=="max")][0].source')" = "$source"
	check "one onset and one max event" \
		test "$(j '[.events[] | select(.kind=="onset" or .kind=="max")] | length')" = 2
	check "stage events at the protocol's 120 s boundaries" \
		test "$(j '[.events[] | select(.kind=="stage") | .t_s] | map(tostring) | join(",")')" = "0,120,240,360,480"
	check "events in order: start ... complete" test "$(j '[.events[] | .kind] | (first + ":" + last)')" = "start:complete"
	check "no fault or device stop recorded" \
		test "$(j '[.events[] | select(.kind=="fault" or .kind=="device_stop")] | length')" = 0
}
