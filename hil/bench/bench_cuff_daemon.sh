#!/usr/bin/env bash
# bench_cuff_daemon.sh - the foot switch to the recorded value through treadlabd (issue 15).
# Prints figures; asserts nothing.
#
# treadsim plays the cuff (Modbus TCP inflator, then a text gauge) and the technician who
# follows the guided series (--cuff-follow) through every site and phase of the scenario
# (default tests/data/cuff-scenario.txt); treadlabd reads the cuff and records a value at
# each press of the foot switch (the button box's key 3). For each reading it pairs
# treadsim's press (its log: "event cuff-footswitch site=S true=T pressure=P", P being the
# cuff pressure at the instant the byte left) with the daemon's recorded value V, and
# prints over all readings, p50 / p99 / max:
#   - the pressure error |V - P|: what the daemon's path (the box's byte, the sampling,
#     the interpolation, the rounding to 0.1 mmHg) adds to the technician's press;
#   - the timestamp error it implies at the deflation rate, |V - P| / rate;
#   - V - T, the reading against the true pressure: the technician's reaction time
#     (scenario reaction_ms +- jitter_ms at the rate) and the above together.
#
# Run from the top of the source tree after building:
#   hil/bench/bench_cuff_daemon.sh [--build DIR] [--scenario FILE] [--rate MMHG_S]
# (default build/, the shipped scenario, 5 mmHg/s: [cuff] deflate_mmhg_s for the Modbus
# cuff, cuff-rate for the gauge's technician). Minutes: every cycle runs in real time.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$SRC/build
SCEN=$SRC/tests/data/cuff-scenario.txt
RATE=5
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--scenario) SCEN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	*) echo "usage: bench_cuff_daemon.sh [--build DIR] [--scenario FILE] [--rate MMHG_S]" >&2; exit 2 ;;
	esac
done
export TL_BUILD_DIR=$BUILD TL_SOURCE_DIR=$SRC TREADSIM=$BUILD/hil/treadsim
source "$SRC/hil/tests/lib_hil.sh"
source "$SRC/hil/tests/lib_cuff.sh"
cp "$SCEN" "$CUFF_SCENARIO"

SITES=$(awk '$1 == "site" { printf "%s%s", n++ ? "," : "", $2 }' "$CUFF_SCENARIO")
FIRST=${SITES%%,*}
MINUTES=$(awk '$1 == "minutes" { $1 = ""; print }' "$CUFF_SCENARIO")
# the ceiling: 20 mmHg above the highest true pressure (AHA 2012: past the disappearance)
CEILING=$(awk '$1 == "site" { for (i = 3; i <= NF; i++) if ($i > m) m = $i } END { print m + 20 }' "$CUFF_SCENARIO")
K=10

# run WIRE: one daemon on treadsim's cuff over WIRE (modbus or text); every phase.
run() {
	local wire=$1
	if [ "$wire" = modbus ]; then
		start_treadsim --modbus-rtu "$SIM_LINK" --button-box "$SIM_LINK2" --time-scale "$K" \
			--cuff-modbus-tcp 127.0.0.1:0 --cuff-tcp-port-file "$CUFF_PORT_FILE" \
			--cuff-scenario "$CUFF_SCENARIO" --cuff-follow --cuff-inflate-mmhg-s 100
		cuff_conf "$WORK/d.conf" "$K" "[cuff]" "source = cuff-modbus" \
			"tcp = 127.0.0.1:$(cat "$CUFF_PORT_FILE")" "profile = $CUFF_PROFILE" \
			"sites = $SITES" "ceiling_mmhg = $CEILING" "deflate_mmhg_s = $RATE"
	else
		start_treadsim --modbus-rtu "$SIM_LINK" --button-box "$SIM_LINK2" --time-scale "$K" \
			--cuff-text "$CUFF_LINK" --cuff-text-period-ms 50 --cuff-scenario "$CUFF_SCENARIO" \
			--cuff-follow --cuff-inflate-mmhg-s 100
		cuff_conf "$WORK/d.conf" "$K" "[cuff]" "source = cuff-text" "device = $CUFF_LINK" \
			"baud = 9600" "pattern = {site} {mmhg} mmHg" "sites = $SITES"
	fi
	start_daemon "$WORK/d.conf"
	wait_cuff '.connected' 10 || { echo "bench: the cuff did not connect" >&2; exit 1; }
	local id
	id=$("$T" start --protocol gardner-skinner --patient BENCH --operator bench)
	api POST /v1/cuff/series "{\"test\": $id, \"phase\": \"rest\"}" >/dev/null
	if [ "$wire" = text ]; then
		simctl_ok "cuff-rate=$RATE"
		simctl_ok "cuff-cycle=$CEILING"
	fi
	for m in $MINUTES; do
		# the technician is at the first site of minute m: its press (Modbus) or its
		# hand cycle (text) is the series' first
		if [ "$wire" = modbus ]; then
			wait_log "event cuff-follow-press site=$FIRST phase=$m\$" 600 >/dev/null
		else
			wait_log "event cuff-follow site=$FIRST phase=$m " 600 >/dev/null
		fi
		api POST /v1/cuff/series "{\"test\": $id, \"phase\": \"post\", \"minute\": $m}" >/dev/null
	done
	wait_log 'event cuff-follow done' 600 >/dev/null
	wait_cuff '.series == null' 10 || true
	"$T" stop >/dev/null 2>&1 || true # the walk may have ended at the protocol's limit
	# the presses in order against the readings in order, each pair checked by its site
	"$T" show "$id" --json | jq -r '.pressures[] | "\(.site) \(.mmhg) \(.interval_ms)"' >"$WORK/rec"
	sed -n 's/.*event cuff-footswitch site=\([^ ]*\) true=\([0-9.]*\) pressure=\([0-9.]*\).*/\1 \2 \3/p' \
		"$SIM_LOG" >"$WORK/press"
	stop_daemon TERM
	stop_treadsim
	paste -d ' ' "$WORK/press" "$WORK/rec" | awk -v wire="$wire" -v rate="$RATE" '
		function pct(a, n, p,   i) { i = int(p / 100 * n + 0.999999); if (i < 1) i = 1; if (i > n) i = n; return a[i] }
		function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
		function row(what, a, n, unit) { sort(a, n); printf "  %-42s min %7.3f  p50 %7.3f  p99 %7.3f  max %7.3f %s\n", what, a[1], pct(a, n, 50), pct(a, n, 99), a[n], unit }
		NF == 6 && $1 == $4 { n++; e = $5 - $3; pe[n] = e < 0 ? -e : e; te[n] = pe[n] / rate * 1000
			d = $5 - $2; vt[n] = d; iv[n] = $6 }
		NF != 6 || $1 != $4 { bad++ }
		END {
			printf "%s: %d readings paired with their press (%d unpaired)\n", wire, n, bad
			if (!n) exit
			row("|recorded - cuff at the press|", pe, n, "mmHg")
			row("implied timestamp error at " rate " mmHg/s", te, n, "ms")
			row("recorded - true (the reaction time too)", vt, n, "mmHg")
			row("sampling interval around the press", iv, n, "ms")
		}'
}

echo "bench_cuff_daemon: scenario $(basename "$SCEN") ($SITES; rest and minutes$MINUTES), ceiling $CEILING mmHg, $RATE mmHg/s"
run modbus
run text
