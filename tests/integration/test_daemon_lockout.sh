# The emergency stop cannot be locked out (issue 9): with 200 slow clients (half a request
# each, then nothing) and 64 open event streams on the Unix socket and on TCP at once, an
# e-stop over either listener still stops the belt and is answered, and commands still
# get through. Before the gate (api_gate.c) neither e-stop was answered at all.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "node is not installed"; exit 77; }

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[api]" "listen = 127.0.0.1:0"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)
check "the TCP listener is bound" test -n "$addr"

"$T" start --protocol gardner-skinner --patient LOCK01 >/dev/null
check "the test walks" wait_for '"state":"running".*"belt_on":true' 30

# The hog holds its connections until its stdin closes.
mkfifo "$WORK/hog.in"
node "$TL_SOURCE_DIR/tests/integration/hog.js" --unix "$TREADLAB_SOCKET" --tcp "$addr" \
	--slow 200 --streams 64 <"$WORK/hog.in" >"$WORK/hog.out" 2>&1 &
HOG_PID=$!
exec 7>"$WORK/hog.in"
trap 'exec 7>&-; kill "$HOG_PID" 2>/dev/null || true; wait "$HOG_PID" 2>/dev/null || true; cleanup' EXIT
ready=""
read -r -t 60 ready < <(tail -n +1 -f "$WORK/hog.out" --pid "$HOG_PID" | grep -m1 -E "^ready") || true
check "400 slow clients and 128 event streams hold their connections ($ready)" \
	test "$ready" = "ready slow=400 streams=128 refused=0 failed=0"

# estop_via WHERE: POST /v1/estop with curl, 3 s at most; writes "STATUS BODY" to
# $WORK/estop.WHERE.
estop_via() {
	local out=$WORK/estop.$1.body
	local -a to=(--unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/estop)
	[ "$1" = tcp ] && to=("http://$addr/v1/estop")
	local status
	status=$(curl -s -m 3 -o "$out" -w '%{http_code}' -X POST "${to[@]}") || true
	printf '%s %s\n' "$status" "$(cat "$out" 2>/dev/null)" >"$WORK/estop.$1"
}

# Both listeners at once, while the test walks.
estop_via unix &
e1=$!
estop_via tcp &
e2=$!
wait "$e1" "$e2"
for where in unix tcp; do
	out=$(cat "$WORK/estop.$where")
	check "an e-stop over $where is answered 200 within 3 s under load" test "${out%% *}" = 200
	check "... the test is emergency-stopped" test "$(jq -r .state <<<"${out#* }")" = emergency_stopped
	check "... and the driver has the stop" test "$(jq -r .command.estop <<<"${out#* }")" = true
done

# Commands are not starved by the streams.
check "a status answers under load (TCP)" bash -c "curl -s -m 3 http://$addr/v1/status | jq -e .state >/dev/null"
check "a pressure is recorded under load (the socket)" \
	"$T" pressure 1 --phase rest --site pt-left --mmhg 120 --operator lee

# A 65th stream on a listener is refused: streams cannot take the connections commands need.
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/events) || true
check "a 65th event stream is refused with 503" test "$code" = 503

exec 7>&-
wait "$HOG_PID" 2>/dev/null || true
check "the belt comes to rest" wait_for '"treadmill":\{[^}]*"speed_kmh":0(\.0)?,[^}]*"running":false' 30
rec=$("$T" show 1 --json)
check "the test's record ends emergency_stop" test "$(jq -r .end_reason <<<"$rec")" = emergency_stop
check "the daemon is still serving" "$T" status
stop_daemon
check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0
finish
