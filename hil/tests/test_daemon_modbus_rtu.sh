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
full_gs_test "$id" standing
# W: the wire time of a tick's transactions on an unpaced pty, 10 ms.
check_gs_record "$K" 0.1 0.01 button-modbus
check "operator recorded" test "$(jq -r .operator <<<"$REC")" = bob
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
