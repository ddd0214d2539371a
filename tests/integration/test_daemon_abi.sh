# Pressures and findings recorded through the daemon: ABI and classification computed,
# shown with the test, recomputed on change, reminders during recovery, and all of it
# still there after a restart.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient ABI01 --operator bob)
for s in brachial-left:140 brachial-right:136 pt-left:98 dp-left:92 pt-right:100 dp-right:96; do
	"$T" pressure "$id" --phase rest --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
check "the walk ends at the patient's max press" wait_for '"state":"recovery"' 30
check "a reminder to take pressures at minute 1" wait_for '"kind":"reminder".*"value":1' 30
for s in brachial-left:150 brachial-right:148 pt-left:62 pt-right:70; do
	"$T" pressure "$id" --phase post --minute 1 --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
printf '{"symptoms": {"location": ["calf"], "side": "bilateral", "relief": "standing", "relief_time_s": 120}}' >"$WORK/sym.json"
"$T" findings "$id" --file "$WORK/sym.json" --operator bob >/dev/null
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null

rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
check "resting ABI left 0.70, abnormal" test "$(j '.abi.abi.left.rest'),$(j '.abi.abi.left.rest_category')" = "0.7,abnormal"
check "post-exercise criteria fired on the left" test "$(j '.classification.abi.left.criteria | join(",")')" = "post_abi_le_0_90,abi_fall_gt_20pct,ankle_fall_gt_30mmhg"
check "classification vascular" test "$(j .classification.category)" = vascular
check "the walk's COT is in the findings" test "$(j '[.classification.findings[] | .finding] | length > 0')" = true
check "pressures stored with operator" test "$(j '[.pressures[] | select(.operator=="technician")] | length')" = 10
check "findings stored with operator" test "$(j .findings_operator)" = bob
check "reminder events recorded" test "$(j '[.events[] | select(.kind=="reminder")] | length > 0')" = true
txt=$("$T" show "$id")
check "show: the pressures, each with its source" grep -Eq '^  post 1 min +pt-left +62 mmHg +manual +technician$' <<<"$txt"
check "show: the ABI of each leg, rest and after exercise" grep -Eq '^  left +rest 0\.70 \(abnormal\), 1 min 0\.41$' <<<"$txt"
check "show: the category" grep -qx 'category vascular' <<<"$txt"

# A correction changes the result: the later reading of a site wins.
"$T" pressure "$id" --phase post --minute 1 --site pt-left --mmhg 140 >/dev/null
"$T" pressure "$id" --phase post --minute 1 --site pt-right --mmhg 140 >/dev/null
"$T" pressure "$id" --phase rest --site pt-left --mmhg 150 >/dev/null
"$T" pressure "$id" --phase rest --site pt-right --mmhg 150 >/dev/null
rec2=$("$T" show "$id" --json)
check "recomputed after the corrections: left ABI now normal" test "$(jq -r .classification.abi.left.rest_category <<<"$rec2")" = normal
check "every reading is kept" test "$(jq '[.pressures[] | select(.site=="pt-left")] | length' <<<"$rec2")" = 4

stop_daemon TERM
start_daemon "$WORK/d.conf"
rec3=$("$T" show "$id" --json)
check "ABI and classification survive a restart" test "$(jq -c '{abi, classification}' <<<"$rec3")" = "$(jq -c '{abi, classification}' <<<"$rec2")"
check "pressures and findings survive a restart" test "$(jq -c '{pressures, findings}' <<<"$rec3")" = "$(jq -c '{pressures, findings}' <<<"$rec2")"

# Values the lab really records (issue 17, item 10).
check "an implausible arm pressure is refused and says why" \
	bash -c "'$T' pressure '$id' --phase rest --site brachial-right --mmhg 40 2>&1 | grep -q 'implausible (below 50)'"
check "... kept with the confirmation" \
	"$T" pressure "$id" --phase rest --site brachial-right --mmhg 40 --confirm-implausible
check "a confirmation with nothing to confirm is refused" \
	bash -c "! '$T' pressure '$id' --phase rest --site brachial-right --mmhg 120 --confirm-implausible 2>/dev/null"
check "noncompressible is for ankle arteries only" \
	bash -c "'$T' pressure '$id' --phase rest --site toe-left --mmhg 200 --noncompressible 2>&1 | grep -q 'for an ankle artery'"
"$T" pressure "$id" --phase rest --site pt-left --mmhg 250 --noncompressible >/dev/null
"$T" pressure "$id" --phase rest --site dp-left --mmhg 250 --noncompressible >/dev/null
rec4=$("$T" show "$id" --json)
check "the record keeps the confirmation" \
	test "$(jq '[.pressures[] | select(.site=="brachial-right" and .mmhg==40)][0].confirmed' <<<"$rec4")" = true
check "the record keeps the noncompressible artery" \
	test "$(jq '[.pressures[] | select(.site=="pt-left" and .phase=="rest")][-1].noncompressible' <<<"$rec4")" = true
check "the ankle reads as noncompressible" \
	test "$(jq -r .classification.abi.left.rest_category <<<"$rec4")" = noncompressible
finish
