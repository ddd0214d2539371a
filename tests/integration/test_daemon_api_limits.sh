# The API's limits per client and its timeouts (issue 9): one client may hold at most 96
# of a listener's connections at libmicrohttpd (here 64 event streams and 32 requests
# whose body never comes), the next one is answered 503 saying so, an e-stop still gets
# through; a request head not complete and a body that stalls are closed after 10 s,
# after which the client is served again.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "node is not installed"; exit 77; }

write_config "$WORK/d.conf" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"

mkfifo "$WORK/hog.in"
node "$TL_SOURCE_DIR/tests/integration/hog.js" --unix "$TREADLAB_SOCKET" \
	--slow 20 --streams 64 --stalled 32 <"$WORK/hog.in" >"$WORK/hog.out" 2>&1 &
HOG_PID=$!
exec 7>"$WORK/hog.in"
trap 'exec 7>&-; kill "$HOG_PID" 2>/dev/null || true; wait "$HOG_PID" 2>/dev/null || true; cleanup' EXIT
# hog_line PATTERN TIMEOUT_S: the hog's first line matching PATTERN.
hog_line() {
	local line=""
	read -r -t "$2" line < <(tail -n +1 -f "$WORK/hog.out" --pid "$HOG_PID" | grep -m1 -E "$1") || true
	printf '%s\n' "$line"
}
ready=$(hog_line '^ready' 60)
check "64 streams and 32 stalled requests from one client ($ready)" \
	test "$ready" = "ready slow=20 streams=64 refused=0 failed=0 stalled=32"
t0=$(date +%s)
out=$(api GET /v1/status)
check "the client's 97th connection: 503" test "${out%% *}" = 503
check "... saying why" grep -q 'too many connections from this client' <<<"${out#* }"
out=$(api POST /v1/estop)
check "an e-stop still gets through: 200" test "${out%% *}" = 200
closed=$(hog_line '^closed' 30)
t1=$(date +%s)
check "the daemon closed the slow heads and the stalled bodies ($closed)" \
	test "$closed" = "closed slow=20 stalled=32"
check "... after its 10 s timeout, not at once ($((t1 - t0)) s)" test $((t1 - t0)) -ge 5
# libmicrohttpd counts a connection out just after closing it: the first request may
# still meet the count of a moment ago, so a few are allowed.
served_again() {
	for _ in $(seq 20); do
		[ "$(api GET /v1/status | cut -d' ' -f1)" = 200 ] && return 0
	done
	return 1
}
check "the client is served again" served_again
finish
