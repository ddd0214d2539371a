# A store the daemon cannot trust or cannot write is refused at start, with a message
# that says which and what to do, before anything serves or moves: a database with a
# damaged page (found by PRAGMA quick_check), and a read-only one (a tmpfs remounted
# read-only in a user and mount namespace of the test's own), which is left without
# -wal or -shm files, so the next start, on a writable file, is not blocked.
source "$(dirname "$0")/in_namespace.sh"
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"

# refused DB PATTERN: the daemon exits at once, non-zero, with one line matching.
refused() {
	local db=$1 re=$2 out rc
	# timeout: a daemon that wrongly started would serve until stopped.
	out=$(timeout 30 "$D" --config "$WORK/d.conf" --db "$db" --socket "$WORK/refused.sock" 2>&1) && rc=0 || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { say "     exit status $rc: $out"; return 1; }
	grep -Eq -- "$re" <<<"$out" || { say "     got: $out"; return 1; }
	[ "$(wc -l <<<"$out")" -eq 1 ] || { say "     more than one line: $out"; return 1; }
	[ ! -e "$WORK/refused.sock" ] || { say "     it made its socket"; return 1; }
}

# A store with a finished test, made by the daemon itself.
make_store() {
	local db=$1
	start_daemon "$WORK/d.conf" --db "$db"
	local id
	id=$("$T" start --protocol gardner-skinner --patient STORE01)
	"$T" stop --reason "made for the test" >/dev/null
	wait_for '"state":"recovery"' 30
	"$T" finish >/dev/null
	stop_daemon TERM
	echo "$id"
}

# --- a damaged page ---
DB="$WORK/damaged.db"
make_store "$DB" >/dev/null
page=$(sqlite3 "$DB" "PRAGMA page_size")
leaf=$(sqlite3 "$DB" "select max(pageno) from dbstat where name = 'samples' and pagetype = 'leaf'")
head -c 64 /dev/urandom | dd of="$DB" bs=1 seek=$(((leaf - 1) * page)) conv=notrunc 2>/dev/null
sum=$(sha256sum <"$DB")
check "a damaged page is refused, saying so" refused "$DB" "store: $DB is damaged \(quick_check: .*restore it from a backup"
check "... and the file is left as it was" test "$(sha256sum <"$DB")" = "$sum"

# --- a read-only file system ---
mkdir "$WORK/fs"
mount -t tmpfs -o size=8m tmpfs "$WORK/fs"
DB="$WORK/fs/treadlab.db"
id=$(make_store "$DB")
check "the store is closed cleanly (no -wal, no -shm)" test ! -e "$DB-wal" -a ! -e "$DB-shm"
mount -o remount,ro "$WORK/fs"
check "a read-only store is refused, saying so" refused "$DB" \
	"store: $DB is read-only \(its file system is mounted read-only.*\); treadlabd must be able to write"
check "... and no -wal or -shm is left behind" test ! -e "$DB-wal" -a ! -e "$DB-shm"
mount -o remount,rw "$WORK/fs"
start_daemon "$WORK/d.conf" --db "$DB"
check "writable again, the daemon starts on it" test "$("$T" status --json | jq -r .state)" = idle
check "... and the record is whole" test "$("$T" show "$id" --json | jq -r .state)" = complete
stop_daemon TERM
umount "$WORK/fs"
finish
