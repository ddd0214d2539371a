# A full Gardner-Skinner test through treadlabd over the Trackmaster protocol on a pty,
# paced at the protocol's 4800 baud, the patient pressing on a button box (second pty).
# The record is checked, and so is what the daemon put on the wire: A0 (never A1), no
# stop by the treadmill's disconnect watchdog (0.5 s without a command) while the belt
# ran, elevations in 0.5 %. The largest gap between commands is printed, not asserted
# (tests assert behaviour; hil/bench measures timing).
source "$(dirname "$0")/lib_hil.sh"

K=20
start_treadsim --trackmaster "$SIM_LINK" --button-box "$SIM_LINK2" --baud 4800 \
	--patient-onset 200 --patient-max 500 --time-scale "$K"
tm_conf "$WORK/d.conf" "$K"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient TM001)
check "start prints the test id" test "$id" = 1
full_gs_test "$id" sitting
# W: at 4800 baud (2.3 ms a character, 11 bits) a tick's poll C0 C1 C2 is 15 characters
# and a start A3 A0 C0 11 more: 60 ms.
check_gs_record "$K" 0.1 0.06 button-box

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
say "     largest gap between commands while the belt ran: $gap_ms ms (the device stops after 500)"
check "commands reached treadsim while the belt ran" awk -v g="$gap_ms" 'BEGIN { exit !(g > 0) }'
check "the disconnect watchdog never stopped the belt" bash -c "! grep -q 'belt-stop watchdog' '$SIM_LOG'"
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
