# lib.sh - shared helpers for treadlab's integration tests (sourced, not run).
#
# Every test starts what it needs in its own temporary directory, waits on readiness
# (the daemon's --ready-fd line, or the first matching record of the live stream), never
# on sleeps, and stops what it started by pid.
set -euo pipefail

: "${TL_BUILD_DIR:?run through ctest}"
: "${TL_SOURCE_DIR:?run through ctest}"
T="$TL_BUILD_DIR/treadlab"
D="$TL_BUILD_DIR/treadlabd"
WORK=$(mktemp -d /tmp/treadlab-it.XXXXXX)
export TREADLAB_SOCKET="$WORK/api.sock"
DAEMON_PID=""
FAILS=0
PASSES=0

cleanup() {
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }

# check DESCRIPTION COMMAND...: runs the command; counts and reports the result.
check() {
	local what=$1
	shift
	if "$@"; then
		PASSES=$((PASSES + 1))
		say "ok   - $what"
	else
		FAILS=$((FAILS + 1))
		say "FAIL - $what"
	fi
}

# finish: the closing line, and the exit status.
finish() {
	say "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# write_config FILE [extra INI text]: a daemon configuration for this test.
write_config() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
}

# start_daemon CONFIG [more treadlabd args]: starts treadlabd on $WORK/db and the test
# socket, and returns once it is serving (its --ready-fd line).
start_daemon() {
	local conf=$1
	shift
	rm -f "$WORK/ready"
	mkfifo "$WORK/ready"
	# TL_DAEMON_WRAPPER runs the daemon under a tool (valgrind) when set.
	${TL_DAEMON_WRAPPER:-} "$D" --config "$conf" --db "$WORK/treadlab.db" --socket "$TREADLAB_SOCKET" \
		--ready-fd 3 "$@" 3>"$WORK/ready" 2>>"$WORK/daemon.log" &
	DAEMON_PID=$!
	local line=""
	if ! read -r -t 60 line <"$WORK/ready" || [ "$line" != ready ]; then
		say "treadlabd did not become ready; its log:"
		cat "$WORK/daemon.log" >&2 || true
		return 1
	fi
}

# stop_daemon [SIGNAL]: stops the daemon this test started, by pid; DAEMON_STATUS gets
# its exit status.
DAEMON_STATUS=""
stop_daemon() {
	local sig=${1:-TERM}
	[ -n "$DAEMON_PID" ] || return 0
	kill -"$sig" "$DAEMON_PID" 2>/dev/null || true
	DAEMON_STATUS=0
	wait "$DAEMON_PID" 2>/dev/null || DAEMON_STATUS=$?
	DAEMON_PID=""
}

# wait_for PATTERN [TIMEOUT_S]: blocks until a record of the live stream (one JSON object
# a line) matches the extended regular expression; fails after the timeout.
wait_for() {
	local pattern=$1 limit=${2:-60}
	# grep closes the pipe at the first match; the watcher's SIGPIPE is not a failure.
	{ timeout "$limit" "$T" watch --json || true; } | grep -E -m1 -q -- "$pattern"
}

# api METHOD PATH [BODY]: prints "STATUS BODY" of a raw API call (curl, no client logic).
# Every method but GET says Content-Type: application/json, as the API requires.
api() {
	local method=$1 path=$2 body=${3-}
	local out status
	out=$(mktemp "$WORK/resp.XXXXXX")
	if [ -n "$body" ]; then
		status=$(curl -s -o "$out" -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" \
			-X "$method" -H 'Content-Type: application/json' --data-binary "$body" \
			"http://treadlabd$path")
	elif [ "$method" != GET ]; then
		status=$(curl -s -o "$out" -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" \
			-X "$method" -H 'Content-Type: application/json' "http://treadlabd$path")
	else
		status=$(curl -s -o "$out" -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" \
			-X "$method" "http://treadlabd$path")
	fi
	printf '%s %s\n' "$status" "$(cat "$out")"
	rm -f "$out"
}

# expect STATUS MESSAGE-REGEX METHOD PATH [BODY]: a raw API call answers STATUS with a
# body matching the regular expression; prints what came instead.
expect() {
	local want=$1 re=$2
	shift 2
	local got
	got=$(api "$@")
	if [ "${got%% *}" = "$want" ] && grep -Eq -- "$re" <<<"${got#* }"; then
		return 0
	fi
	say "     got: $got"
	return 1
}

# need_treadsim: the build's treadsim in TREADSIM (exported), or the test is skipped (77):
# a build without hil/ has none.
need_treadsim() {
	TREADSIM=${TREADSIM:-$TL_BUILD_DIR/hil/treadsim}
	if [ ! -x "$TREADSIM" ]; then
		say "treadsim is not built: skipped"
		exit 77
	fi
	export TREADSIM
}

# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# wait_cuff JQ [TIMEOUT_S]: blocks until a status of the daemon's live stream has a
# "cuff" for which the jq expression (on the cuff's object) is true; the daemon publishes
# its status, the cuff's with it, every tick.
wait_cuff() {
	local expr=$1 limit=${2:-60}
	# jq answers every record, so it (and the watcher) end once grep has its match.
	# (pipefail: the watcher's and jq's SIGPIPE are not failures; grep's answer is.)
	{ timeout "$limit" "$T" watch --json || true; } |
		{ jq --unbuffered -r "if ((.status.cuff? // null) as \$c | \$c != null and
			(\$c | try ($expr) catch false)) then \"hit\" else \"-\" end" 2>/dev/null || true; } |
		grep -m1 -q '^hit$' && return 0
	say "     the cuff never reached $expr: $("$T" cuff --json 2>&1 | jq -c . 2>/dev/null)"
	return 1
}
