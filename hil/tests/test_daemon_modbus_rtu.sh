# A full Gardner-Skinner test through treadlabd over Modbus RTU on a pty: treadsim is the
# treadmill (K times faster), its virtual patient presses onset at 200 s and max at 500 s
# of belt time through the Modbus button register, and the record is checked.
source "$(dirname "$0")/lib_hil.sh"

K=20 # 500 s of protocol in 25 s
start_treadsim --modbus-rtu "$SIM_LINK" --patient-onset 200 --patient-max 500 --time-scale "$K"
# The daemon's default 10 Hz tick: what a site runs.
rtu_conf "$WORK/d.conf" "$K"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient RTU001 --operator bob)
check "start prints the test id" test "$id" = 1
check "the walk ends by the patient's max press" wait_for '"state":"recovery"' 60
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null
rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
check "state complete" test "$(j .state)" = complete
check "end reason max_claudication" test "$(j .end_reason)" = max_claudication

# Tolerance of COT and PWT. Test time 0 is the start command. The belt starts at the
# next tick (up to one period P later), after that tick's poll: W, the wire time of a
# tick's transactions. treadsim's patient counts from the belt's start; the press then
# waits for the next poll of the button register, at most P + W later; the daemon dates
# it at that poll, never earlier. So an endpoint lies in [T, T + K (2 P + 2 W)] in test
# time, plus scheduling slack (25 ms real). P = 100 ms (the default 10 Hz tick), W = 10 ms
# on an unpaced pty, K = 20: [T - 0.1, T + 4.9]; below T only by the 0.1 s rounding.
P=0.1 W=0.01
lo_hi() { awk -v t="$1" -v k="$K" -v p="$P" -v w="$W" 'BEGIN { printf "%s %s", t - 0.1, t + k * (2 * p + 2 * w + 0.025) }'; }
between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
read -r lo hi <<<"$(lo_hi 200)"
check "COT in [$lo, $hi] s ($(j .cot_s))" between "$(j .cot_s)" "$lo" "$hi"
read -r lo hi <<<"$(lo_hi 500)"
check "PWT in [$lo, $hi] s ($(j .pwt_s))" between "$(j .pwt_s)" "$lo" "$hi"

# ICD/ACD: 2.0 mph = 0.89408 m/s over the walk, integrated from the measured speed. Less
# than that by at most the belt's late start (2 P K = 4 s at most) and its ramp (3.2 s to
# full speed); the speed is sampled once a tick (2 s of test time), so one sample of
# rectangle error either way (1.8 m).
dist_ok() {
	awk -v d="$1" -v t="$2" -v k="$K" 'BEGIN { v = 0.89408; slack = v * k * 0.1;
		exit !(d >= v * (t - 2 * k * 0.1 - 3.2) - slack && d <= v * t + slack) }'
}
check "ICD consistent with 2.0 mph ($(j .icd_m) m at $(j .cot_s) s)" dist_ok "$(j .icd_m)" "$(j .cot_s)"
check "ACD consistent with 2.0 mph ($(j .acd_m) m at $(j .pwt_s) s)" dist_ok "$(j .acd_m)" "$(j .pwt_s)"
check "onset pressed through the Modbus button register" \
	test "$(j '[.events[] | select(.kind=="onset")][0].source')" = button-modbus
check "max pressed through the Modbus button register" \
	test "$(j '[.events[] | select(.kind=="max")][0].source')" = button-modbus
check "one onset and one max event" \
	test "$(j '[.events[] | select(.kind=="onset" or .kind=="max")] | length')" = 2
check "stage events at the protocol's 120 s boundaries" \
	test "$(j '[.events[] | select(.kind=="stage") | .t_s] | map(tostring) | join(",")')" = "0,120,240,360,480"
check "events in order: start ... complete" test "$(j '[.events[] | .kind] | (first + ":" + last)')" = "start:complete"
check "no fault or device stop recorded" \
	test "$(j '[.events[] | select(.kind=="fault" or .kind=="device_stop")] | length')" = 0
check "operator recorded" test "$(j .operator)" = bob
check "samples were recorded" \
	test "$(sqlite3 "$WORK/treadlab.db" "select count(*) > 100 from samples where test_id = $id")" = 1

# What crossed the wire: the driver's frames, as treadsim logged them.
check "the belt was started exactly once" test "$(grep -c "$RTU_START_FRAME" "$SIM_LOG")" = 1
check "2.0 mph written as the speed setpoint (holding 0x0000 = 322, 0.01 km/h)" \
	grep -q 'rx modbus-rtu 01 06 00 00 01 42 ' "$SIM_LOG"
check "a plain stop (command = 0) after the max press, no emergency stop" bash -c \
	"grep -q '$(printf 'rx modbus-rtu 01 06 00 02 00 00 ')' '$SIM_LOG' && ! grep -q 'rx modbus-rtu 01 06 00 02 00 02 ' '$SIM_LOG'"
check "the grade reached 8 % (stage 5) on the wire (holding 0x0001 = 80)" \
	grep -q 'rx modbus-rtu 01 06 00 01 00 50 ' "$SIM_LOG"
check "the shipped config/treadlabd-treadsim-rtu.conf is valid" \
	"$D" --config "$TL_SOURCE_DIR/config/treadlabd-treadsim-rtu.conf" --check-config
check "treadsim's belt stopped at the end" test "$(sim_state running)" = 0
check "no CRC errors on the link" bash -c "! grep -q 'rx-bad-crc\|rx-partial' '$SIM_LOG'"
finish
