# Pressures read from the cuff (issue 15): treadlabd with treadsim's cuff inflator over
# Modbus TCP and its button box. A resting series is taken through the cuff without
# typing a number: the test moves the simulated probe (treadsim's control socket) as the
# technician moves the cuff and the probe, and asks for each inflation; the simulated
# Doppler presses the foot switch by itself when the signal comes back. Every site is
# recorded with its source, the gap between the samples around the press and the
# deflation rate, within the known error of the scenario's true pressure; the ABI is
# computed from them; a correction typed afterwards is kept beside the reading. Then a
# post-exercise reading, a vent, and the errors: a series on a test that does not exist,
# a post series without its minute, a mark with no series, a site not in [cuff] sites,
# and a daemon with no cuff. No timing is asserted.
source "$(dirname "$0")/lib.sh"
need_treadsim
source "$TL_SOURCE_DIR/hil/tests/lib_hil.sh"
command -v socat >/dev/null || { say "SKIP: socat missing"; exit 77; }

# The virtual patient: the true pressure of each site at rest and after exercise, and the
# simulated technician's reaction to the Doppler signal (hil/README.md, The cuff). The
# pressures the series reads lie 12 to 20 mmHg under the ceiling (CEILING below), so each
# deflation is short; pt-right at minute 1 lies far under it, so that the cuff inflated
# there is still deflating, unmarked, when the test vents it.
REACTION_MS=250 JITTER_MS=40
cat >"$WORK/scenario.txt" <<EOF
seed 15
reaction_ms $REACTION_MS
jitter_ms $JITTER_MS
minutes 1 3
site brachial-right 126 128 127
site pt-right       128  84  96
site brachial-left  124 126 125
site pt-left        120 110 114
EOF
truth() { # truth SITE COLUMN (2: rest, 3: minute 1)
	awk -v s="$1" -v c="$2" '$1 == "site" && $2 == s { print $(c + 1) }' "$WORK/scenario.txt"
}
SITES="brachial-right pt-right brachial-left pt-left"
RATE=5 # mmHg/s: the fastest deflation allowed, to keep the test short
CEILING=140 # 12 above the highest pressure read: 2.4 s of deflation before its crossing
# A reading lies after the true crossing by the technician's reaction (+- jitter) at the
# deflation rate, plus 2 mmHg for the host's share (reading the press, the samples).
TOL=$(awk -v r=$RATE -v a=$REACTION_MS -v j=$JITTER_MS 'BEGIN { print r * (a + j) / 1000 + 2 }')

# a pump that fills the cuff in half a second: the inflation's speed does not change a
# reading, the deflation's does
start_treadsim --cuff-modbus-tcp 127.0.0.1:0 --cuff-tcp-port-file "$WORK/cuff.port" \
	--button-box "$SIM_LINK2" --cuff-scenario "$WORK/scenario.txt" --cuff-inflate-mmhg-s 300
port=$(cat "$WORK/cuff.port")
write_config "$WORK/d.conf" "[treadmill]" "driver = sim" \
	"[buttons]" "box_device = $SIM_LINK2" \
	"[cuff]" "source = cuff-modbus" "tcp = 127.0.0.1:$port" \
	"profile = $TL_SOURCE_DIR/config/devices/sim-cuff.profile" "response_timeout_ms = 500" \
	"sites = $(tr ' ' ',' <<<"$SITES")" "ceiling_mmhg = $CEILING" "deflate_mmhg_s = $RATE"
start_daemon "$WORK/d.conf"

check "GET /v1/cuff: the configured source" expect 200 '"source": *"cuff-modbus"' GET /v1/cuff
check "the cuff is connected and can inflate" wait_cuff '.connected and .can_inflate' 30
check "the status carries the cuff" test "$("$T" status --json | jq -r .cuff.source)" = cuff-modbus
check "no series at first" test "$("$T" cuff --json | jq -r .series)" = null

# Errors before any test.
check "a series on a test that does not exist: 404" \
	expect 404 'no test 99' POST /v1/cuff/series '{"test": 99, "phase": "rest"}'
check "treadlab cuff mark with no series: 409" \
	expect 409 '.' POST /v1/cuff/mark '{}'
out=$("$T" cuff mark 2>&1) && rc=0 || rc=$?
check "treadlab cuff mark with no series: exit 1 and the daemon's reason ($out)" \
	bash -c "[ $rc = 1 ] && grep -q '^treadlab: .*(HTTP 409)$' <<<'$out'"

id=$("$T" start --protocol gardner-skinner --patient CUFF01 --operator alice)
check "the test starts ($id)" test "$id" = 1
check "a post series without its minute: 400 naming it" \
	expect 400 'minute' POST /v1/cuff/series "{\"test\": $id, \"phase\": \"post\"}"
check "a series with a phase that is neither: 400" \
	expect 400 'phase' POST /v1/cuff/series "{\"test\": $id, \"phase\": \"later\"}"

# The resting series: the probe on each site before its inflation, as the technician
# moves it; the first inflation is the series' start, the others asked for.
n=0
for site in $SITES; do
	check "treadsim's probe on $site, at rest" bash -c "$(declare -f simctl); SIM_CTL='$SIM_CTL'; simctl 'cuff-site=$site' | grep -q '^ok'"
	[ $n = 0 ] && simctl cuff-phase=rest >/dev/null
	if [ $n = 0 ]; then
		check "treadlab cuff series $id rest --operator alice: inflates at $site" \
			bash -c "'$T' cuff series $id rest --operator alice --json | jq -e '.series.site == \"$site\"' >/dev/null"
		check "a site not in [cuff] sites: 400" \
			expect 400 'site' POST /v1/cuff/site '{"site": "dp-left"}'
	else
		check "the series moved on to $site" wait_cuff ".series.site == \"$site\" and .state == \"idle\""
		if [ "$site" = pt-left ]; then
			# the last site through the watch: it prints the reading and ends with the series
			timeout 120 "$T" cuff watch >"$WORK/watch.out" 2>&1 &
			WATCH=$!
		fi
		check "treadlab cuff inflate at $site" bash -c "'$T' cuff inflate >/dev/null"
	fi
	n=$((n + 1))
	check "$site recorded by the foot switch" wait_cuff "(.last.recorded // 0) == $n and .last.site == \"$site\"" 120
done
wrc=0
wait "$WATCH" || wrc=$?
check "treadlab cuff watch ended with the series (exit $wrc)" test "$wrc" = 0
check "... having printed the reading as the technician reads it" \
	grep -Eq '^pt-left [0-9.]+ mmHg \(cuff-modbus, samples [0-9]+ ms apart, deflating [0-9.]+ mmHg/s\)$' "$WORK/watch.out"
check "... and the series complete" grep -q '^series complete: brachial-right, pt-right, brachial-left, pt-left$' "$WORK/watch.out"
sed 's/^/     watch: /' "$WORK/watch.out"
check "the series ended by itself once every site was done" \
	test "$("$T" cuff --json | jq -r .series)" = null

rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
jqe() { jq -e "$1" >/dev/null <<<"$2"; } # jqe TEST JSON: the jq test holds
check "four readings from the cuff, none typed" \
	test "$(j '[.pressures[] | select(.source == "cuff-modbus")] | length'),$(j '[.pressures[] | select(.source == "manual")] | length')" = 4,0
for site in $SITES; do
	p=$(j ".pressures[] | select(.site == \"$site\" and .phase == \"rest\")")
	v=$(jq -r .mmhg <<<"$p")
	check "$site: $v mmHg within $TOL of the true $(truth "$site" 2)" near "$v" "$(truth "$site" 2)" "$TOL"
	check "$site: the gap between the samples around the press ($(jq -r .interval_ms <<<"$p") ms)" \
		jqe '.interval_ms > 0 and .interval_ms <= 500' "$p"
	check "$site: the deflation rate there ($(jq -r .deflation_mmhg_s <<<"$p") mmHg/s, set $RATE)" \
		jqe ".deflation_mmhg_s > $RATE * 0.8 and .deflation_mmhg_s < $RATE * 1.2" "$p"
	check "$site: the series' operator ($(jq -r .operator <<<"$p"))" jqe '.operator == "alice"' "$p"
done
ps() { j ".pressures[] | select(.site == \"$1\" and .phase == \"rest\") | .mmhg"; }
abi() { # abi ANKLE BRACHIAL-RIGHT BRACHIAL-LEFT: rounded half away from zero, 2 places
	awk -v a="$1" -v r="$2" -v l="$3" 'BEGIN { b = r > l ? r : l; printf "%.2f", int(a / b * 100 + 0.5) / 100 }'
}
br=$(ps brachial-right) bl=$(ps brachial-left)
want_r=$(abi "$(ps pt-right)" "$br" "$bl") want_l=$(abi "$(ps pt-left)" "$br" "$bl")
check "the right ABI from the cuff's readings ($(j .abi.abi.right.rest), want $want_r)" \
	near "$(j .abi.abi.right.rest)" "$want_r" 0.011
check "the left ABI from the cuff's readings ($(j .abi.abi.left.rest), want $want_l)" \
	near "$(j .abi.abi.left.rest)" "$want_l" 0.011
"$T" cuff | sed 's/^/     /'
check "treadlab cuff: the last reading in words" bash -c \
	"'$T' cuff | grep -Eq '^last +test $id, rest: pt-left [0-9.]+ mmHg \\(cuff-modbus, samples [0-9]+ ms apart, deflating [0-9.]+ mmHg/s\\); 4 recorded$'"

# A correction: the value typed again. Both are kept, the last counts, the history has each.
cuffed=$(ps pt-right)
"$T" pressure "$id" --phase rest --site pt-right --mmhg 140 --operator alice >/dev/null
rec=$("$T" show "$id" --json)
check "the correction is kept beside the reading (cuff-modbus $cuffed, then manual 140)" \
	test "$(j '[.pressures[] | select(.site == "pt-right" and .phase == "rest") | "\(.source) \(.mmhg)"] | join(",")')" = "cuff-modbus $cuffed,manual 140"
check "the typed value has no sampling fields" \
	test "$(j '[.pressures[] | select(.source == "manual") | has("interval_ms") or has("deflation_mmhg_s")] | any')" = false
want_r=$(abi 140 "$br" "$bl")
check "the last one counts: right ABI $(j .abi.abi.right.rest) = $want_r" near "$(j .abi.abi.right.rest)" "$want_r" 0.011
check "the history shows the reading and the correction" \
	test "$(j '[.history[] | select(.what == "pressure" and .value.site == "pt-right")] | length')" = 2

# After exercise: one site at minute 1, then a vent and the end of the series.
"$T" max >/dev/null
check "the walk ends" wait_for '"state":"(stopping|recovery)"' 60
simctl cuff-phase=1 >/dev/null
simctl cuff-site=brachial-right >/dev/null
check "treadlab cuff series $id post 1" bash -c "'$T' cuff series $id post 1 >/dev/null"
check "brachial-right at minute 1 recorded by the foot switch" wait_cuff '(.last.recorded // 0) == 5 and .last.phase == "post"' 120
rec=$("$T" show "$id" --json)
v=$(j '.pressures[] | select(.phase == "post" and .minute == 1 and .site == "brachial-right") | .mmhg')
check "minute 1: $v mmHg within $TOL of the true $(truth brachial-right 3)" near "$v" "$(truth brachial-right 3)" "$TOL"
check "the series moved on to pt-right" wait_cuff '.series.site == "pt-right" and .state == "idle"'
simctl cuff-site=pt-right >/dev/null
vents=$("$T" cuff --json | jq .vents)
"$T" cuff inflate >/dev/null
check "inflated above 60 mmHg" wait_cuff '.mmhg > 60' 30
check "treadlab cuff vent" bash -c "'$T' cuff vent >/dev/null"
check "the vent is counted and the cuff comes down" wait_cuff "(.vents > $vents) and (.state == \"idle\")" 60
check "the series stays at its site" test "$("$T" cuff --json | jq -r .series.site)" = pt-right
check "treadlab cuff end: no series" bash -c "'$T' cuff end --json | jq -e '.series == null' >/dev/null"
check "mark after the end: 409" expect 409 '.' POST /v1/cuff/mark '{}'
check "nothing more was recorded" test "$("$T" show "$id" --json | jq '[.pressures[] | select(.source == "cuff-modbus")] | length')" = 5
"$T" finish >/dev/null || true
stop_daemon
check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0
check "treadsim saw the cuff vented at the end, never left inflated" \
	bash -c "[ \"\$(printf 'cuff-state\n' | socat -t 5 - UNIX-CONNECT:'$SIM_CTL' | tr ' ' '\n' | sed -n 's/^mmhg=//p' | cut -d. -f1)\" -le 15 ]"

# A daemon without a cuff: the API says so, and so does the command line.
write_config "$WORK/none.conf" "[treadmill]" "driver = sim"
start_daemon "$WORK/none.conf"
check "GET /v1/cuff with no cuff: 404 and why" \
	expect 404 'no cuff is configured \(\[cuff\] source' GET /v1/cuff
out=$("$T" cuff 2>&1) && rc=0 || rc=$?
check "treadlab cuff with no cuff: exit 1 and the daemon's message ($out)" \
	bash -c "[ $rc = 1 ] && grep -q '^treadlab: no cuff is configured (\[cuff\] source.*(HTTP 404)$' <<<'$out'"
check "the status has no cuff" test "$("$T" status --json | jq 'has("cuff")')" = false
stop_daemon
check "the daemon without a cuff stops cleanly" test "$DAEMON_STATUS" = 0
finish
