# Under systemd the levelled log goes to the journal, as structured entries: systemd
# names the stream it gave the service as stderr in JOURNAL_STREAM (systemd.exec(5)),
# and while stderr is that stream treadlabd sends each line with sd_journal_send. Here a
# private /run/systemd (a mount namespace) holds a stand-in journal socket that records
# the datagrams, and treadlabd -vv polls treadsim over Modbus TCP.
source "$(dirname "$0")/in_namespace.sh"
source "$(dirname "$0")/lib.sh"
need_treadsim
source "$TL_SOURCE_DIR/hil/tests/lib_hil.sh"
if ! mkdir -p /run/systemd 2>/dev/null || ! mount -t tmpfs tmpfs /run/systemd; then
	say "SKIP: cannot mount a private /run/systemd"
	exit 77
fi
mkdir /run/systemd/journal
JOURNAL="$WORK/journal"
socat -u UNIX-RECV:/run/systemd/journal/socket "OPEN:$JOURNAL,creat,append" &
JPID=$!
journal_cleanup() {
	kill "$JPID" 2>/dev/null || true
	wait "$JPID" 2>/dev/null || true
	hil_cleanup
}
trap journal_cleanup EXIT
for _ in $(seq 200); do # socat's socket is its readiness
	[ -S /run/systemd/journal/socket ] && break
	sleep 0.01
done
check "the stand-in journal socket is up" test -S /run/systemd/journal/socket

# wait_journal PATTERN: blocks until a field line of the recorded journal matches.
wait_journal() {
	local fd pid rc=0
	exec {fd}< <(exec timeout 30 tail -n +1 -F "$JOURNAL" 2>/dev/null)
	pid=$!
	grep -a -m1 -q -E -- "$1" <&"$fd" || rc=$?
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	return "$rc"
}

start_treadsim --modbus-tcp 127.0.0.1:0 --tcp-port-file "$WORK/port" --time-scale 20
write_config "$WORK/mb.conf" "[treadmill]" "driver = modbus" "tcp = 127.0.0.1:$(cat "$WORK/port")" \
	"profile = $TL_SOURCE_DIR/config/devices/treadsim.profile" "simulated = true" \
	"[sim]" "time_scale = 20"
# start_daemon appends the daemon's stderr to daemon.log: that file is "the journal's
# stream" here.
touch "$WORK/daemon.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/daemon.log") start_daemon "$WORK/mb.conf" -vv
check "a request frame reaches the journal with its fields" wait_journal '^TREADLAB_FRAME=04 00 00 00 05$'
check "and a reply with its latency" wait_journal '^TREADLAB_LATENCY_US=[0-9]+$'
stop_daemon
stop_treadsim
check "frames carry TREADLAB_DIR=tx" grep -aqx 'TREADLAB_DIR=tx' "$JOURNAL"
check "and TREADLAB_DIR=rx" grep -aqx 'TREADLAB_DIR=rx' "$JOURNAL"
check "TREADLAB_LINK=modbus-tcp" grep -aqx 'TREADLAB_LINK=modbus-tcp' "$JOURNAL"
check "wire lines have PRIORITY=7 (debug)" grep -aqx 'PRIORITY=7' "$JOURNAL"
check "the identifier is treadlabd" grep -aqx 'SYSLOG_IDENTIFIER=treadlabd' "$JOURNAL"
check "the message is the frame line" \
	grep -aqE '^MESSAGE=modbus-tcp tx 04 00 00 00 05 PDU to unit 1' "$JOURNAL"
check "the debug line names its level" grep -aqx 'TREADLAB_LEVEL=debug' "$JOURNAL"
check "no levelled line went to stderr" bash -c "! grep -Eq ' (wire|debug): ' '$WORK/daemon.log'"
finish
