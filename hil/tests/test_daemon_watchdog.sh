# The device's own watchdog is the line of defence when treadlabd dies: kill -9 of the
# daemon mid-test, over Modbus RTU (watchdog register, 1000 ms) and Trackmaster (the
# disconnect stop armed by A0, 500 ms); treadsim must stop the belt within its timeout,
# and the restarted daemon closes the test as interrupted. Then the safety key pulled
# mid-test: an emergency stop, and the belt is never restarted, not even after the key
# is back (treadsim `clear`) and the daemon has polled a while; a new start is refused
# until the operator reconnects (restarts the daemon) to a treadmill that is clear.
source "$(dirname "$0")/lib_hil.sh"

K=40
MARGIN_MS=50 # treadsim checks its watchdog every 5 ms; the rest is scheduling slack

# kill9_case WIRE WATCHDOG_MS
kill9_case() {
	local wire=$1 wd=$2 label="$1 kill -9" start_frame=$TM_START_FRAME
	if [ "$wire" = rtu ]; then
		start_frame=$RTU_START_FRAME
		start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K" --watchdog-ms "$wd"
		rtu_conf "$WORK/d.conf" "$K"
	else
		start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 --time-scale "$K"
		tm_conf "$WORK/d.conf" "$K"
	fi
	rm -f "$WORK/treadlab.db"*
	start_daemon "$WORK/d.conf"
	local id before
	id=$("$T" start --protocol gardner-skinner --patient "KILL-$wire")
	check "$label: the second stage begins" wait_for '"kind":"stage","source":"protocol","detail":"stage 2' 20
	before=$("$T" show "$id" --json)
	stop_daemon KILL
	local line
	line=$(wait_log 'event belt-stop' 10)
	check "$label: treadsim's watchdog stopped the belt ($line)" grep -q 'belt-stop watchdog' <<<"$line"
	# From the last request treadsim heard (its own record, and the frame log's last rx
	# line before the stop) to the stop.
	local by_sim by_log
	by_sim=$(awk '{ split($NF, a, "="); printf "%.1f", ($1 - a[2]) * 1000 }' <<<"$line")
	by_log=$(awk -v stop="${line%% *}" '$1 + 0 > stop + 0 { exit } $2 == "rx" { last = $1 }
		END { printf "%.1f", (stop - last) * 1000 }' "$SIM_LOG")
	check "$label: stopped $by_sim ms after the last request (watchdog $wd ms + $MARGIN_MS)" \
		awk -v d="$by_sim" -v w="$wd" -v m="$MARGIN_MS" 'BEGIN { exit !(d >= w && d <= w + m) }'
	check "$label: $by_log ms after the last frame in the log" \
		awk -v d="$by_log" -v w="$wd" -v m="$MARGIN_MS" 'BEGIN { exit !(d >= w && d <= w + m) }'
	check "$label: treadsim reports the trip" grep -q 'running=0 .*watchdog_tripped=1' <<<"$(simctl state)"
	start_daemon "$WORK/d.conf"
	local after n
	after=$("$T" show "$id" --json)
	n=$(jq '.events | length' <<<"$before")
	check "$label: the restarted daemon closes the test as interrupted" \
		test "$(jq -r .state <<<"$after")" = interrupted
	check "$label: the $n events from before the kill are kept" test \
		"$(jq -c ".events[0:$n] | map(del(.recorded_at))" <<<"$after")" = \
		"$(jq -c '.events | map(del(.recorded_at))' <<<"$before")"
	check "$label: the daemon is idle" test "$("$T" status --json | jq -r .state)" = idle
	check "$label: the belt was started once, before the kill" \
		test "$(grep -c "$start_frame" "$SIM_LOG")" = 1
	if [ "$wire" = rtu ]; then
		# treadsim keeps its watchdog_tripped status bit until the next start. The driver
		# does not latch it while idle, so the engine accepts a new start; the first poll
		# of the new test then reports the trip and the guard ends the test as the
		# device's stop before the belt was ever commanded. Safe: nothing moves.
		local out rc
		out=$("$T" start --protocol gardner-skinner --patient "KILL-$wire" 2>&1) && rc=0 || rc=$?
		[ "$rc" -ne 0 ] || wait_for '"state":"(emergency_stopped|faulted)"' 10 || true
		wait_frames_after 'event belt-stop watchdog' 30 10 || true
		check "$label: a start while the trip is reported moves nothing ($(jq -r .alarm <<<"$("$T" status --json)"))" \
			test "$(log_after 'event belt-stop watchdog' | grep -c "$start_frame")" = 0
		check "$label: treadsim's belt is still stopped" test "$(sim_state running)" = 0
	fi
	stop_daemon
	stop_treadsim
}

kill9_case rtu 1000
kill9_case tm 500

# The safety key, over Modbus RTU.
label="key pulled"
start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K"
rtu_conf "$WORK/d.conf" "$K"
rm -f "$WORK/treadlab.db"*
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient KEY01)
check "$label: the second stage begins" wait_for '"kind":"stage","source":"protocol","detail":"stage 2' 20
check "$label: the key is pulled" grep -q '^ok' <<<"$(simctl key-pulled)"
check "$label: the test ends emergency-stopped" wait_for '"state":"emergency_stopped"' 20
rec=$("$T" show "$id" --json)
check "$label: end reason emergency_stop" test "$(jq -r .end_reason <<<"$rec")" = emergency_stop
check "$label: the device's stop is recorded" \
	test "$(jq -r '[.events[] | select(.kind=="device_stop")][0].detail' <<<"$rec")" != null
check "$label: the status names the key" grep -q 'safety key' <<<"$("$T" status --json | jq -r .alarm)"
check "$label: the belt stops" wait_log 'event belt-stop' 10 >/dev/null
# The driver latches the device's own stop until it is reconnected: a start is refused
# while the key is out ...
out=$("$T" start --protocol gardner-skinner --patient KEY01 2>&1) && rc=0 || rc=$?
check "$label: a new start is refused while the key is out ($out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'reports its own stop' <<<'$out'"
# ... and after it is back: the controller powers up again (boot count +1, lift homing),
# and the belt stays off however long the daemon polls.
check "$label: the key is back (treadsim clear)" grep -q '^ok' <<<"$(simctl clear)"
check "$label: the daemon polls on after the clear" wait_frames_after "control clear" 30 20
out=$("$T" start --protocol gardner-skinner --patient KEY01 2>&1) && rc=0 || rc=$?
check "$label: a new start is still refused after the clear ($out)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'reports its own stop' <<<'$out'"
check "$label: the daemon polls on" wait_frames_after "control clear" 60 20
check "$label: treadsim's belt never restarted" test "$(sim_state running)" = 0
check "$label: no start frame after the key pull" \
	test "$(log_after 'control key-pulled' | grep -c "$RTU_START_FRAME")" = 0
check "$label: only the first test is in the store" test "$("$T" list --patient KEY01 --json | jq length)" = 1
# The operator reconnects (restarts the daemon) once the treadmill has finished homing:
# now a start is accepted, and it is the operator's. Homing lasts 3 s; each round of
# this bounded loop waits for 10 more frames of the (latched) daemon's polling.
for i in $(seq 1 100); do
	[ "$(sim_state homing)" = 0 ] && break
	wait_frames_after "control clear" $((60 + 10 * i)) 10 || break
done
check "$label: the treadmill finished homing" test "$(sim_state homing)" = 0
stop_daemon
start_daemon "$WORK/d.conf"
id2=$("$T" start --protocol gardner-skinner --patient KEY01)
check "$label: after reconnecting, the operator's start is accepted" test "$id2" = 2
check "$label: the new test walks" wait_for '"state":"running".*"treadmill":\{[^}]*"running":true' 20
check "$label: one start frame since the pull: the operator's" \
	test "$(log_after 'control key-pulled' | grep -c "$RTU_START_FRAME")" = 1
"$T" stop --reason "end of check" >/dev/null
check "$label: the first test still ended by the key" \
	test "$("$T" show "$id" --json | jq -r .end_reason)" = emergency_stop
finish
