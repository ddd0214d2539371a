# A second treadlabd on the same database is refused while the first lives: it must not
# close the first one's live test as interrupted, nor write beside it. The refusal names
# the first daemon's pid. Once the first has gone, a new daemon starts on the database.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
first=$DAEMON_PID
id=$("$T" start --protocol gardner-skinner --patient LOCK01)
check "the first daemon's test walks" wait_for '"state":"running".*"belt_on":true' 30

# timeout: a second daemon that wrongly started would serve until stopped.
out=$(timeout 30 "$D" --config "$WORK/d.conf" --db "$WORK/treadlab.db" \
	--socket "$WORK/second.sock" 2>&1) && rc=0 || rc=$?
check "the second daemon exits with an error ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "it says the database is in use, by whom" grep -q "in use by another treadlabd (pid $first)" <<<"$out"
check "... in one line" test "$(wc -l <<<"$out")" -eq 1
check "it made no socket" test ! -e "$WORK/second.sock"
rec=$("$T" show "$id" --json)
check "the first daemon's test still runs" test "$(jq -r .state <<<"$rec")" = running
check "no interrupted event was added" test "$(jq '[.events[] | select(.kind == "interrupted")] | length' <<<"$rec")" = 0
check "the first daemon still answers" test "$("$T" status --json | jq -r .state)" = running

stop_daemon TERM
start_daemon "$WORK/d.conf"
check "once the first is gone, a daemon starts on the database" test "$("$T" status --json | jq -r .state)" = idle
check "the lock file is not world-readable" test "$(stat -c %a "$WORK/treadlab.db.lock")" = 640
finish
