# A full Gardner-Skinner test through treadlabd over the Trackmaster protocol on a pty,
# paced at the protocol's 4800 baud, the patient pressing on a button box (second pty).
# The record is checked, and so is what the daemon put on the wire: A0 (never A1), a
# command at least every 250 ms of real time while the belt ran, elevations in 0.5 %.
source "$(dirname "$0")/lib_hil.sh"

K=20
start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 \
	--patient-onset 200 --patient-max 500 --time-scale "$K"
tm_conf "$WORK/d.conf" "$K"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient TM001)
check "start prints the test id" test "$id" = 1
check "the walk ends by the patient's max press" wait_for '"state":"recovery"' 60
"$T" relief --posture sitting >/dev/null
"$T" finish >/dev/null
rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
check "state complete" test "$(j .state)" = complete
check "end reason max_claudication" test "$(j .end_reason)" = max_claudication
# As over Modbus (test_daemon_modbus_rtu.sh): an endpoint is in [T, T + K (2 P + 2 W)]
# plus 25 ms of real slack, P the tick period and W the wire time of a tick's commands
# before the start and the box are served. At 4800 baud (2.3 ms a character, 11 bits)
# a tick's poll C0 C1 C2 is 15 characters and a start A3 A0 C0 11 more: W = 60 ms. At
# P = 100 ms and K = 20: [T - 0.1, T + 6.9].
P=0.1 W=0.06
lo_hi() { awk -v t="$1" -v k="$K" -v p="$P" -v w="$W" 'BEGIN { printf "%s %s", t - 0.1, t + k * (2 * p + 2 * w + 0.025) }'; }
between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
read -r lo hi <<<"$(lo_hi 200)"
check "COT in [$lo, $hi] s ($(j .cot_s))" between "$(j .cot_s)" "$lo" "$hi"
read -r lo hi <<<"$(lo_hi 500)"
check "PWT in [$lo, $hi] s ($(j .pwt_s))" between "$(j .pwt_s)" "$lo" "$hi"
# Trackmaster speeds are tenths of mph: 2.0 mph exactly. Distance as over Modbus.
dist_ok() {
	awk -v d="$1" -v t="$2" -v k="$K" 'BEGIN { v = 0.89408; slack = v * k * 0.1;
		exit !(d >= v * (t - 2 * k * 0.1 - 3.2) - slack && d <= v * t + slack) }'
}
check "ICD consistent with 2.0 mph ($(j .icd_m) m at $(j .cot_s) s)" dist_ok "$(j .icd_m)" "$(j .cot_s)"
check "ACD consistent with 2.0 mph ($(j .acd_m) m at $(j .pwt_s) s)" dist_ok "$(j .acd_m)" "$(j .pwt_s)"
check "onset pressed on the button box" \
	test "$(j '[.events[] | select(.kind=="onset")][0].source')" = button-box
check "max pressed on the button box" \
	test "$(j '[.events[] | select(.kind=="max")][0].source')" = button-box
check "stage events at the protocol's 120 s boundaries" \
	test "$(j '[.events[] | select(.kind=="stage") | .t_s] | map(tostring) | join(",")')" = "0,120,240,360,480"
check "events in order: start ... complete" test "$(j '[.events[] | .kind] | (first + ":" + last)')" = "start:complete"
check "no fault or device stop recorded" \
	test "$(j '[.events[] | select(.kind=="fault" or .kind=="device_stop")] | length')" = 0

# The wire, from treadsim's frame log.
check "the belt was started with A0 (disconnect stop armed)" test "$(grep -c 'rx trackmaster A0$' "$SIM_LOG")" = 1
check "A1 (disconnect stop disabled) was never sent" test "$(grep -c 'rx trackmaster A1$' "$SIM_LOG")" = 0
check "2.0 mph sent as A3 0020" grep -q 'rx trackmaster A3 30 30 32 30$' "$SIM_LOG"
check "the belt was stopped with A2" grep -q 'rx trackmaster A2$' "$SIM_LOG"
# Largest gap between two commands received while the belt ran (belt-start .. belt-stop).
gap_ms=$(awk '/event belt-start/ { on = 1; last = $1; next }
	/event belt-stop/ { if (on && ($1 - last) * 1000 > max) max = ($1 - last) * 1000; on = 0 }
	on && $2 == "rx" { if (($1 - last) * 1000 > max) max = ($1 - last) * 1000; last = $1 }
	END { printf "%.1f", max }' "$SIM_LOG")
check "a command at least every 250 ms while the belt ran (largest gap $gap_ms ms)" \
	awk -v g="$gap_ms" 'BEGIN { exit !(g > 0 && g <= 250) }'
n_a4=$(grep -c 'rx trackmaster A4 ' "$SIM_LOG")
check "elevation commands were sent ($n_a4)" test "$n_a4" -gt 4
check "every elevation command is in 0.5 % steps (last digit 0 or 5)" \
	test "$(grep 'rx trackmaster A4 ' "$SIM_LOG" | awk '$NF != "30" && $NF != "35"' | wc -l)" = 0
check "the elevation reached 8.0 % (A4 0080)" grep -q 'rx trackmaster A4 30 30 38 30$' "$SIM_LOG"
check "no refused or unknown command (BE/BF)" bash -c "! grep -Eq 'tx trackmaster B[EF]' '$SIM_LOG'"
check "the shipped config/treadlabd-treadsim-trackmaster.conf is valid" \
	"$D" --config "$TL_SOURCE_DIR/config/treadlabd-treadsim-trackmaster.conf" --check-config
check "treadsim's belt stopped at the end" test "$(sim_state running)" = 0
finish
