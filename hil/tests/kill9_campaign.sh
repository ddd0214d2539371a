# kill -9 anywhere: whole Gardner-Skinner tests through treadlabd over Modbus RTU on
# treadsim, each killed (SIGKILL, by pid) at a random point, then the daemon restarted.
# Each point checks:
#   - a belt running at the kill is stopped by the device's own watchdog within its
#     setting (treadsim's log: from the last request it heard to the stop);
#   - PRAGMA integrity_check is ok on the database the daemon left;
#   - after the restart, the killed test is `interrupted` (or `complete`, when its finish
#     was committed before the kill) and every event the API had acknowledged is in the
#     record (start, the rest and post pressures, onset, max, relief, finish).
# Prints the counts: points survived out of N, acknowledged events lost.
#
# Usage (ctest runs the short form, hil.kill9_campaign):
#   kill9_campaign.sh [--points N] [--seed S] [--frames F]
# A kill point is a number of requests treadsim received (its frame log's rx lines) since
# it started, drawn uniformly from 1..F, where F is what one whole test takes: measured
# first by a calibration run that is not killed, unless --frames gives it. The seed and F
# are printed; `--seed S --frames F` replays the same points. The watchdog stop may come
# up to TL_KILL9_MARGIN_MS (default 50, as in test_daemon_watchdog.sh) after the setting;
# a stop later than that prints treadsim's last lines and the host's load: treadsim is a
# process like the others, and on a host far beyond its cores it runs late.
source "$(dirname "$0")/lib_hil.sh"

POINTS=5
SEED=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
FRAMES=""
while [ $# -gt 0 ]; do
	case $1 in
	--points) POINTS=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--frames) FRAMES=$2; shift 2 ;;
	*) say "usage: kill9_campaign.sh [--points N] [--seed S] [--frames F]"; exit 2 ;;
	esac
done
RANDOM=$SEED

K=40          # the protocol 40 times faster: a whole test in about 15 s
WD=1000       # treadsim's communication watchdog, ms (the driver's default bound)
MARGIN_MS=${TL_KILL9_MARGIN_MS:-50}  # treadsim checks its watchdog every 5 ms; the rest is scheduling slack
DB="$WORK/treadlab.db"
ACKS="$WORK/acks"
rtu_conf "$WORK/d.conf" "$K"

# workload PATIENT: one whole test through the API, as a technician runs it; every
# command the daemon acknowledged is appended to $ACKS. Ends at the first failure (the
# daemon killed under it).
workload() {
	local id
	id=$("$T" start --protocol gardner-skinner --patient "$1") || return 0
	echo "start $id" >>"$ACKS"
	"$T" pressure "$id" --phase rest --site brachial-left --mmhg 130 >/dev/null || return 0
	echo "pressure" >>"$ACKS"
	"$T" pressure "$id" --phase rest --site pt-left --mmhg 110 >/dev/null || return 0
	echo "pressure" >>"$ACKS"
	wait_for '"kind":"stage","source":"protocol","detail":"stage 2' 30 || return 0
	"$T" onset >/dev/null || return 0
	echo "onset" >>"$ACKS"
	wait_for '"kind":"stage","source":"protocol","detail":"stage 4' 30 || return 0
	"$T" max >/dev/null || return 0
	echo "max" >>"$ACKS"
	# Recovery: the belt stopped; the minute-1 pressure reminder comes 1.5 s later.
	wait_for '"kind":"reminder"' 30 || return 0
	"$T" relief --posture standing >/dev/null || return 0
	echo "relief" >>"$ACKS"
	"$T" pressure "$id" --phase post --minute 1 --site pt-left --mmhg 80 >/dev/null || return 0
	echo "pressure" >>"$ACKS"
	"$T" finish >/dev/null || return 0
	echo "finish" >>"$ACKS"
}

rx_frames() { grep -c '^[0-9.]* rx' "$SIM_LOG" || true; }

# Calibration: one whole test, not killed; F is the requests it took.
if [ -z "$FRAMES" ]; then
	start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K" --watchdog-ms "$WD"
	start_daemon "$WORK/d.conf"
	: >"$ACKS"
	workload K9-CAL
	check "calibration: the whole test is acknowledged" test "$(tail -n1 "$ACKS")" = finish
	FRAMES=$(rx_frames)
	stop_daemon
	stop_treadsim
fi
say "kill -9 campaign: $POINTS points, seed $SEED, frames $FRAMES (replay: --seed $SEED --frames $FRAMES)"

survived=0
lost_total=0
acked_total=0
for point in $(seq 1 "$POINTS"); do
	fails_before=$FAILS
	at=$((1 + (RANDOM * 32768 + RANDOM) % FRAMES))
	label="point $point/$POINTS (request $at)"
	prev_max=0
	[ -f "$DB" ] && prev_max=$(sqlite3 "$DB" 'select coalesce(max(id), 0) from tests')
	start_treadsim --modbus-rtu "$SIM_LINK" --time-scale "$K" --watchdog-ms "$WD"
	start_daemon "$WORK/d.conf"
	: >"$ACKS"
	workload "K9-$point" 2>>"$WORK/workload.err" &
	wl=$!
	# The kill point: the daemon's requests on the wire, counted from treadsim's start.
	if ! wait_frames_after '^# treadsim' "$at" 60; then
		check "$label: the daemon made $at requests" false
	fi
	stop_daemon KILL
	running=$(sim_state running)
	wait "$wl" || true

	# The belt: a running one stops by the device's watchdog, within its setting.
	if [ "$running" = 1 ]; then
		line=$(wait_log 'event belt-stop' $((WD / 1000 + 5))) || line="none"
		by_sim=$(awk '{ split($NF, a, "="); printf "%.1f", ($1 - a[2]) * 1000 }' <<<"$line")
		f0=$FAILS
		check "$label: the belt was stopped by treadsim's watchdog $by_sim ms after the last request (setting $WD ms, +$MARGIN_MS)" \
			bash -c "grep -q 'belt-stop watchdog' <<<'$line' && awk -v d='$by_sim' -v w=$WD -v m=$MARGIN_MS 'BEGIN { exit !(d >= w && d <= w + m) }'"
		if [ "$FAILS" -ne "$f0" ]; then
			say "  treadsim's log to the stop, and the load: $(cat /proc/loadavg)"
			grep -E ' rx |event' "$SIM_LOG" | tail -n 4 | sed 's/^/  /'
		fi
	else
		check "$label: the belt was not running at the kill, and is not" test "$(sim_state running)" = 0
	fi
	check "$label: integrity_check ok" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok

	# The restart: the killed test closed, every acknowledged event kept.
	start_daemon "$WORK/d.conf"
	ids=$(sqlite3 "$DB" "select id from tests where id > $prev_max order by id")
	acked_id=$(sed -n 's/^start //p' "$ACKS")
	n_acked=$(wc -l <"$ACKS")
	acked_total=$((acked_total + n_acked))
	lost=0
	if [ -n "$acked_id" ] && ! grep -qx "$acked_id" <<<"$ids"; then
		lost=$n_acked
	fi
	for id in $ids; do
		rec=$("$T" show "$id" --json)
		state=$(jq -r .state <<<"$rec")
		if [ "$state" = complete ]; then
			check "$label: test $id complete only with its finish recorded" \
				test "$(jq '[.events[] | select(.kind=="complete")] | length' <<<"$rec")" -ge 1
		else
			check "$label: test $id is interrupted ($state)" test "$state" = interrupted
			check "$label: test $id: no finish was acknowledged" bash -c "! grep -qx finish '$ACKS'"
		fi
		[ "$id" = "$acked_id" ] || continue
		for kind in onset max relief; do
			if grep -qx "$kind" "$ACKS" &&
				[ "$(jq "[.events[] | select(.kind==\"$kind\")] | length" <<<"$rec")" -lt 1 ]; then
				lost=$((lost + 1))
			fi
		done
		want=$(grep -cx pressure "$ACKS" || true)
		have=$(jq '.pressures | length' <<<"$rec")
		[ "$have" -ge "$want" ] || lost=$((lost + want - have))
	done
	check "$label: the $n_acked acknowledged events are in the record ($lost lost; acks: $(tr '\n' ' ' <"$ACKS"))" \
		test "$lost" = 0
	check "$label: the daemon is idle after the restart" test "$("$T" status --json | jq -r .state)" = idle
	lost_total=$((lost_total + lost))
	stop_daemon
	stop_treadsim
	[ "$FAILS" -eq "$fails_before" ] && survived=$((survived + 1))
done

say "kill -9 campaign: $survived of $POINTS points survived; $lost_total of $acked_total acknowledged events lost; seed $SEED, frames $FRAMES"
finish
