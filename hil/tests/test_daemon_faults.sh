# Faults injected mid-test through treadsim's control socket, over Modbus RTU (and over
# Trackmaster where the wire differs): for each, the daemon's answer. The test ends
# (faulted for wire, drive, stall and lift faults; emergency_stopped when the device
# stopped the belt itself), the status names the cause, the event is recorded, every
# event from before the fault is kept, and the belt is never restarted: not while the
# fault lasts, and not after it is cleared and the daemon has polled for a while.
source "$(dirname "$0")/lib_hil.sh"

K=40 # Gardner-Skinner's stages last 3 s of real time

# run_case WIRE FAULT STATE EVENT ALARM_RE [DETAIL_RE]: one test from a fresh treadsim
# and daemon. The status's alarm ends up naming the last failure (for a dead wire, the
# stop that could not be sent); the event's detail keeps the first cause (DETAIL_RE,
# default ALARM_RE).
run_case() {
	local wire=$1 fault=$2 want_state=$3 want_event=$4 alarm_re=$5 detail_re=${6:-$5}
	local label="$wire $fault"
	if [ "$wire" = rtu ]; then
		start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K"
		rtu_conf "$WORK/d.conf" "$K"
		start_frame=$RTU_START_FRAME
	else
		start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 --time-scale "$K"
		tm_conf "$WORK/d.conf" "$K"
		start_frame=$TM_START_FRAME
	fi
	rm -f "$WORK/treadlab.db"*
	start_daemon "$WORK/d.conf"
	local id
	id=$("$T" start --protocol gardner-skinner --patient "FAULT-$fault")
	check "$label: the belt runs" wait_for '"state":"running".*"treadmill":\{[^}]*"running":true' 20
	if [ "$fault" = lift-stuck ]; then
		# Stuck at 0 % in stage 1; the grade must then deviate by more than the 2 %
		# tolerance for 5 s: from stage 3 (4 %) on.
		check "$label: injected in stage 1, grade 0 %" test "$(sim_state grade_pct)" = 0.00
	fi
	local before
	before=$("$T" show "$id" --json)
	check "$label: injected" grep -q '^ok' <<<"$(simctl "$fault")"
	check "$label: the test ends $want_state" wait_for "\"state\":\"$want_state\"" 30
	local st rec
	st=$("$T" status --json)
	rec=$("$T" show "$id" --json)
	check "$label: the alarm names the cause ($(jq -r .alarm <<<"$st"))" \
		grep -Eq -- "$alarm_re" <<<"$(jq -r .alarm <<<"$st")"
	check "$label: a $want_event event is recorded" \
		test "$(jq "[.events[] | select(.kind==\"$want_event\")] | length" <<<"$rec")" = 1
	local detail
	detail=$(jq -r "[.events[] | select(.kind==\"$want_event\")][0].detail" <<<"$rec")
	check "$label: the event names the cause ($detail)" grep -Eq -- "$detail_re" <<<"$detail"
	check "$label: the record says $want_state" test "$(jq -r .state <<<"$rec")" = "$want_state"
	local n
	n=$(jq '.events | length' <<<"$before")
	check "$label: the $n events from before the fault are kept" test \
		"$(jq -c ".events[0:$n] | map(del(.recorded_at))" <<<"$rec")" = \
		"$(jq -c '.events | map(del(.recorded_at))' <<<"$before")"
	# The belt stops at treadsim: the daemon's stop, the drive's own trip, or, when the
	# wire is dead, treadsim's communication watchdog.
	check "$label: treadsim's belt stops" wait_log "event belt-stop" 10 >/dev/null
	check "$label: the fault is cleared" grep -q '^ok' <<<"$(simctl clear)"
	check "$label: the daemon polls on after the clear" wait_frames_after "control clear" 20 20
	check "$label: treadsim's belt is still stopped" test "$(sim_state running)" = 0
	check "$label: no start frame after the fault" \
		test "$(log_after "control $fault" | grep -c "$start_frame")" = 0
	check "$label: the daemon is still in $want_state" \
		test "$("$T" status --json | jq -r .state)" = "$want_state"
	stop_daemon
	stop_treadsim
}

# Wire faults: no valid feedback reaches the guard; after feedback_timeout_ms (1 s real,
# as configured) it stops the test as a fault. The stop cannot reach the treadmill while
# the wire is dead, so treadsim's own watchdog stops the belt.
# (The detail is stale_feedback unless a write was due first and failed: "driver: ...".)
run_case rtu no-reply faulted fault 'stale_feedback|timed out'
run_case rtu bad-crc faulted fault 'stale_feedback|CRC'
# 800 ms late, far beyond response_timeout_ms (100 ms, 3 tries): RTU has no transaction
# ids, so a late reply lands in the window of a later request and libmodbus rejects it
# ("Invalid data"); the driver flushes before every try, so it is never taken as an
# answer. No reading gets through: the same fault as silence.
run_case rtu late-reply faulted fault 'stale_feedback|timed out|Invalid data'
run_case rtu disconnect faulted fault 'stale_feedback|timed out'
# The belt does not follow the command: the guard's deviation check.
run_case rtu belt-stall faulted fault 'speed_deviation'
run_case rtu lift-stuck faulted fault 'grade_deviation'
# The drive trips: a fault of the treadmill, not a stop by a person.
run_case rtu drive-fault faulted fault 'drive fault'
# The safety key cuts power: the device stopped the belt itself.
run_case rtu key-pulled emergency_stopped device_stop 'safety key'
# A reply late but within the driver's bounds is not a fault. The driver waits
# response_timeout_ms (100 ms here, the default) for each reply, so a reply 40 ms late is
# an answer: every poll still yields fresh feedback (each tick takes longer and the
# control loop overruns its 100 ms period, which it counts and re-anchors), the device's
# watchdog is fed by every request, and the guard has no reason to stop the test. So the
# test walks on, and ends normally when the operator stops it.
late_within_bounds() {
	local label="rtu late-reply=40"
	start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K"
	rtu_conf "$WORK/d.conf" "$K"
	rm -f "$WORK/treadlab.db"*
	start_daemon "$WORK/d.conf"
	local id
	id=$("$T" start --protocol gardner-skinner --patient LATE40)
	check "$label: the belt runs" wait_for '"state":"running".*"treadmill":\{[^}]*"running":true' 20
	check "$label: injected" grep -q '^ok' <<<"$(simctl late-reply=40)"
	check "$label: the daemon polls on through 40 frames" wait_frames_after "control late-reply" 40 20
	# Replies left treadsim 40 ms or more after their request: the median of each reply's
	# delay after the last request on its own line (the button box's bytes, on a line of
	# their own, answer nothing; on a loaded machine a request may come again before the
	# late reply leaves, and that reply then pairs with it: a short delay).
	local med_ms
	med_ms=$(log_after "control late-reply" | awk '$2 == "rx" { t[$3] = $1 }
		$2 == "tx" && ($3 in t) { print ($1 - t[$3]) * 1000 }' | sort -n |
		awk '{ d[++n] = $1 } END { if (n) printf "%.1f", d[int((n + 1) / 2)] }')
	check "$label: replies were late (median ${med_ms:-none} ms)" \
		awk -v m="${med_ms:-0}" 'BEGIN { exit !(m >= 40) }'
	local st
	st=$("$T" status --json)
	check "$label: the test is still running" test "$(jq -r .state <<<"$st")" = running
	check "$label: no alarm" test "$(jq -r .alarm <<<"$st")" = null
	check "$label: the readings are fresh" test "$(jq -r .treadmill.reading <<<"$st")" = true
	check "$label: treadsim's belt still runs" test "$(sim_state running)" = 1
	simctl clear >/dev/null
	"$T" stop --reason "end of check" >/dev/null
	local rec
	rec=$("$T" show "$id" --json)
	check "$label: the operator's stop ends it" test "$(jq -r .end_reason <<<"$rec")" = operator_stop
	check "$label: no fault was recorded" \
		test "$(jq '[.events[] | select(.kind=="fault" or .kind=="device_stop")] | length' <<<"$rec")" = 0
	stop_daemon
	stop_treadsim
}
late_within_bounds

# Trackmaster: its wire faults, and its key pull (reported as speed 999.9).
run_case tm no-reply faulted fault 'stale_feedback|no reply'
run_case tm bad-crc faulted fault 'stale_feedback|corrupt'
run_case tm key-pulled emergency_stopped device_stop '999\.9'

finish
