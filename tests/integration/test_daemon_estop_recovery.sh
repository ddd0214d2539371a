# An emergency stop during recovery (the belt already at rest after a max press) is
# carried out and recorded, and the technician can still record relief and finish the
# test: the record keeps max claudication as the end of walking, with the e-stop event.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient ESTOPREC01)
check "the test walks" wait_for '"state":"running".*"belt_on":true' 30
"$T" max >/dev/null
check "recovery begins once the belt stops" wait_for '"state":"recovery"' 30
out=$("$T" estop --json)
check "the e-stop is answered with the test still in recovery" test "$(jq -r .state <<<"$out")" = recovery
check "the guard commands the e-stop" test "$(jq -r .command.estop <<<"$out")" = true
check "relief can be recorded after it" "$T" relief --posture sitting
check "the test can be finished" "$T" finish
rec=$("$T" show "$id" --json)
check "the test is complete" test "$(jq -r .state <<<"$rec")" = complete
check "walking ended by max claudication" test "$(jq -r .end_reason <<<"$rec")" = max_claudication
check "the e-stop is in the record" test "$(jq '[.events[] | select(.kind == "estop")] | length' <<<"$rec")" = 1
check "the recovery time is recorded" test "$(jq -r '.recovery_s | type' <<<"$rec")" = number
finish
