# The store's files are private to the daemon even when it is started by hand with a
# permissive umask, and a test takes at most 200 pressures: the 201st is refused with
# a clear error (not a store fault), and the record's answer stays small.
source "$(dirname "$0")/lib.sh"

umask 0022
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
DB="$WORK/treadlab.db"
id=$("$T" start --protocol gardner-skinner --patient LIMIT01)
for f in "$DB" "$DB-wal" "$DB-shm" "$DB.lock"; do
	check "$(basename "$f") is 0640, whatever the umask" test "$(stat -c %a "$f")" = 640
done

# 199 pressures behind the daemon's back, then the last ones through the API.
sqlite3 "$DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
	INSERT INTO pressures (test_id, phase, minute, site, mmhg, operator, source, recorded_at)
	SELECT $id, 'post', 1, 'pt-left', 80, 'alice', 'manual', '2026-11-25T19:20:00.123Z' FROM n;"
check "the 200th pressure is taken" "$T" pressure "$id" --phase rest --site pt-left --mmhg 90
out=$(api POST "/v1/tests/$id/pressures" '{"phase": "rest", "site": "pt-right", "mmhg": 91}')
check "the 201st is refused (409)" test "${out%% *}" = 409
check "... saying why" grep -q 'the test already has 200 pressures, the most one test may have' <<<"${out#* }"
check "it was not stored" test "$(sqlite3 "$DB" "select count(*) from pressures where test_id = $id")" = 200
check "a refusal is not a store fault" test "$("$T" status --json | jq -r .store_error)" = null
check "the test still walks" test "$("$T" status --json | jq -r .state)" = running
finish
