# The API's read-only store connections are a small pool (src/daemon/api_pool.c) shared
# by the request threads: many GETs at once are all answered, each with the whole record;
# a kept connection sees every commit; event streams hold none; and when the database
# file goes away the reads say so (500 with the store's reason), and work again once it
# is back. (A file replaced under the daemon is tests/unit/test_api_pool.c's: here the
# writer would keep writing the old one.)
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient POOL01)
"$T" max >/dev/null
check "the walk ends" wait_for '"state":"recovery"' 60
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null
check "the test is complete" test "$("$T" show "$id" --json | jq -r .state)" = complete

# Each edit is answered with the record read after its commit, through a pooled
# connection: more edits than connections, so connections are reused.
for n in 1 2 3 4 5 6; do
	got=$(api POST "/v1/tests/$id/pressures" "{\"phase\":\"post\",\"minute\":$n,\"site\":\"pt-left\",\"mmhg\":$((90 + n))}")
	check "pressure $n: answered 200 with $n pressures" \
		test "${got%% *} $(jq '.pressures | length' <<<"${got#* }")" = "200 $n"
done

# Event streams, more than the pool has connections, stay open through what follows.
stream_pids=()
for i in 1 2 3 4 5 6; do
	curl -sN --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/events >"$WORK/sse.$i" &
	stream_pids+=($!)
done
# Readiness: each stream has sent its first status.
streams_up() {
	local i
	for i in 1 2 3 4 5 6; do grep -q '^event: status$' "$WORK/sse.$i" || return 1; done
}
# wait_until LIMIT_S COMMAND...: polls a readiness condition, fails after the limit.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
check "six event streams are open" wait_until 30 streams_up

get_one() {
	curl -s -o "$WORK/get.$1" -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" \
		"http://treadlabd/v1/tests/$id" >"$WORK/code.$1"
}
want=$(api GET "/v1/tests/$id")
check "the record reads 200" test "${want%% *}" = 200
printf '%s\n' "${want#* }" >"$WORK/want"
N=48
pids=()
for i in $(seq $N); do
	get_one "$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
ok=0 same=0
for i in $(seq $N); do
	[ "$(cat "$WORK/code.$i")" = 200 ] && ok=$((ok + 1))
	cmp -s "$WORK/get.$i" "$WORK/want" && same=$((same + 1))
done
check "$N GETs at once: all 200 ($ok)" test "$ok" = "$N"
check "... all with the same whole record ($same)" test "$same" = "$N"
check "... which has the six pressures" test "$(jq '.pressures | length' "$WORK/want")" = 6
check "the event streams were still open" kill -0 "${stream_pids[@]}"
kill "${stream_pids[@]}" 2>/dev/null || true
wait "${stream_pids[@]}" 2>/dev/null || true

# The database goes away under the daemon: the kept connections would read the old
# file; the reads say instead that the store cannot be opened.
mv "$WORK/treadlab.db" "$WORK/away.db"
check "a test read while the file is gone: 500 with the store's reason" \
	expect 500 "store: opening $WORK/treadlab.db: unable to open database file" GET "/v1/tests/$id"
check "the list too" expect 500 'store: opening .*unable to open' GET /v1/tests
check "an edit is refused, nothing queued" expect 500 'store: opening' \
	POST "/v1/tests/$id/pressures" '{"phase":"rest","site":"pt-right","mmhg":100}'
mv "$WORK/away.db" "$WORK/treadlab.db"
got=$(api GET "/v1/tests/$id")
check "back: the record reads 200 again" test "${got%% *}" = 200
check "... the same record" test "$(jq -c . <<<"${got#* }")" = "$(jq -c . "$WORK/want")"

finish
