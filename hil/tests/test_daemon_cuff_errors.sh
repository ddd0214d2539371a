# A gauge's troubles through treadlabd (issue 15): bad lines, a stuck pressure and the
# gauge unplugged, each during a deflation of the technician's hand cycle, with the foot
# switch pressed at the signal back as usual. Each is a clear error in GET /v1/cuff and
# never a recorded value.
source "$(dirname "$0")/lib_hil.sh"
source "$(dirname "$0")/lib_cuff.sh"

K=10
# The series' first site, pt-right (an ankle of a patient with arterial disease), 8 mmHg
# under the hand cycle's 78 mmHg (16 under 86 for the stuck pressure): the signal back
# comes 1.6 s (3.2 s) into each deflation, after the fault below has had its time to show
# (bad lines at once, a stuck pressure 1 s after the daemon saw the pressure fall), and
# the vent after it is short.
cat >"$CUFF_SCENARIO" <<EOF
seed 14
reaction_ms 250
jitter_ms 40
minutes 1
site pt-right       70  60
site brachial-right 120 130
EOF
start_treadsim --modbus-rtu "$SIM_LINK" --button-box "$SIM_LINK2" --time-scale "$K" \
	--cuff-text "$CUFF_LINK" --cuff-text-period-ms 50 --cuff-scenario "$CUFF_SCENARIO" \
	--cuff-inflate-mmhg-s 300
cuff_conf "$WORK/d.conf" "$K" "[cuff]" "source = cuff-text" "device = $CUFF_LINK" "baud = 9600" \
	"pattern = {site} {mmhg} mmHg" "stuck_ms = 1000" "sites = pt-right,brachial-right"
start_daemon "$WORK/d.conf"
check "the gauge is connected" wait_cuff '.connected and .error == ""' 10
id=$("$T" start --protocol gardner-skinner --patient ERR01 --operator bob)
check "the technician deflates at 5 mmHg/s" simctl_ok cuff-rate=5

next() { echo $(($(log_count "$1") + 1)); }
# cycle [CEILING]: a rest series at pt-right (true 70), the technician's hand cycle to
# CEILING (78); returns once the deflation began.
cycle() {
	expect 200 '"site": *"pt-right"' POST /v1/cuff/series "{\"test\": $id, \"phase\": \"rest\"}" &&
		simctl_ok "cuff-cycle=${1:-78}" &&
		wait_log_n 'event cuff-deflate manual' "$(next 'event cuff-deflate manual')" 20 >/dev/null
}
# pressed_and_refused WHAT: the foot switch came, the cuff is back down, the daemon said
# the press was not recorded, and the test has no pressure.
pressed_and_refused() {
	local what=$1
	check "$what: the technician pressed at the signal back" \
		wait_log_n 'event cuff-footswitch site=pt-right' "$press" 20
	check "$what: the press is not recorded, and status says so" \
		wait_cuff '.message | test("foot switch.*(not recorded|ignored)")' 10
	say "     message: $(cuff_json .message)"
	check "$what: no reading in the record" test "$("$T" show "$id" --json | jq '.pressures | length')" = 0
	check "$what: the cuff came down" wait_log_n 'event cuff-idle' "$idle" 20
}

# ---- bad lines during the deflation, the press among them
press=$(next 'event cuff-footswitch')
idle=$(next 'event cuff-idle')
check "garble: a cycle deflates" cycle
check "garble: the gauge prints bad lines" simctl_ok cuff-garble=400
check "garble: status names the bad line" wait_cuff '.error | test("bad line [0-9]+ .*column")' 5
say "     error: $(cuff_json .error)"
pressed_and_refused garble
check "garble: good lines again" simctl_ok cuff-garble=0
check "garble: the error clears with a good reading" wait_cuff '.error == "" and .mmhg != null' 10

# ---- a stuck pressure
press=$(next 'event cuff-footswitch')
idle=$(next 'event cuff-idle')
check "stuck: a cycle deflates" cycle 86
# (the gauge's own check wants a falling pressure first: frozen at the ceiling it never fell)
check "stuck: the daemon reads the pressure falling" wait_cuff '.mmhg != null and .mmhg < 85' 10
check "stuck: the printed pressure freezes" simctl_ok cuff-stuck=1
check "stuck: status says the pressure is stuck" wait_cuff '.error | test("stuck")' 10
say "     error: $(cuff_json .error)"
pressed_and_refused stuck
check "stuck: the gauge reads again" simctl_ok cuff-stuck=0
check "stuck: connected, no error" wait_cuff '.connected and .error == ""' 15

# ---- the gauge unplugged
press=$(next 'event cuff-footswitch')
idle=$(next 'event cuff-idle')
check "unplug: a cycle deflates" cycle
check "unplug: the gauge's adapter is pulled out" simctl_ok unplug=cuff
check "unplug: status: not connected, and why" wait_cuff '(.connected | not) and (.error | length > 0)' 10
say "     error: $(cuff_json .error)"
pressed_and_refused unplug
check "unplug: plugged back in" simctl_ok plug=cuff
check "unplug: the daemon opens it again" wait_cuff '.connected and .error == ""' 15
check "three presses, nothing recorded" test "$(log_count 'event cuff-footswitch site=')" = 3
finish
