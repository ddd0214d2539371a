# An emergency stop mid-test: the belt stops at once, the test ends emergency-stopped,
# and nothing restarts the belt until the operator starts a new test.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient ESTOP01)
check "the second stage begins" wait_for '"kind":"stage","source":"protocol","detail":"stage 2' 30
out=$("$T" estop --json)
check "estop answers with the stopped state" test "$(jq -r .state <<<"$out")" = emergency_stopped
check "the guard commands an emergency stop" test "$(jq -r .command.estop <<<"$out")" = true
check "the belt comes to rest" wait_for '"treadmill":\{[^}]*"speed_kmh":0(\.0)?,[^}]*"running":false' 30
rec=$("$T" show "$id" --json)
check "end reason emergency_stop" test "$(jq -r .end_reason <<<"$rec")" = emergency_stop
check "estop event recorded with its source" test "$(jq -r '[.events[] | select(.kind=="estop")][0].source' <<<"$rec")" = technician
check "PWT is the end of walking" test "$(jq -r '.pwt_s | type' <<<"$rec")" = number
check "show reports PWT and ACD censored by the emergency stop" \
	bash -c "'$T' show '$id' | grep -Eq 'PWT +more than [0-9.]+ s: emergency stop' && '$T' show '$id' | grep -Eq 'ACD +more than [0-9.]+ m: emergency stop'"
# No automatic restart: the belt stays off for the following updates.
check "the belt stays off" bash -c "timeout 10 '$T' watch --json --count 20 | grep '\"status\"' | grep -q '\"belt_on\":true' && exit 1 || exit 0"
check "a second estop is accepted (idempotent)" "$T" estop
check "onset after the stop is refused" bash -c "! '$T' onset 2>/dev/null"
check "the treadmill can be reconnected with no test running" "$T" reconnect
check "... and reports itself connected" test "$("$T" status --json | jq -r .treadmill.connected)" = true
# A malformed body never keeps the belt running: the stop happens, the body is named.
"$T" start --protocol constant-2mph-10pct --patient ESTOP01 >/dev/null
check "the third test runs" wait_for '"state":"running".*"belt_on":true' 30
check "reconnect is refused while a test runs" bash -c "'$T' reconnect 2>&1 | grep -q 'a test is in progress'"
out=$(api POST /v1/estop '{"operator": ')
check "estop with a malformed body still stops (200)" test "${out%% *}" = 200
check "... and says the body was not used" grep -q '"warning"' <<<"${out#* }"
check "... the test is emergency-stopped" test "$("$T" show 2 --json | jq -r .end_reason)" = emergency_stop
id2=$("$T" start --protocol constant-2mph-10pct --patient ESTOP01)
check "the operator may start a new test" test "$id2" = 3
check "the new test runs" wait_for '"state":"running".*"belt_on":true' 30
"$T" stop --reason "end of test" >/dev/null
check "operator stop ends walking" test "$("$T" show 3 --json | jq -r .end_reason)" = operator_stop
finish
