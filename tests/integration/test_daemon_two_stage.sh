# The two-stage test through the daemon: a max press in the level walk starts the seated
# rest at once; the incline walk follows the rest; walking time counts both walks.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[treadmill]" "max_grade_pct = 30" "[limits]" "max_grade_pct = 30" \
	"[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 100" "patient_onset_s = 30" "patient_max_s = 60"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol two-stage --patient STEN01)
if ! wait_for '"state":"recovery"' 60; then
	# At 100 times real time a loaded machine's late tick is seconds of test time: say
	# what the daemon did instead, so that a failure here can be read.
	say "FAIL - the walk did not reach recovery; status and the daemon's log:"
	"$T" status --json || true
	cat "$WORK/daemon.log" || true
	exit 1
fi
say "ok   - the walk ends at the protocol's end"
"$T" relief --posture sitting >/dev/null
"$T" finish >/dev/null
rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
# One tick is 10 ms real = 1 s of test time at 100x.
check "the rest began at the max press ($(j '[.events[] | select(.kind=="stage")][1].t_s'))" \
	near "$(j '[.events[] | select(.kind=="stage")][1].t_s')" 60 1.5
check "the incline walk began 600 s later" \
	near "$(j '[.events[] | select(.kind=="stage")][2].t_s')" 660 1.5
check "the incline stage is 26.8 %" grep -q '26.8 %' <<<"$(j '[.events[] | select(.kind=="stage")][2].detail')"
check "end reason protocol_end" test "$(j .end_reason)" = protocol_end
check "walking time is both walks ($(j .walking_time_s))" near "$(j .walking_time_s)" 660 2
check "COT is the level walk's onset" near "$(j .cot_s)" 30 1.5
check "a classification was computed" test "$(j '.classification.category | type')" = string
finish
