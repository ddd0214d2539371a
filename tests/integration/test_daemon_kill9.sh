# kill -9 of the daemon mid-test, then a restart: the test is closed as interrupted and
# every event recorded before the kill is still there; the database is intact. Then
# SIGTERM mid-test: a controlled stop, recorded as the reason.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 100"
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient KILL01)
"$T" pressure "$id" --phase rest --site brachial-left --mmhg 130 >/dev/null
check "the virtual patient's onset is recorded" wait_for '"kind":"onset"' 30
check "a later stage begins" wait_for '"detail":"stage 3' 30
before=$("$T" show "$id" --json)
n_before=$(jq '.events | length' <<<"$before")
stop_daemon KILL

check "integrity_check ok after kill -9" test "$(sqlite3 "$WORK/treadlab.db" 'PRAGMA integrity_check')" = ok
start_daemon "$WORK/d.conf"
after=$("$T" show "$id" --json)
check "the test is closed as interrupted" test "$(jq -r .state <<<"$after")" = interrupted
check "ended_at is set" test "$(jq -r '.ended_at | type' <<<"$after")" = string
check "every event before the kill is kept ($n_before)" test \
	"$(jq -c ".events[0:$n_before] | map(del(.recorded_at))" <<<"$after")" = \
	"$(jq -c '.events | map(del(.recorded_at))' <<<"$before")"
check "an interrupted event follows them" test "$(jq -r '.events[-1].kind' <<<"$after")" = interrupted
check "COT kept" test "$(jq -r .cot_s <<<"$after")" = "$(jq -r .cot_s <<<"$before")"
check "the pressure kept" test "$(jq '.pressures | length' <<<"$after")" = 1
check "samples kept" test "$(sqlite3 "$WORK/treadlab.db" "select count(*) > 0 from samples where test_id = $id")" = 1
check "the daemon is idle after the restart" test "$("$T" status --json | jq -r .state)" = idle

# SIGTERM during a test: a controlled stop, then exit; the record says why.
id2=$("$T" start --protocol gardner-skinner --patient KILL01)
check "the second test walks" wait_for '"state":"running".*"running":true' 30
stop_daemon TERM
check "SIGTERM exits the daemon" test -z "$DAEMON_PID"
state=$(sqlite3 "$WORK/treadlab.db" "select state || ',' || end_reason from tests where id = $id2")
check "SIGTERM ends the test as aborted/shutdown ($state)" test "$state" = aborted,shutdown
check "the belt stop was recorded before exit" test \
	"$(sqlite3 "$WORK/treadlab.db" "select count(*) from events where test_id = $id2 and kind = 'shutdown'")" = 1
finish
