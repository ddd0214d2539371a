# When the store cannot create a test's record, the start is answered with the store's
# reason and the belt is never started: no test walks unrecorded, not even for a tick.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
# Make the next insert into tests fail (another program writing: it waits for the
# daemon's lock, as any tool beside a live database should).
sqlite3 -cmd ".timeout 5000" "$WORK/treadlab.db" "CREATE TRIGGER fail_tests BEFORE INSERT ON tests BEGIN SELECT RAISE(ABORT, 'simulated store failure'); END;"

out=$("$T" start --protocol gardner-skinner --patient FAIL01 2>&1) && rc=0 || rc=$?
check "start fails ($rc)" test "$rc" -ne 0
check "... with the store's reason" grep -q 'simulated store failure' <<<"$out"
check "... saying the belt was not started" grep -q 'could not be recorded, so the belt was not started' <<<"$out"
st=$("$T" status --json)
check "no test is in progress" test "$(jq -r .state <<<"$st")" = idle
check "the belt was never commanded on" test "$(jq -r .command.belt_on <<<"$st")" = false
check "status shows the store error" grep -q 'simulated store failure' <<<"$(jq -r .store_error <<<"$st")"
check "no start event reached the stream" bash -c "! timeout 3 '$T' watch --json --count 5 | grep -q '\"kind\":\"start\"'"

sqlite3 -cmd ".timeout 5000" "$WORK/treadlab.db" "DROP TRIGGER fail_tests;"
id=$("$T" start --protocol gardner-skinner --patient FAIL01)
check "with the store healthy a test starts and is recorded" test "$("$T" show "$id" --json | jq -r .state)" = running
check "its status has no store error" test "$("$T" status --json | jq -r .store_error)" = null
finish
