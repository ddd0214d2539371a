# When the store cannot create a test's record, the start is answered with the error and
# the belt is stopped at once: no test walks unrecorded.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
# Make the next insert into tests fail, as a full disk would.
sqlite3 "$WORK/treadlab.db" "CREATE TRIGGER fail_tests BEFORE INSERT ON tests BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END;"

out=$("$T" start --protocol gardner-skinner --patient FAIL01 2>&1) && rc=0 || rc=$?
check "start fails ($rc) with the store's reason" grep -q 'simulated disk failure' <<<"$out"
check "the walk is stopped by the system" wait_for '"state":"(stopping|recovery)"' 30
st=$("$T" status --json)
check "status shows the store error" grep -q 'simulated disk failure' <<<"$(jq -r .store_error <<<"$st")"
check "the end reason is an operator-class stop" test "$(jq -r .end_reason <<<"$st")" = operator_stop
check "the belt comes to rest" wait_for '"treadmill":\{[^}]*"running":false' 30

sqlite3 "$WORK/treadlab.db" "DROP TRIGGER fail_tests;"
check "recovery can be finished" "$T" finish
id=$("$T" start --protocol gardner-skinner --patient FAIL01)
check "with the store healthy a test starts and is recorded" test "$("$T" show "$id" --json | jq -r .state)" = running
finish
