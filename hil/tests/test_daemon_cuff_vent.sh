# The cuff is never left inflated (issue 15): treadlabd drives treadsim's cuff inflator
# over Modbus RTU on a pty and the cuff is vented on an emergency stop during a deflation,
# the cycle's time limit, the source unplugged, SIGTERM to the daemon while inflated, and
# kill -9 of the daemon (then by the cuff's own watchdog, after 2 s of silence: a loaded
# machine's pauses are not a dead daemon). Each: treadsim's log says who
# vented and the cuff comes down to idle; the daemon's status says why.
source "$(dirname "$0")/lib_hil.sh"
source "$(dirname "$0")/lib_cuff.sh"

K=10
# The true pressures are above the ceiling: no signal back, no press; every cycle ends
# by a vent. A fast pump (100 mmHg/s: the cuff is up in 0.4 s) and a low ceiling (40
# mmHg: 5 s of deflation, enough that each vent below comes well above 15 mmHg). The
# time limit is the shortest [cuff] allows with that deflation, 5 s above 15 mmHg; for
# its cycle the pump is slowed to 10 mmHg/s (cuff-inflate=10): 2.5 s of the inflation
# are above 15 mmHg, so the limit ends the cycle left alone 2.5 s before its deflation
# would be over, at about 27 mmHg.
cat >"$CUFF_SCENARIO" <<EOF
seed 13
minutes 1
site brachial-right 132 150
site pt-right       138 120
EOF
start_treadsim --modbus-rtu "$SIM_LINK" --button-box "$SIM_LINK2" --time-scale "$K" \
	--cuff-modbus-rtu "$CUFF_LINK" --cuff-scenario "$CUFF_SCENARIO" --cuff-inflate-mmhg-s 100 \
	--cuff-watchdog-ms 2000
cuff_conf "$WORK/d.conf" "$K" "[cuff]" "source = cuff-modbus" "device = $CUFF_LINK" "framing = 8N1" \
	"profile = $CUFF_PROFILE" "sites = brachial-right,pt-right" "ceiling_mmhg = 40" \
	"deflate_mmhg_s = 5" "max_above_venous_ms = 5000" "inflate_limit_ms = 5000" \
	"response_timeout_ms = 500"
start_daemon "$WORK/d.conf"
check "the cuff is connected and idle" wait_cuff '.connected and .state == "idle"' 10
id=$("$T" start --protocol gardner-skinner --patient VENT01 --operator bob)
check "the test runs" wait_for '"state":"running"' 20
check "no signal back in this test" simctl_ok cuff-doppler=0

# next N PATTERN: the count of PATTERN in treadsim's log, plus one.
next() { echo $(($(log_count "$1") + 1)); }
# series: a rest series, which inflates the first site.
series() { expect 200 '"phase": *"rest"' POST /v1/cuff/series "{\"test\": $id, \"phase\": \"rest\"}"; }
# vent_pressure LINE: the pressure of an "event cuff-vent" line.
vent_pressure() { sed -n 's/.*event cuff-vent [a-z-]* pressure=\([0-9.]*\).*/\1/p' <<<"$1"; }
above() { awk -v v="$1" -v t="$2" 'BEGIN { exit !(v != "" && v > t) }'; }
# down: treadsim's cuff idle at 0 mmHg, its next idle event seen.
down() {
	local n=$1
	wait_log_n 'event cuff-idle' "$n" 20 >/dev/null && test "$(sim_cuff mode)" = idle &&
		awk -v v="$(sim_cuff mmhg)" 'BEGIN { exit !(v <= 15) }'
}

# ---- an emergency stop during a deflation
idle=$(next 'event cuff-idle')
vent=$(next 'event cuff-vent command')
check "estop: a series inflates" series
check "estop: the cuff deflates" wait_log_n 'event cuff-deflate' "$(next 'event cuff-deflate')" 20
check "estop: the emergency stop is taken" expect 200 . POST /v1/estop '{}'
line=$(wait_log_n 'event cuff-vent command' "$vent" 5 || true)
check "estop: the daemon vents the cuff mid-deflation ($line)" above "$(vent_pressure "$line")" 15
check "estop: the cuff comes down" down "$idle"
check "estop: status says why" wait_cuff '.state == "idle" and (.message | test("vented: emergency stop"))' 10

# ---- the cycle's time limit (5 s above 15 mmHg), nobody pressing; a slow pump
idle=$(next 'event cuff-idle')
vent=$(next 'event cuff-vent command')
check "limit: treadsim's pump slowed to 10 mmHg/s" simctl_ok cuff-inflate=10
check "limit: a series inflates" series
line=$(wait_log_n 'event cuff-vent command' "$vent" 30 || true)
check "limit: the daemon vents before the deflation is over ($line)" above "$(vent_pressure "$line")" 20
check "limit: the cuff comes down" down "$idle"
check "limit: status names the limit" wait_cuff '.message | test("vented: the cuff was above 15 mmHg for more than 5 s")' 10
check "limit: the pump fast again" simctl_ok cuff-inflate=100
check "limit: not the cuff's own limit or watchdog" test "$(log_count 'event cuff-vent (watchdog|time-limit)')" = 0

# ---- the source unplugged during a deflation: the daemon cannot reach it, the cuff's
# own watchdog vents it (as a real inflator's would)
idle=$(next 'event cuff-idle')
check "unplug: a series inflates" series
check "unplug: the cuff deflates" wait_log_n 'event cuff-deflate' "$(next 'event cuff-deflate')" 20
check "unplug: the cuff's adapter is pulled out" simctl_ok unplug=cuff
line=$(wait_log_n 'event cuff-vent watchdog' 1 10 || true)
check "unplug: the cuff's watchdog vents it ($line)" above "$(vent_pressure "$line")" 15
check "unplug: the cuff comes down" down "$idle"
check "unplug: status: not connected, with the error" \
	wait_cuff '(.connected | not) and (.error | length > 0) and .mmhg == null' 10
say "     error: $(cuff_json .error)"
check "unplug: a series is refused while unplugged" \
	expect 409 'not connected' POST /v1/cuff/series "{\"test\": $id, \"phase\": \"rest\"}"
check "unplug: plugged back in" simctl_ok plug=cuff
check "unplug: the daemon opens it again by itself" wait_cuff '.connected and .error == ""' 15

# ---- SIGTERM while the cuff is inflated
idle=$(next 'event cuff-idle')
vent=$(next 'event cuff-vent command')
watchdog=$(log_count 'event cuff-vent watchdog')
check "sigterm: a series inflates" series
check "sigterm: the cuff is up and deflating" wait_log_n 'event cuff-deflate' "$(next 'event cuff-deflate')" 20
stop_daemon TERM
check "sigterm: the daemon exits 0" test "$DAEMON_STATUS" = 0
line=$(wait_log_n 'event cuff-vent command' "$vent" 5 || true)
check "sigterm: the daemon vented the cuff on its way out ($line)" above "$(vent_pressure "$line")" 15
check "sigterm: the cuff comes down" down "$idle"
check "sigterm: not by the cuff's watchdog" test "$(log_count 'event cuff-vent watchdog')" = "$watchdog"
start_daemon "$WORK/d.conf"
check "sigterm: restarted, the cuff is idle and down" wait_cuff '.connected and .state == "idle" and .mmhg <= 15' 10

# ---- kill -9 while the cuff is inflated: nobody can vent but the cuff itself
idle=$(next 'event cuff-idle')
watchdog=$(next 'event cuff-vent watchdog')
check "kill -9: a series inflates" series
check "kill -9: the cuff is up and deflating" wait_log_n 'event cuff-deflate' "$(next 'event cuff-deflate')" 20
vent=$(log_count 'event cuff-vent command')
stop_daemon KILL
line=$(wait_log_n 'event cuff-vent watchdog' "$watchdog" 5 || true)
check "kill -9: the cuff's watchdog vents it ($line)" above "$(vent_pressure "$line")" 15
check "kill -9: the cuff comes down" down "$idle"
check "kill -9: nothing vented by command" test "$(log_count 'event cuff-vent command')" = "$vent"
start_daemon "$WORK/d.conf"
check "kill -9: restarted, the cuff is idle and down" wait_cuff '.connected and .state == "idle" and .mmhg <= 15' 10
check "nothing was ever recorded" test "$("$T" show "$id" --json | jq '.pressures | length')" = 0
finish
