# README.md, "Pressures from the cuff": the walk-through as written there, on the shipped
# config/treadlabd-cuff-demo.conf with free ports in place of its 1502 and 8660 (a
# developer's own treadsim or daemon may hold those). treadsim's cuff with its following
# technician; a test on the simulated treadmill; a resting series and a series at minute
# 1 taken without typing a number. Every site is recorded from the cuff within the known
# error of the scenario's true pressure, and the ABI comes from them. No timing is
# asserted.
source "$(dirname "$0")/lib.sh"
need_treadsim
# The walk-through needs treadsim's following technician (hil/README.md, The cuff).
if ! "$TREADSIM" --help 2>&1 | grep -q -- --cuff-follow; then
	say "SKIP: this treadsim has no --cuff-follow"
	exit 77
fi
README="$TL_SOURCE_DIR/README.md"
CONF="$TL_SOURCE_DIR/config/treadlabd-cuff-demo.conf"
SCENARIO="$TL_SOURCE_DIR/tests/data/cuff-scenario.txt"
cd "$WORK"

# The README's own lines, so that what runs here is what it says.
section=$(awk '/^## Pressures from the cuff$/ { on = 1; next } on && /^## / { exit } on' "$README")
says() { grep -qF -- "$1" <<<"$section"; }
SIM_CMD='build/hil/treadsim --cuff-modbus-tcp 127.0.0.1:1502 --button-box tty-box --cuff-follow \'
SIM_CMD2='    --cuff-inflate-mmhg-s 300 --cuff-scenario tests/data/cuff-scenario.txt \'
SIM_CMD3='    --control sim.ctl --log sim.log &'
for line in "$SIM_CMD" "$SIM_CMD2" "$SIM_CMD3" 'build/treadlabd --config config/treadlabd-cuff-demo.conf &' \
	'treadlab start --protocol gardner-skinner --patient CUFF001' 'treadlab cuff series 1 rest ' \
	'treadlab cuff watch ' 'treadlab cuff series 1 post 1 ' 'treadlab cuff  ' 'treadlab show 1 --json '; do
	check "the README says '$line'" says "$line"
done
for want in 'tcp = 127.0.0.1:1502' 'listen = 127.0.0.1:8660' 'box_device = tty-box' \
	'profile = config/devices/sim-cuff.profile'; do
	check "the shipped walk-through config has '$want', as the README says" grep -qxF "$want" "$CONF"
done
rate=$(sed -n 's/^deflate_mmhg_s = //p' "$CONF")

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
p_cuff=$(free_port) p_web=$(free_port)
sed -e "s/127\.0\.0\.1:1502/127.0.0.1:$p_cuff/; s/127\.0\.0\.1:8660/127.0.0.1:$p_web/" \
	-e "s|^profile = config/|profile = $TL_SOURCE_DIR/config/|" "$CONF" >cuff.conf

# treadsim as the README starts it (from the source tree's files), ready when it says so.
SIM_PID=""
stop_sim() { [ -z "$SIM_PID" ] || { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""; }; }
trap 'stop_sim; cleanup' EXIT
mkfifo sim.out
"$TREADSIM" --cuff-modbus-tcp "127.0.0.1:$p_cuff" --button-box tty-box --cuff-follow \
	--cuff-inflate-mmhg-s 300 --cuff-scenario "$SCENARIO" --control sim.ctl --log sim.log >sim.out 2>sim.err &
SIM_PID=$!
read -r -t 10 line <sim.out || true
check "treadsim is ready ($line)" test "$line" = ready
[ "$line" = ready ] || { cat sim.err >&2; finish; exit 1; }
start_daemon cuff.conf

check "the daemon reaches the cuff" wait_cuff '.connected' 30
id=$("$T" start --protocol gardner-skinner --patient CUFF001)
check "the test starts ($id)" test "$id" = 1

# series PHASE [MINUTE]: the README's series and its watch, which ends with the series.
series() {
	local tag=$1${2:+-$2}
	check "treadlab cuff series 1 $*" "$T" cuff series 1 "$@"
	local rc=0
	timeout 600 "$T" cuff watch >"watch-$tag.out" 2>&1 || rc=$?
	check "treadlab cuff watch ends with the series (exit $rc)" test "$rc" = 0
	sed "s/^/     $tag: /" "watch-$tag.out"
	check "it printed six readings from the cuff" \
		test "$(grep -cE '^[a-z-]+ [0-9.]+ mmHg \(cuff-modbus, samples [0-9]+ ms apart, deflating [0-9.]+ mmHg/s\)$' "watch-$tag.out")" = 6
}
series rest
check "the walk has ended" wait_for '"state":"recovery"' 120
series post 1
"$T" cuff | sed 's/^/     /'
check "treadlab cuff: no series, twelve recorded" bash -c \
	"'$T' cuff | grep -q '^series  *none$' && '$T' cuff | grep -Eq '; 12 recorded$'"

rec=$("$T" show 1 --json)
j() { jq -r "$1" <<<"$rec"; }
check "twelve pressures, every one from the cuff" \
	test "$(j '[.pressures[] | .source] | unique | join(",")'),$(j '.pressures | length')" = "cuff-modbus,12"
# The simulated technician presses its reaction time (+- jitter) after the signal comes
# back: at the deflation rate that many mmHg below the true pressure; 2 mmHg for the host.
read -r reaction jitter <<<"$(awk '$1 == "reaction_ms" { r = $2 } $1 == "jitter_ms" { j = $2 } END { print r, j }' "$SCENARIO")"
tol=$(awk -v r="$rate" -v a="$reaction" -v j="$jitter" 'BEGIN { print r * (a + j) / 1000 + 2 }')
while read -r _ site rest m1 _; do
	for col in rest:"$rest" 1:"$m1"; do
		phase=${col%%:*} want=${col#*:}
		if [ "$phase" = rest ]; then
			got=$(j ".pressures[] | select(.site == \"$site\" and .phase == \"rest\") | .mmhg")
		else
			got=$(j ".pressures[] | select(.site == \"$site\" and .phase == \"post\" and .minute == 1) | .mmhg")
		fi
		check "$site, $phase: $got mmHg within $tol of the true $want" near "${got:-x}" "$want" "$tol"
	done
done < <(grep '^site ' "$SCENARIO")
p() { j ".pressures[] | select(.site == \"$1\" and .phase == \"rest\") | .mmhg"; }
abi() { # ABI of the higher ankle artery on the higher arm, 2 places, half away from zero
	awk -v a="$1" -v d="$2" -v r="$3" -v l="$4" 'BEGIN { x = a > d ? a : d; b = r > l ? r : l
		printf "%.2f", int(x / b * 100 + 0.5) / 100 }'
}
for side in right left; do
	want=$(abi "$(p pt-$side)" "$(p dp-$side)" "$(p brachial-right)" "$(p brachial-left)")
	check "the $side resting ABI from the cuff's readings ($(j .abi.abi.$side.rest), want $want)" \
		near "$(j .abi.abi.$side.rest)" "$want" 0.011
done
jqt() { jq -e "$1" >/dev/null <<<"$rec"; } # jqt TEST: the jq test holds on the record
# The README's patient: a borderline right ABI that falls by more than 20 % after the walk.
check "right: borderline at rest ($(j .abi.abi.right.rest_category)), a fall > 20 % at minute 1 ($(j '.abi.abi.right.post[0].fall_pct') %)" \
	jqt '.abi.abi.right | .rest_category == "borderline" and (.criteria | index("abi_fall_gt_20pct"))'
check "left: normal at rest ($(j .abi.abi.left.rest_category)), no fall > 20 %" \
	jqt '.abi.abi.left | .rest_category == "normal" and (.criteria | index("abi_fall_gt_20pct") | not)'
"$T" finish >/dev/null
stop_daemon
check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0
finish
