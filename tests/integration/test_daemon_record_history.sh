# Records changed after the fact keep their history (issue 9): a local user reached the
# TCP listener, added a pressure and replaced the findings of a completed test under
# another operator's name, and the old findings were gone. Now every such change is kept
# in the record's "history" with the operator it named, the real peer (the socket's uid
# and pid, or the TCP address) and what it replaced; `treadlab show` prints it.
source "$(dirname "$0")/lib.sh"

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20" \
	"[api]" "listen = 127.0.0.1:0"
start_daemon "$WORK/d.conf"
addr=$(grep -o 'listen 127\.0\.0\.1:[0-9]*' "$WORK/daemon.log" | head -1 | cut -d' ' -f2)

id=$("$T" start --protocol gardner-skinner --patient HIST01 --operator alice)
"$T" max --operator alice >/dev/null
check "the walk ends" wait_for '"state":"recovery"' 60
"$T" relief --posture standing --operator alice >/dev/null
"$T" finish --operator alice >/dev/null
check "the test is complete" test "$("$T" show "$id" --json | jq -r .state)" = complete

printf '{"location":["calf"],"side":"right"}\n' >"$WORK/alice.json"
"$T" findings "$id" --file "$WORK/alice.json" --operator alice >/dev/null
# Someone else, over TCP, in alice's name.
tcp() {
	curl -s -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		--data-binary "$3" "http://$addr$2"
}
check "findings replaced over TCP" test "$(tcp PUT "/v1/tests/$id/findings" \
	'{"operator":"alice","symptoms":{"location":["buttock"],"side":"left"}}')" = 200
check "a pressure added over TCP" test "$(tcp POST "/v1/tests/$id/pressures" \
	'{"operator":"alice","phase":"rest","site":"pt-left","mmhg":60}')" = 200

rec=$("$T" show "$id" --json)
j() { jq -r "$1" <<<"$rec"; }
check "the record shows the new findings" test "$(j '.findings.location[0]')" = buttock
check "three changes are kept in order" test "$(j '[.history[].what] | join(",")')" = "findings,findings,pressure"
check "the first names alice and the socket's uid and pid" \
	grep -Eq "^alice uid $(id -u) pid [0-9]+ complete$" <<<"$(j '.history[0] | "\(.operator) \(.peer) \(.test_state)"')"
check "... and replaced nothing" test "$(j '.history[0].previous')" = null
check "the replacement names the operator given and the real peer (TCP)" \
	grep -Eq '^alice 127\.0\.0\.1:[0-9]+$' <<<"$(j '.history[1] | "\(.operator) \(.peer)"')"
check "... and keeps the findings it replaced" test "$(j '.history[1].previous.findings.location[0]')" = calf
check "... with who had entered them" grep -Eq "^alice uid $(id -u) pid" <<<"$(j '.history[1].previous | "\(.operator) \(.peer)"')"
check "the pressure added after completion is in the history with its peer" \
	grep -Eq '^complete 127\.0\.0\.1:[0-9]+ 60$' <<<"$(j '.history[2] | "\(.test_state) \(.peer) \(.value.mmhg)"')"
show=$("$T" show "$id")
check "treadlab show prints the changes" grep -q 'changes to the record' <<<"$show"
check "... with the peer of the replacement" grep -Eq 'findings +by alice \(127\.0\.0\.1:[0-9]+\) while complete' <<<"$show"
check "... and what it replaced" grep -q 'replaced {"findings":{"location":\["calf"\]' <<<"$show"
check "the database keeps the history (record_changes)" \
	test "$(sqlite3 "$WORK/treadlab.db" "select count(*) from record_changes where test_id = $id")" = 3
finish
