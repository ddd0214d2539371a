# treadlabd under valgrind through a short test: start, presses, pressures, findings,
# relief, finish, show, the live stream, an emergency stop, then SIGTERM. Any memory
# error or definite leak makes valgrind exit 99.
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { say "valgrind is not installed"; exit 77; }
# valgrind cannot run an ASan binary; the sanitizer build checks the same paths itself.
[ "${TL_SANITIZED:-0}" = 0 ] || { say "sanitizer build: valgrind does not apply"; exit 77; }

export TL_DAEMON_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --log-file=$WORK/valgrind.log"
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 10" \
	"[sim]" "time_scale = 20" "patient_onset_s = 20" "patient_max_s = 60"
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient VG01)
"$T" pressure "$id" --phase rest --site pt-left --mmhg 120 >/dev/null
check "the walk ends by the patient's max press" wait_for '"state":"recovery"' 120
printf '{"side": "left", "relief": "standing"}' >"$WORK/sym.json"
"$T" findings "$id" --file "$WORK/sym.json" >/dev/null
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null
check "the record is complete" test "$("$T" show "$id" --json | jq -r .state)" = complete
check "a bad request is refused" bash -c "! '$T' onset 2>/dev/null"
"$T" start --protocol bruce --patient VG01 >/dev/null
"$T" estop >/dev/null
check "emergency stop" test "$("$T" status --json | jq -r .state)" = emergency_stopped
stop_daemon TERM
check "valgrind found no errors or leaks (exit $DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
[ "$DAEMON_STATUS" = 0 ] || cat "$WORK/valgrind.log"
finish
