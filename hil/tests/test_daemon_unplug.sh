# The treadmill's USB-serial adapter pulled out mid-test, and plugged back: treadsim's
# `unplug` closes the pty (the daemon's open tty hangs up) and removes the published
# link; `plug` creates a new pty and points the link at its new node. Over Modbus RTU,
# and over Trackmaster with the button box (whose adapter is pulled too):
#  - the daemon ends the test as a fault: state and end reason faulted / fault, an alarm
#    in status, a fault event, the record and its earlier events intact;
#  - nothing reaches treadsim any more, so its own watchdog stops the belt within its
#    timeout of the last request heard;
#  - meanwhile the daemon does not spin on the dead tty, and (Trackmaster and the box,
#    through the serial link) lets go of the dead node at once;
#  - a reconnect while the adapter is out fails and says which device is missing;
#  - once plugged back, `treadlab reconnect` opens the new node (Modbus: the drive then
#    reports its watchdog's trip, and starts are refused until it is reset at the
#    treadmill, treadsim's `clear`); a new test starts, hears the patient's button
#    through the new link, and is stopped by the operator.
source "$(dirname "$0")/lib_hil.sh"

K=40
MARGIN_MS=50 # treadsim checks its watchdog every 5 ms; the rest is scheduling slack

# logged PATTERN [TIMEOUT_S]: wait_log, quiet (for check).
logged() { wait_log "$@" >/dev/null; }
quiet() { "$@" >/dev/null; }

# daemon_holds NODE: how many of the daemon's descriptors are open on NODE (shown as
# "NODE (deleted)" once the node is gone).
daemon_holds() {
	local n=0 fd target
	for fd in /proc/"$DAEMON_PID"/fd/*; do
		target=$(readlink "$fd" 2>/dev/null) || continue
		case $target in "$1" | "$1 (deleted)") n=$((n + 1)) ;; esac
	done
	echo "$n"
}

# cpu_share STATUS_RECORDS: the daemon's CPU time (user + system) over the time the live
# stream takes to bring that many status records, in percent of that time.
cpu_share() {
	local t0 t1 c0 c1 hz
	hz=$(getconf CLK_TCK)
	c0=$(awk '{ print $14 + $15 }' /proc/"$DAEMON_PID"/stat)
	t0=$(date +%s%N)
	timeout 30 "$T" watch --count "$1" >/dev/null || true
	t1=$(date +%s%N)
	c1=$(awk '{ print $14 + $15 }' /proc/"$DAEMON_PID"/stat)
	awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" \
		'BEGIN { printf "%.0f", c / hz * 1e9 / ns * 100 }'
}

# unplug_case WIRE WATCHDOG_MS CAUSE_RE: CAUSE_RE, what the alarm and the fault event
# say. Whichever comes first ends the test: a command that fails on the dead tty (the
# driver's error), or a poll that has failed for feedback_timeout_ms (stale_feedback).
unplug_case() {
	local wire=$1 wd=$2 cause_re=$3 label="$1 unplug" start_frame chan button
	if [ "$wire" = rtu ]; then
		start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K" --watchdog-ms "$wd"
		rtu_conf "$WORK/d.conf" "$K"
		start_frame=$RTU_START_FRAME chan=modbus-rtu button=button-modbus
	else
		start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 --time-scale "$K"
		tm_conf "$WORK/d.conf" "$K"
		start_frame=$TM_START_FRAME chan=trackmaster button=button-box
	fi
	rm -f "$WORK/treadlab.db"*
	start_daemon "$WORK/d.conf"
	local id before old_pts
	old_pts=$(readlink "$SIM_LINK")
	id=$("$T" start --protocol gardner-skinner --patient "UNPLUG-$wire")
	check "$label: the second stage begins" wait_for '"kind":"stage","source":"protocol","detail":"stage 2' 20
	before=$("$T" show "$id" --json)

	# Pulled out mid-test.
	check "$label: unplugged" grep -q '^ok' <<<"$(simctl unplug)"
	check "$label: treadsim logs the unplug" logged "event unplug $chan $old_pts" 5
	check "$label: the link is gone" test ! -e "$SIM_LINK" -a ! -L "$SIM_LINK"
	check "$label: treadsim reports it" test "$(sim_state unplugged)" = "$chan"

	# The daemon: a fault, recorded, with the earlier events kept.
	check "$label: the test ends faulted" wait_for '"state":"faulted"' 20
	local st rec n
	st=$("$T" status --json)
	rec=$("$T" show "$id" --json)
	say "#   alarm: $(jq -r .alarm <<<"$st")"
	say "#   event: $(jq -c '[.events[] | select(.kind=="fault")][0] | {kind, detail}' <<<"$rec")"
	check "$label: status says faulted" test "$(jq -r .state <<<"$st")" = faulted
	# The ticks go on polling: the next status says the link is gone.
	check "$label: status: not connected while the adapter is out" \
		wait_for '"connected":false' 10
	check "$label: and the reading's detail says why" \
		bash -c "'$T' status --json | jq -r .treadmill.detail | grep -q 'hung up (unplugged?)'"
	check "$label: status ends it as a fault" test "$(jq -r .end_reason <<<"$st")" = fault
	check "$label: the alarm names the cause" grep -Eq -- "$cause_re" <<<"$(jq -r '.alarm // ""' <<<"$st")"
	check "$label: the record says faulted" test "$(jq -r .state <<<"$rec")" = faulted
	check "$label: the record's end reason is fault" test "$(jq -r .end_reason <<<"$rec")" = fault
	check "$label: one fault event is recorded" \
		test "$(jq '[.events[] | select(.kind=="fault")] | length' <<<"$rec")" = 1
	check "$label: the event names the cause" \
		grep -Eq -- "$cause_re" <<<"$(jq -r '[.events[] | select(.kind=="fault")][0].detail' <<<"$rec")"
	n=$(jq '.events | length' <<<"$before")
	check "$label: the $n events from before the unplug are kept" test \
		"$(jq -c ".events[0:$n] | map(del(.recorded_at))" <<<"$rec")" = \
		"$(jq -c '.events | map(del(.recorded_at))' <<<"$before")"

	# treadsim: nothing heard, so the device's own watchdog stopped the belt.
	local line by_sim
	line=$(wait_log 'event belt-stop' 10)
	check "$label: treadsim's watchdog stopped the belt ($line)" grep -q 'belt-stop watchdog' <<<"$line"
	by_sim=$(awk '{ split($NF, a, "="); printf "%.1f", ($1 - a[2]) * 1000 }' <<<"$line")
	check "$label: stopped $by_sim ms after the last request (watchdog $wd ms + $MARGIN_MS)" \
		awk -v d="$by_sim" -v w="$wd" -v m="$MARGIN_MS" 'BEGIN { exit !(d >= w && d <= w + m) }'
	check "$label: nothing received after the unplug" \
		test "$(log_after "event unplug" | awk '$2 ~ /^rx/' | wc -l)" = 0

	# Faulted with the adapter out, the daemon polls on at its tick, it does not spin on
	# the dead tty ...
	local cpu
	cpu=$(cpu_share 20)
	check "$label: the daemon idles while unplugged ($cpu % CPU over 20 status records)" \
		test "$cpu" -lt 50
	# ... and lets go of the dead node: while it holds it, a real adapter plugged back
	# comes up under another name (ttyUSB1 for ttyUSB0) and the configured device is
	# not found.
	check "$label: the daemon no longer holds $old_pts" test "$(daemon_holds "$old_pts")" = 0

	# The box's adapter goes too (Trackmaster: a hub pulled out).
	if [ "$wire" = tm ]; then
		local box_pts
		box_pts=$(readlink "$SIM_LINK2")
		check "$label: the button box unplugged" grep -q '^ok' <<<"$(simctl unplug=box)"
		check "$label: its link is gone" test ! -e "$SIM_LINK2" -a ! -L "$SIM_LINK2"
		# Every tick polls the buttons: the box's hang-up is seen at the next one.
		timeout 10 "$T" watch --count 3 >/dev/null || true
		check "$label: the daemon no longer holds the box's $box_pts" \
			test "$(daemon_holds "$box_pts")" = 0
		# The technician is told the patient's button is gone, not only the syslog.
		check "$label: status shows the box's failure" \
			wait_for '"button_error":"button-box: [^"]*hung up' 10
		check "$label: and so does treadlab status" \
			bash -c "'$T' status | grep -q '^BUTTON .*hung up'"
	fi

	# Reconnecting while the adapter is out: refused, naming the missing device.
	local out rc
	out=$("$T" reconnect 2>&1) && rc=0 || rc=$?
	say "#   reconnect while unplugged: $out"
	check "$label: reconnect fails while unplugged" test "$rc" -ne 0
	check "$label: ... and names the device" grep -q -- "$SIM_LINK" <<<"$out"
	if [ "$wire" = tm ]; then
		check "$label: ... as not found" grep -q -- "$SIM_LINK: not found (unplugged?" <<<"$out"
	fi
	check "$label: the daemon holds nothing of $old_pts after it" test "$(daemon_holds "$old_pts")" = 0
	st=$("$T" status --json)
	check "$label: status: not connected" test "$(jq -r .treadmill.connected <<<"$st")" = false
	check "$label: status: the device error names it" grep -q -- "$SIM_LINK" <<<"$(jq -r .treadmill.error <<<"$st")"
	out=$("$T" start --protocol gardner-skinner --patient "UNPLUG-$wire" 2>&1) && rc=0 || rc=$?
	check "$label: a start is refused while unplugged ($out)" test "$rc" -ne 0

	if [ "$wire" = tm ]; then
		# The treadmill back first: the box is still missing, and reconnect says so.
		check "$label: the treadmill plugged back" grep -q '^ok' <<<"$(simctl plug=treadmill)"
		out=$("$T" reconnect 2>&1) && rc=0 || rc=$?
		say "#   reconnect without the box: $out"
		check "$label: reconnect fails without the box, naming it once" \
			bash -c "[ $rc -ne 0 ] && grep -q -- 'box_device: $SIM_LINK2: not found (unplugged?' <<<'$out'"
	fi

	# Plugged back: a new pty behind the same link.
	check "$label: plugged back" grep -q '^ok' <<<"$(simctl plug)"
	check "$label: treadsim logs the plug" logged "event plug $chan /dev/pts/[0-9]+ link=$SIM_LINK\$" 5
	check "$label: the link points at a pty again" grep -q '^/dev/pts/' <<<"$(readlink "$SIM_LINK")"
	check "$label: treadsim reports nothing unplugged" test "$(sim_state unplugged)" = none
	check "$label: treadlab reconnect succeeds" quiet "$T" reconnect
	st=$("$T" status --json)
	check "$label: status: connected" test "$(jq -r .treadmill.connected <<<"$st")" = true
	check "$label: status: no device error" test "$(jq -r .treadmill.error <<<"$st")" = null
	if [ "$wire" = rtu ]; then
		# The drive reports its watchdog's trip (a status bit) until it is reset at the
		# treadmill: the daemon refuses to start until then, and says so.
		out=$("$T" start --protocol gardner-skinner --patient "UNPLUG-$wire" 2>&1) && rc=0 || rc=$?
		check "$label: a start is refused while the drive reports its trip ($out)" \
			bash -c "[ $rc -ne 0 ] && grep -q 'watchdog tripped' <<<'$out'"
		check "$label: the trip is reset at the treadmill" grep -q '^ok' <<<"$(simctl clear)"
		check "$label: treadsim: the trip is reset" test "$(sim_state watchdog_tripped)" = 0
		check "$label: treadlab reconnect succeeds again" quiet "$T" reconnect
	fi

	# A new test on the new link: it walks, the patient's button is heard, the operator
	# stops it.
	local id2
	id2=$("$T" start --protocol gardner-skinner --patient "UNPLUG-$wire")
	check "$label: a new test starts ($id2)" test "$id2" = $((id + 1))
	check "$label: the new test walks" wait_for '"state":"running".*"treadmill":\{[^}]*"running":true' 20
	check "$label: the patient presses onset; it arrives through the new link" \
		simctl_and_wait press-onset "\"kind\":\"onset\",\"source\":\"$button\"" 10
	"$T" stop --reason "end of check" >/dev/null
	check "$label: the operator's stop ends it" \
		test "$("$T" show "$id2" --json | jq -r .end_reason)" = operator_stop
	check "$label: treadsim's belt stops by the daemon's stop" \
		logged "event belt-stop stop" 10
	check "$label: two start frames in all" test "$(grep -c "$start_frame" "$SIM_LOG")" = 2
	check "$label: the first test still ended as a fault" \
		test "$("$T" show "$id" --json | jq -r .end_reason)" = fault
	stop_daemon
	stop_treadsim
}

# Both drivers name the hang-up (libmodbus itself reports a plain EIO), whether the
# test ended on the failed write (driver: ...) or on the silence (stale_feedback: ...).
unplug_case rtu 1000 'the device hung up \(unplugged\?\); reconnect once it is back'
unplug_case tm 500 'the device hung up \(unplugged\?\); reconnect once it is back'

finish
