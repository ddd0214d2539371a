# lib_cuff.sh - what the daemon's cuff tests share (sourced after lib_hil.sh): treadsim's
# cuff beside its treadmill and button box, a daemon configuration for it, and waits on
# the cuff's status in the live stream or on treadsim's log (never on sleeps).

CUFF_LINK="$WORK/tty-cuff"
CUFF_PORT_FILE="$WORK/cuff.port"
CUFF_SCENARIO="$WORK/scenario.txt"
CUFF_PROFILE="$TL_SOURCE_DIR/config/devices/sim-cuff.profile"

# cuff_conf FILE SCALE [extra INI lines]: treadsim's RTU treadmill, the button box (the
# patient's keys and the foot switch, key 3) and the lines given ([cuff] ...).
cuff_conf() {
	local file=$1 scale=$2
	shift 2
	write_config "$file" "[treadmill]" "driver = modbus" "device = $SIM_LINK" "framing = 8N1" \
		"profile = $TL_SOURCE_DIR/config/devices/treadsim.profile" "simulated = true" \
		"[buttons]" "box_device = $SIM_LINK2" "[sim]" "time_scale = $scale" "$@"
}

# cuff_json [-c] [JQ]: GET /v1/cuff through curl, filtered by JQ (default: the whole object).
cuff_json() {
	local opt=-r
	[ "${1-}" = -c ] && { opt=-c; shift; }
	curl -s --unix-socket "$TREADLAB_SOCKET" http://treadlabd/v1/cuff | jq "$opt" "${1:-.}"
}

# cuff_post PATH BODY: a cuff request; prints "STATUS BODY".
cuff_post() {
	api POST "/v1/cuff/$1" "${2:-{\}}"
}

# wait_cuff JQ [TIMEOUT_S]: tests/integration/lib.sh.

# wait_log_n PATTERN N [TIMEOUT_S]: blocks until treadsim's log (from its beginning) has
# N lines matching the extended regular expression; prints the Nth. (grep, not awk:
# mawk fills its whole input buffer before it looks, so with a quiet log, no daemon
# polling, it saw the line only at the timeout.)
wait_log_n() {
	local pattern=$1 n=$2 limit=${3:-30} fd pid rc=0 hits
	exec {fd}< <(exec timeout "$limit" tail -n +1 -F "$SIM_LOG" 2>/dev/null)
	pid=$!
	hits=$(grep -m "$n" -E -- "$pattern" <&"$fd") || true
	if [ -n "$hits" ] && [ "$(wc -l <<<"$hits")" -eq "$n" ]; then
		tail -n 1 <<<"$hits"
	else
		rc=1
	fi
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	# what the cuff did instead
	[ "$rc" -eq 0 ] || grep 'event cuff-' "$SIM_LOG" | tail -8 | sed 's/^/     sim: /' >&2
	return "$rc"
}

# sim_cuff KEY: one field of treadsim's cuff-state answer (mode, mmhg, site, ...).
sim_cuff() {
	simctl cuff-state | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# log_count PATTERN: lines of treadsim's log matching the extended regular expression.
log_count() {
	grep -cE -- "$1" "$SIM_LOG" || true
}

# simctl_ok COMMAND: treadsim accepted the control command.
simctl_ok() {
	simctl "$1" | grep -q '^ok'
}
