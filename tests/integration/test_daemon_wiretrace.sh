# The wire trace: treadlabd -vv against treadsim logs every frame it sends and reads,
# over the Trackmaster protocol on a pty (paced at 4800 baud, with the patient's button
# box), over Modbus TCP and over Modbus RTU on a pty. The frames it logs are the frames
# treadsim logged at the other end of the wire, in the same order; a lost reply and
# corrupt ones show as a timeout, a retry and garbage. Without -v no frame or debug line
# appears; [daemon] log_level = wire turns the trace on, and -v on the command line wins.
source "$(dirname "$0")/lib.sh"
need_treadsim
source "$TL_SOURCE_DIR/hil/tests/lib_hil.sh"

DLOG="$WORK/daemon.log"

# wait_dlog PATTERN [TIMEOUT_S]: blocks until a line of the daemon's log matches.
wait_dlog() {
	local pattern=$1 limit=${2:-30} fd pid rc=0
	exec {fd}< <(exec timeout "$limit" tail -n +1 -F "$DLOG" 2>/dev/null)
	pid=$!
	grep -m1 -q -E -- "$pattern" <&"$fd" || rc=$?
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	return "$rc"
}

# frames DIR LINK: the hex of the daemon's frame lines, one a line, without latency or note.
frames() {
	sed -n -E "s/^treadlabd: [0-9.]+ wire: $2 $1 (([0-9A-F]{2} ?)+).*/\1/p" "$DLOG" | sed 's/ $//'
}
# sim_frames DIR CHANNEL [SKIP [TAIL]]: the hex of treadsim's frame lines, the first SKIP
# bytes and the last TAIL left out: the PDU of a Modbus TCP ADU is all but its MBAP header
# and unit id (7, 0); of an RTU frame, all but the unit id and the CRC (1, 2).
sim_frames() {
	awk -v d="$1" -v c="$2" -v k="${3:-0}" -v t="${4:-0}" '$2 == d && $3 == c {
		s = ""; for (i = 4 + k; i <= NF - t; i++) s = s (s == "" ? "" : " ") $i; print s }' "$SIM_LOG"
}
same() { # same A B: the two texts are equal; prints where they differ
	diff <(echo "$1") <(echo "$2") >"$WORK/diff" && return 0
	head -5 "$WORK/diff" | sed 's/^/     /'
	return 1
}
# read_as_sent A B: the frames read (A) are the frames sent (B), in order: all of them,
# or, when a reply came too late (on a loaded machine) and was flushed or lost with its
# connection, those that were read, in the order they were sent.
read_as_sent() {
	if ! grep -Eq ' wire: .*(timeout|input flushed|no valid reply)' "$DLOG"; then
		same "$1" "$2"
		return
	fi
	say "     (a reply was late: checking the frames read as a subsequence)"
	awk 'NR == FNR { want[++n] = $0; next } k < n && $0 == want[k + 1] { k++ }
		END { exit !(k == n) }' <(echo "$1") <(echo "$2")
}
# latencies_at_least LO: every reply's latency (+Nus) is a figure of LO us or more (a
# timeout's line, whose figure is the wait, aside). No upper bound: a latency is when
# the daemon's thread read the reply, which a loaded machine delays (a sanitizer run
# with four tests a core saw 150 ms); the timeouts themselves are the drivers' tests'.
latencies_at_least() {
	grep -v 'timeout: no complete reply' "$DLOG" | sed -n -E 's/.* wire: .* rx .* \+([0-9]+)us.*/\1/p' |
		awk -v lo="$1" '{ n++ } $1 < lo { bad++ } END { exit !(n > 0 && !bad) }'
}

say "== Trackmaster on a pty, -vv =="
start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 \
	--patient-onset 10 --time-scale 20
tm_conf "$WORK/tm.conf" 20
start_daemon "$WORK/tm.conf" -vv
"$T" start --protocol gardner-skinner --patient WT1 >/dev/null
check "the 2.0 mph speed command is traced (tx A3 0020)" wait_dlog 'wire: trackmaster tx A3 30 30 32 30$'
check "the patient's onset byte from the box is traced (rx 31)" wait_dlog 'wire: button-box rx 31$'
"$T" estop >/dev/null
check "the emergency stop is acknowledged (debug)" wait_dlog 'debug: trackmaster: emergency stop acknowledged \(B2\)$'
stop_daemon
stop_treadsim
check "the belt start A0 is traced as sent" grep -q 'wire: trackmaster tx A0$' "$DLOG"
check "its acknowledgement B0 is traced with a latency" grep -Eq 'wire: trackmaster rx B0 \+[0-9]+us$' "$DLOG"
check "a status poll: tx C0, rx D0 and a status byte" \
	grep -Eq 'wire: trackmaster rx D0 3[0-3] \+[0-9]+us$' "$DLOG"
check "the emergency stop is traced: tx A2, rx B2" \
	bash -c "grep -q 'wire: trackmaster tx A2$' '$DLOG' && grep -Eq 'wire: trackmaster rx B2 \+[0-9]+us$' '$DLOG'"
# At 4800 baud a character takes 2.3 ms: no reply is quicker than one.
check "every reply latency is 2 ms or more (a character's time at 4800 baud)" latencies_at_least 2000
check "stage changes are logged (debug)" grep -q 'debug: event stage at 0.0 s (protocol)' "$DLOG"
check "every frame sent is the frame treadsim received, in order ($(frames tx trackmaster | wc -l))" \
	same "$(frames tx trackmaster)" "$(sim_frames rx trackmaster)"
check "every frame read is a frame treadsim sent, in order ($(frames rx trackmaster | wc -l))" \
	read_as_sent "$(frames rx trackmaster)" "$(sim_frames tx trackmaster)"
mv "$DLOG" "$WORK/daemon-tm-vv.log"

say "== Trackmaster, -vv, a lost reply and corrupt ones =="
start_treadsim --trackmaster "$SIM_LINK" --baud 4800 --time-scale 20
write_config "$WORK/tm-faults.conf" "[treadmill]" "driver = trackmaster" "device = $SIM_LINK" \
	"simulated = true" "[sim]" "time_scale = 20"
start_daemon "$WORK/tm-faults.conf" -vv
check "polling" wait_dlog 'wire: trackmaster rx D2 '
sim_ok() { simctl "$1" | grep -q '^ok'; }
check "treadsim drops the next reply" sim_ok drop
check "the timeout is traced, with what arrived of the reply" \
	wait_dlog 'wire: trackmaster rx \(no bytes\) \+[0-9]+us timeout: no complete reply$'
check "the retry is said (debug; response_timeout_ms is 100)" \
	wait_dlog 'debug: trackmaster: no reply to C[0-2] within 100 ms \(try 1 of 3\); input flushed, sending it again$'
check "and traced" wait_dlog 'wire: trackmaster tx C[0-2] retry$'
simctl bad-crc >/dev/null
check "a corrupt reply's bytes are traced as garbage" wait_dlog 'wire: trackmaster rx (7F|78) \+[0-9]+us garbage, skipped$'
simctl clear >/dev/null
stop_daemon
stop_treadsim
mv "$DLOG" "$WORK/daemon-tm-faults.log"

say "== Trackmaster, no -v =="
start_treadsim --trackmaster "$SIM_LINK" --baud 4800 --time-scale 20
write_config "$WORK/tm-quiet.conf" "[treadmill]" "driver = trackmaster" "device = $SIM_LINK" \
	"simulated = true" "[sim]" "time_scale = 20"
start_daemon "$WORK/tm-quiet.conf"
"$T" start --protocol gardner-skinner --patient WT2 >/dev/null
check "the belt started (treadsim received A0)" wait_log 'rx trackmaster A0$'
check "and the 2.0 mph command" wait_log 'rx trackmaster A3 30 30 32 30$'
stop_daemon
stop_treadsim
check "no frame line in the daemon's log" bash -c "! grep -q ' wire: ' '$DLOG'"
check "no debug line either" bash -c "! grep -q ' debug: ' '$DLOG'"
check "the daemon still said it was ready" grep -q 'treadlabd: ready' "$DLOG"
mv "$DLOG" "$WORK/daemon-tm-quiet.log"

say "== Modbus TCP, -vv =="
start_treadsim --modbus-tcp 127.0.0.1:0 --tcp-port-file "$WORK/port" --time-scale 20
mb_conf() {
	write_config "$1" "[treadmill]" "driver = modbus" "tcp = 127.0.0.1:$(cat "$WORK/port")" \
		"profile = $TL_SOURCE_DIR/config/devices/treadsim.profile" "simulated = true" \
		"[sim]" "time_scale = 20" "${@:2}"
}
mb_conf "$WORK/mb.conf"
start_daemon "$WORK/mb.conf" -vv
"$T" start --protocol gardner-skinner --patient WT3 >/dev/null
# treadsim.profile: the start command is holding 0x0002 = 1; status is input 0x0002,
# read with its neighbours from input 0x0000.
check "the start command is traced (tx 06 00 02 00 01)" wait_dlog 'wire: modbus-tcp tx 06 00 02 00 01 PDU to unit 1'
check "a poll reading the status register is traced (tx 04 00 00 00 0N)" \
	wait_dlog 'wire: modbus-tcp tx 04 00 00 00 0[3-9] PDU to unit 1'
"$T" estop >/dev/null
check "the emergency stop is acknowledged (debug)" wait_dlog 'debug: modbus treadsim: emergency stop acknowledged$'
stop_daemon
stop_treadsim
check "the reply to a status read is traced whole, with its latency" \
	grep -Eq 'wire: modbus-tcp rx 04 (0A|0C) ([0-9A-F]{2} ){10,12}\+[0-9]+us reply PDU' "$DLOG"
check "the write's acknowledgement is traced" \
	grep -Eq 'wire: modbus-tcp rx 06 \+[0-9]+us write acknowledged' "$DLOG"
check "every reply's latency is traced as a figure" latencies_at_least 0
check "every request PDU is the one treadsim received, in order ($(frames tx modbus-tcp | wc -l))" \
	same "$(frames tx modbus-tcp)" "$(sim_frames rx modbus-tcp 7)"
check "every register read's reply PDU is the one treadsim sent, in order" \
	read_as_sent "$(frames rx modbus-tcp | grep -E '^0[34] ')" \
	"$(sim_frames tx modbus-tcp 7 | grep -E '^0[34] ')"
mv "$DLOG" "$WORK/daemon-mb-vv.log"

say "== Modbus RTU on a pty, -vv =="
start_treadsim --modbus-rtu "$SIM_LINK" --time-scale 20
rtu_conf "$WORK/rtu.conf" 20
start_daemon "$WORK/rtu.conf" -vv
check "a poll over RTU is traced as its PDU" \
	wait_dlog 'wire: modbus-rtu tx 04 00 00 00 0[3-9] PDU to unit 1 \(RTU framing by libmodbus\)$'
check "and its reply" wait_dlog 'wire: modbus-rtu rx 04 (0[6-9A-F]|1[0-9A-F]) '
stop_daemon
stop_treadsim
check "every request PDU is the one inside the RTU frame treadsim received ($(frames tx modbus-rtu | wc -l))" \
	same "$(frames tx modbus-rtu)" "$(sim_frames rx modbus-rtu 1 2)"
mv "$DLOG" "$WORK/daemon-rtu-vv.log"

say "== Modbus TCP, log_level = wire in the configuration =="
start_treadsim --modbus-tcp 127.0.0.1:0 --tcp-port-file "$WORK/port" --time-scale 20
mb_conf "$WORK/mb-wire.conf" "[daemon]" "log_level = wire"
start_daemon "$WORK/mb-wire.conf"
check "[daemon] log_level = wire traces the polls" wait_dlog 'wire: modbus-tcp rx 04 '
stop_daemon
mv "$DLOG" "$WORK/daemon-mb-wire.log"
start_daemon "$WORK/mb-wire.conf" -v
check "with -v, debug lines" wait_dlog ' debug: log level debug$'
simctl state >/dev/null
check "it polls (treadsim receives 5 more requests)" wait_frames_after ' control state' 5
stop_daemon
stop_treadsim
check "-v wins over log_level = wire: no frame line" bash -c "! grep -q ' wire: ' '$DLOG'"
finish
