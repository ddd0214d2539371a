# The database's file system fills up mid-test (a real SQLITE_FULL: a small tmpfs in a
# user and mount namespace of the test's own, filled with a file). The belt is brought
# to a controlled stop with its own end reason, status and every answer name the error,
# the events go on being held in memory, and once there is room again they are written:
# the record has what came before the fault, the stop, the recovery and the real end,
# also after a restart. With TL_DAEMON_WRAPPER set (test_daemon_valgrind_disk_full.sh)
# the daemon runs under that tool, and its exit status is checked at every stop.
source "$(dirname "$0")/in_namespace.sh"
source "$(dirname "$0")/lib.sh"

mkdir "$WORK/fs"
mount -t tmpfs -o size=8m tmpfs "$WORK/fs"
DB="$WORK/fs/treadlab.db"
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 20" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf" --db "$DB"

id=$("$T" start --protocol gardner-skinner --patient FULL01)
check "the test walks" wait_for '"state":"running".*"belt_on":true' 30
"$T" onset >/dev/null
check "onset recorded before the fault" test "$(sqlite3 "$DB" "select count(*) from events where test_id = $id and kind = 'onset'")" = 1

# Fill the file system: the next commit cannot grow the WAL.
dd if=/dev/zero of="$WORK/fs/fill" bs=64k 2>/dev/null || true
check "the walk is stopped" wait_for '"state":"(stopping|recovery)"' 30
st=$("$T" status --json)
check "... with its own end reason" test "$(jq -r .end_reason <<<"$st")" = store_failure
check "status names the store's error" grep -q 'database or disk is full' <<<"$(jq -r .store_error <<<"$st")"
check "... and that writes are held" grep -q 'writes are held and retried' <<<"$(jq -r .store_error <<<"$st")"
check "the belt comes to rest" wait_for '"treadmill":\{[^}]*"running":false' 30
check "recovery begins" wait_for '"state":"recovery"' 30
out=$("$T" relief --posture standing 2>&1) && rc=0 || rc=$?
check "relief is answered with an error ($rc)" test "$rc" -ne 0
check "... saying it is done but not recorded yet, and why" \
	grep -q 'done, but not recorded yet: .*database or disk is full' <<<"$out"
out=$(api POST /v1/estop '{}')
check "an e-stop is carried out ... (the guard latches it)" test "$(jq -r .command.estop <<<"${out#* }")" = true
check "... and its answer names the store's error" grep -q 'disk is full' <<<"${out#* }"
out=$("$T" finish 2>&1) && rc=0 || rc=$?
check "finish is carried out, not yet recorded ($rc)" grep -q 'not recorded yet' <<<"$out"
check "the test is complete at the daemon" test "$("$T" status --json | jq -r .state)" = complete
check "nothing of it is in the file yet" test "$(sqlite3 "$DB" "select count(*) from events where test_id = $id and kind in ('relief', 'estop', 'walk_end', 'complete')")" = 0
out=$("$T" start --protocol gardner-skinner --patient FULL02 2>&1) && rc=0 || rc=$?
check "a new test is refused while writes are held ($rc)" grep -q 'could not be recorded, so the belt was not started: .*disk is full' <<<"$out"
check "... and its belt never started" test "$("$T" status --json | jq -r .command.belt_on)" = false

rm -f "$WORK/fs/fill"
check "once there is room the held writes are recorded" wait_for '"store_error":null' 30
rec=$("$T" show "$id" --json)
check "the onset from before the fault is kept" test "$(jq '[.events[] | select(.kind == "onset")] | length' <<<"$rec")" = 1
check "the stop is recorded with the store's error" \
	grep -q 'the record cannot be written: store: .*database or disk is full' <<<"$(jq -r '.events[] | select(.kind == "stop") | .detail' <<<"$rec")"
check "the end reason is recorded" test "$(jq -r .end_reason <<<"$rec")" = store_failure
check "the belt stop is recorded" test "$(jq '[.events[] | select(.kind == "belt_stopped")] | length' <<<"$rec")" = 1
check "the relief given during the fault is recorded" test "$(jq '[.events[] | select(.kind == "relief")] | length' <<<"$rec")" = 1
check "the e-stop during the fault is recorded" test "$(jq '[.events[] | select(.kind == "estop")] | length' <<<"$rec")" = 1
check "events are in time order" test "$(jq '[.events[].t_s] == ([.events[].t_s] | sort)' <<<"$rec")" = true
check "the test is complete, as at the daemon" test "$(jq -r .state <<<"$rec")" = complete
check "the refused start left no test behind" test "$(sqlite3 "$DB" "select count(*) from tests")" = 1
stop_daemon TERM
check "the daemon exits cleanly ($DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
check "integrity_check ok" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
start_daemon "$WORK/d.conf" --db "$DB"
rec=$("$T" show "$id" --json)
check "after a restart the test is complete, not interrupted" test "$(jq -r .state <<<"$rec")" = complete
check "... with its real end reason" test "$(jq -r .end_reason <<<"$rec")" = store_failure
check "... and no interrupted event" test "$(jq '[.events[] | select(.kind == "interrupted")] | length' <<<"$rec")" = 0

# Stopped while the disk is still full: what cannot be written is not lost without a
# trace (the log has it), and the next start closes the test as interrupted, keeping
# everything written before the fault.
id2=$("$T" start --protocol gardner-skinner --patient FULL03)
check "another test walks" wait_for '"state":"running".*"belt_on":true' 30
"$T" onset >/dev/null
dd if=/dev/zero of="$WORK/fs/fill" bs=64k 2>/dev/null || true
check "it is stopped for the store" wait_for '"end_reason":"store_failure"' 30
: >"$WORK/daemon.log"
stop_daemon TERM
check "the daemon exits ($DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
check "the log names what was not recorded" grep -q "not recorded (store: .*full): test $id2 event walk_end" "$WORK/daemon.log"
rm -f "$WORK/fs/fill"
start_daemon "$WORK/d.conf" --db "$DB"
rec=$("$T" show "$id2" --json)
check "the next start closes it as interrupted" test "$(jq -r .state <<<"$rec")" = interrupted
check "... keeping the onset from before the fault" test "$(jq '[.events[] | select(.kind == "onset")] | length' <<<"$rec")" = 1
stop_daemon TERM
check "the daemon exits cleanly ($DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
umount "$WORK/fs"
finish
