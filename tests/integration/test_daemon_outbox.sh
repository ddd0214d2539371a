# The outbox and MLLP delivery (issue 13) against an independent receiver: npm
# @medplum/hl7's Hl7Server (tests/records/mllp_peer.mjs), scripted to answer AA, AE, AR,
# to stay silent or to drop the connection, and logging the MSH-10 of every message it
# gets. A test on the simulator, signed again and again (each signature is a new report
# version: a new message), goes through every case: the outbox ends in the right state,
# the peer got exactly the attempts it should, each with the same MSH-10; AE is not
# resent; `outbox retry` sends a failed message again (same MSH-10); `outbox cancel`
# stops one. Then the daemon is killed (SIGKILL) while the peer holds a message without
# answering: after the restart it is delivered once more with the same MSH-10 and
# nothing else changed. A signature of a record lacking what the message needs succeeds,
# its message not queued, saying what is missing; `outbox send` queues it once completed.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "SKIP: node missing"; exit 77; }
PEER_JS="$TL_SOURCE_DIR/tests/records/mllp_peer.mjs"
[ -d "$TL_SOURCE_DIR/tests/node_modules/@medplum/hl7" ] || { say "SKIP: npm @medplum/hl7 not installed"; exit 77; }
DB="$WORK/treadlab.db"

PEER_PID="" PEER_PORT=0
# peer SCRIPT: (re)starts the receiver on the same port with a new script and an empty log.
peer() {
	stop_peer
	: >"$WORK/peer.log"
	rm -f "$WORK/peer.out"
	mkfifo "$WORK/peer.out"
	node --experimental-websocket "$PEER_JS" "$1" "$WORK/peer.log" "$PEER_PORT" >"$WORK/peer.out" 2>>"$WORK/peer.err" &
	PEER_PID=$!
	local line=""
	read -r -t 30 line <"$WORK/peer.out" || true
	[ "${line%% *}" = listening ] || { say "the peer did not start: $line"; cat "$WORK/peer.err"; return 1; }
	PEER_PORT=${line#listening }
}
stop_peer() {
	[ -n "$PEER_PID" ] || return 0
	kill "$PEER_PID" 2>/dev/null || true
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=""
}
trap 'stop_peer; cleanup' EXIT

ob() { "$T" outbox "$@"; }
# field ID JQ: what the jq expression gives of the message (with its history)
field() { ob show "$1" --json | jq -r "$2"; }
# payload ID: the message as stored (segments on lines)
payload() { curl -s --unix-socket "$TREADLAB_SOCKET" "http://treadlabd/v1/outbox/$1?payload=1" | jq -r .payload | tr '\r' '\n'; }
# audited COMMAND RESULT N: the writer has committed N audit rows of COMMAND with RESULT
audited() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = '$1' AND result = '$2'")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_state ID STATE [TIMEOUT_S]: polls the API until the message is in STATE.
wait_state() {
	local id=$1 want=$2 limit=${3:-20} i
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(field "$id" .state)" = "$want" ] && return 0
		sleep 0.1
	done
	say "     message $id is $(field "$id" .state), not $want"
	return 1
}
# wait_lines N [TIMEOUT_S]: until the peer logged N messages.
wait_lines() {
	local n=$1 limit=${2:-20} i
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(wc -l <"$WORK/peer.log")" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
# every line of the peer's log carries control id $1, and there are $2 of them
log_is() {
	local n
	n=$(wc -l <"$WORK/peer.log")
	[ "$n" = "$2" ] && [ "$(awk -v c="$1" '$1 != c' "$WORK/peer.log" | wc -l)" = 0 ] ||
		{ say "     peer log ($n lines, want $2 of $1):"; cat "$WORK/peer.log"; return 1; }
}
sign() { printf 'physician-pw-1\n' | "$T" sign "$1" --user dr.ana; }
last_id() { ob --json | jq -r '.[-1].id'; }

peer AA
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120" \
	"[hl7]" "send_to = 127.0.0.1:$PEER_PORT" "ack_timeout_ms = 400" "max_attempts = 3" \
	"retry_min_ms = 100" "retry_max_ms = 200" "sending_facility = VASCLAB"
start_daemon "$WORK/d.conf"
printf 'physician-pw-1\n' | "$T" user add dr.ana --role physician >/dev/null

# A finished test with the data a message needs.
"$T" patient OB01 --authority HOSP --family Doe --given Jane --birth-date 1950-02-03 --sex female >/dev/null
id=$("$T" start --protocol gardner-skinner --patient OB01)
"$T" order "$id" --accession ACC-1 --physician-id P1 --physician-family House >/dev/null
for s in brachial-left:140 brachial-right:136 pt-left:98 dp-left:92 pt-right:100 dp-right:96; do
	"$T" pressure "$id" --phase rest --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
check "the walk ends at the patient's max press" wait_for '"state":"recovery"' 30
"$T" finish >/dev/null

say "== AA: delivered once =="
out=$(sign "$id")
check "the signature says the message is queued" grep -q "hl7 queued" <<<"$out"
m1=$(last_id)
c1=$(field "$m1" .control_id)
check "its control id is the store's (TL<station>-<id>): $c1" grep -Eq "^TL[0-9A-F]{8}-$m1\$" <<<"$c1"
check "delivered" wait_state "$m1" delivered
check "the peer got it once, MSH-10 $c1" log_is "$c1" 1
check "as an ORU^R01" grep -q " ORU^R01" "$WORK/peer.log"
check "one attempt, delivered_at set" test "$(field "$m1" .attempts)/$(field "$m1" '.delivered_at != null')" = 1/true
payload "$m1" >"$WORK/m1.hl7"
curl -s --unix-socket "$TREADLAB_SOCKET" "http://treadlabd/v1/outbox/$m1?payload=1" | jq -j .payload >"$WORK/m1.raw"
check "npm hl7v2 strict parse and our checks: the message as delivered, the signed PDF embedded" \
	node "$TL_SOURCE_DIR/tests/records/check_hl7.mjs" "$WORK/m1.raw" --ed
check "the message stored names its MSH-10 and our facility" \
	bash -c "head -1 '$WORK/m1.hl7' | grep -F 'MSH|^~\\&|TREADLAB|VASCLAB|' | grep -Fq '|$c1|P|2.5.1'"
check "... and embeds the signed PDF (an ED OBX)" grep -q '^OBX|[0-9]*|ED|' "$WORK/m1.hl7"

say "== AR, AR, AA: the same message until accepted =="
peer AR,AR,AA
sign "$id" >/dev/null
m2=$(last_id)
c2=$(field "$m2" .control_id)
check "delivered on the third attempt" wait_state "$m2" delivered
check "the peer got it three times, each MSH-10 $c2" log_is "$c2" 3
check "the history has two AR and the AA" \
	test "$(field "$m2" '[.history[].event] | join(",")')" = "queued,attempt,ack AR,retry,attempt,ack AR,retry,attempt,ack AA,delivered"

say "== AE: failed at once, not resent, alerted; retry sends it again =="
peer AE
sign "$id" >/dev/null
m3=$(last_id)
c3=$(field "$m3" .control_id)
check "failed" wait_state "$m3" failed
check "with the receiver's text" bash -c "'$T' outbox show $m3 --json | jq -r .last_error | grep -q 'rejected by the peer: unknown patient'"
check "the status counts it and alerts" \
	bash -c "'$T' status --json | jq -e '.outbox.failed == 1 and .outbox.undelivered == 1 and (.outbox.alert | test(\"rejected\"))' >/dev/null"
check "the list shows it failed" bash -c "'$T' outbox | grep -Eq '^$m3 +$id +hl7 +failed'"
# Well past retry_max_ms (200 ms): nothing more came.
sleep 1
check "not resent: the peer got it once" log_is "$c3" 1
peer AA
out=$(ob retry "$m3")
check "outbox retry queues it again ($out)" grep -q "message $m3: queued (control id $c3)" <<<"$out"
check "then delivered" wait_state "$m3" delivered
check "with the same MSH-10, once" log_is "$c3" 1
check "the retry is audited" audited "outbox retry" ok 1
check "the alert is gone" bash -c "'$T' status --json | jq -e '.outbox.failed == 0 and .outbox.alert == null' >/dev/null"
check "a delivered message is not retried (409)" expect 409 "it is delivered" POST "/v1/outbox/$m3/retry"
check "no such message (404)" expect 404 "no outbox message 9999" POST /v1/outbox/9999/cancel

say "== silence: max_attempts, then failed; drop: resent =="
peer silent
sign "$id" >/dev/null
m4=$(last_id)
c4=$(field "$m4" .control_id)
check "failed after 3 unanswered attempts" wait_state "$m4" failed
check "3 times the same MSH-10" log_is "$c4" 3
check "each a timeout" test "$(field "$m4" '[.history[] | select(.event == "timeout")] | length')" = 3
check "outbox cancel stops a failed message" bash -c "'$T' outbox cancel $m4 | grep -q 'message $m4: cancelled'"
check "... audited" audited "outbox cancel" ok 1
peer drop,AA
sign "$id" >/dev/null
m5=$(last_id)
c5=$(field "$m5" .control_id)
check "a dropped connection: delivered on the next attempt" wait_state "$m5" delivered
check "twice the same MSH-10" log_is "$c5" 2
check "the first attempt ended broken" test "$(field "$m5" '[.history[].event] | index("broken") != null')" = true
check "nothing is ever deleted" bash -c "sqlite3 '$DB' 'DELETE FROM outbox' 2>&1 | grep -q 'never deleted'"

say "== a record without demographics: signed, not sent; outbox send once completed =="
"$T" patient OB02 --family Roe --birth-date 1960-01-01 --sex male >/dev/null
id2=$("$T" start --protocol gardner-skinner --patient OB02)
"$T" onset >/dev/null
"$T" max >/dev/null
check "a second walk ends at the operator's max" wait_for '"state":"recovery"' 30
"$T" finish >/dev/null
n_before=$(ob --json | jq length)
out=$(sign "$id2" 2>&1)
check "the signature succeeds" grep -q "report version 1 signed by dr.ana" <<<"$out"
check "and says what is missing" grep -q "hl7 not sent: .*missing" <<<"$out"
check "nothing queued" test "$(ob --json | jq length)" = "$n_before"
check "the audit trail says why" audited "outbox queue" "not sent" 1
check "... naming what is missing" \
	test "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE command = 'outbox queue' AND detail LIKE '%missing%'")" = 1

out=$("$T" outbox send "$id2" 2>&1) && rc=0 || rc=$?
check "outbox send refuses while it is still missing ($rc)" \
	bash -c "test $rc = 1 && grep -q 'nothing queued for test $id2: hl7: not sent: .*missing' <<<'$out'"
# What the report shows (name, birth date, sex) was there at the signature; the rest
# (the MRN's authority, the accession) comes now.
"$T" order "$id2" --accession ACC-2 >/dev/null
"$T" patient OB02 --authority HOSP >/dev/null
out=$("$T" outbox send "$id2" 2>&1) || true # the check says what came
check "once the data is there, outbox send queues it ($out)" grep -q "test $id2: hl7 queued" <<<"$out"
m_send=$(last_id)
check "... and it is delivered" wait_state "$m_send" delivered
check "sent again: refused, it is already queued (one per version)" \
	expect 409 "already has its hl7 message of report version 1" POST "/v1/tests/$id2/send"

say "== SIGKILL during an attempt: delivered once after the restart =="
# The attempt must still be waiting for its ACK when the kill comes: a 60 s deadline here
# (with 400 ms, a loaded sanitizer run timed the attempt out before the kill).
stop_daemon
sed 's/^ack_timeout_ms = 400$/ack_timeout_ms = 60000/' "$WORK/d.conf" >"$WORK/d_kill.conf"
check "the daemon restarts with a 60 s ACK deadline" grep -qx 'ack_timeout_ms = 60000' "$WORK/d_kill.conf"
start_daemon "$WORK/d_kill.conf"
peer silent
sign "$id" >/dev/null
m6=$(last_id)
c6=$(field "$m6" .control_id)
check "the peer holds it, unanswered" wait_lines 1
before=$(sqlite3 "$DB" "SELECT group_concat(id || ':' || state || ':' || attempts, ' ') FROM outbox WHERE id != $m6")
stop_daemon KILL
check "it was left 'sending'" test "$(sqlite3 "$DB" "SELECT state FROM outbox WHERE id = $m6")" = sending
peer AA
start_daemon "$WORK/d_kill.conf"
check "after the restart: delivered" wait_state "$m6" delivered
check "the peer got it once, the same MSH-10" log_is "$c6" 1
check "its history says it was resumed" test "$(field "$m6" '[.history[].event] | index("resumed") != null')" = true
check "every other message is as it was" \
	test "$(sqlite3 "$DB" "SELECT group_concat(id || ':' || state || ':' || attempts, ' ') FROM outbox WHERE id != $m6")" = "$before"
check "the list shows each message" bash -c "test \$('$T' outbox | grep -c ' hl7 ') = 7"
check "it stops promptly on SIGTERM" stop_daemon
check "... cleanly" test "$DAEMON_STATUS" = 0

say "== FHIR through the same outbox: 201 delivered, 400 failed with the OperationOutcome =="
FHIR_PID=""
# fhir MODE: a scripted FHIR server (tests/records/fhir_server.mjs) and a daemon sending to it
fhir() {
	[ -z "$FHIR_PID" ] || { kill "$FHIR_PID"; wait "$FHIR_PID" 2>/dev/null || true; }
	stop_daemon
	: >"$WORK/fhir.log"
	rm -f "$WORK/fhir.out"
	mkfifo "$WORK/fhir.out"
	node "$TL_SOURCE_DIR/tests/records/fhir_server.mjs" "$1" "$WORK/fhir.log" >"$WORK/fhir.out" &
	FHIR_PID=$!
	local line
	read -r -t 30 line <"$WORK/fhir.out"
	write_config "$WORK/f.conf" "[daemon]" "tick_hz = 100" "[sim]" "time_scale = 20" \
		"[fhir]" "url = http://127.0.0.1:${line#listening }/fhir" "token_file = $WORK/token" \
		"timeout_ms = 2000" "max_attempts = 2" "retry_min_ms = 100" "retry_max_ms = 200"
	start_daemon "$WORK/f.conf"
}
trap '[ -z "$FHIR_PID" ] || kill "$FHIR_PID" 2>/dev/null; stop_peer; cleanup' EXIT
printf 'secret-token-1\n' >"$WORK/token"
fhir 201
out=$(sign "$id")
check "the signature queues the Bundle ($out)" grep -q "fhir queued" <<<"$out"
mf=$(last_id)
check "delivered" wait_state "$mf" delivered
check "the server got it once, with the bearer token" \
	test "$(jq -r .authorization "$WORK/fhir.log")" = "Bearer secret-token-1"
check "a transaction Bundle" \
	bash -c "jq -r .body '$WORK/fhir.log' | jq -e '.resourceType == \"Bundle\" and .type == \"transaction\"' >/dev/null"
fhir 400
sign "$id" >/dev/null
mf2=$(last_id)
check "a 400 fails the Bundle at once" wait_state "$mf2" failed
check "with the OperationOutcome's text" \
	bash -c "'$T' outbox show $mf2 --json | jq -r .last_error | grep -q '1956-02-30 is not a date'"
check "not resent" test "$(wc -l <"$WORK/fhir.log")" = 1
for mode in 500 timeout; do
	fhir "$mode"
	sign "$id" >/dev/null
	m=$(last_id)
	check "a server answering $mode: retried, then failed after max_attempts (2)" wait_state "$m" failed 30
	check "... two attempts reached the server" test "$(wc -l <"$WORK/fhir.log")" = 2
	check "... the same Bundle both times" test "$(jq -r .body "$WORK/fhir.log" | sort -u | wc -l)" = 1
	check "... the reason kept ($(field "$m" .last_error))" \
		bash -c "'$T' outbox show $m --json | jq -r .last_error | grep -Eqi '$([ "$mode" = 500 ] && echo 'database unavailable|500' || echo 'no answer from .* within')'"
done
stop_daemon
finish
