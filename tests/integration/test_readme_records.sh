# README.md, "Into the medical record": the walk-through as written there, on the shipped
# config/treadlabd-records-demo.conf with free ports in place of its 2575, 8090 and 8660
# (a developer's own daemon or peers may hold those). A test on the simulator, recorded
# and signed, arrives at the MLLP peer (@medplum/hl7) as an ORU^R01 that npm hl7v2 parses
# strictly, with the signed PDF embedded, and at the FHIR server as a Bundle that
# @medplum/core and fhir both validate.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "SKIP: node missing"; exit 77; }
for p in @medplum/hl7 @medplum/core fhir hl7v2; do
	[ -d "$TL_SOURCE_DIR/tests/node_modules/$p" ] || { say "SKIP: npm $p not installed (npm ci in tests/)"; exit 77; }
done
R="$TL_SOURCE_DIR/tests/records"
cd "$WORK"
mkdir -p received

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
p_mllp=$(free_port) p_fhir=$(free_port) p_web=$(free_port)
CONF="$TL_SOURCE_DIR/config/treadlabd-records-demo.conf"
for want in 'send_to = 127.0.0.1:2575' 'url = http://127.0.0.1:8090/fhir' 'listen = 127.0.0.1:8660'; do
	check "the shipped walk-through config has '$want', as the README says" grep -qxF "$want" "$CONF"
done
sed -e "s/127\.0\.0\.1:2575/127.0.0.1:$p_mllp/; s/127\.0\.0\.1:8090/127.0.0.1:$p_fhir/" \
	-e "s/127\.0\.0\.1:8660/127.0.0.1:$p_web/" "$CONF" >records.conf

# The two stand-ins for the hospital, each ready when it says "listening PORT".
PIDS=()
stop_peers() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'stop_peers; cleanup' EXIT
peer_ready() { # peer_ready FIFO
	local line=""
	read -r -t 30 line <"$1" || true
	[ "${line%% *}" = listening ] || { say "     a peer did not start: '$line'"; cat peer.err >&2; return 1; }
}
mkfifo mllp.out fhir.out
node --experimental-websocket "$R/mllp_peer.mjs" AA received/mllp.log "$p_mllp" received >mllp.out 2>>peer.err &
PIDS+=($!)
check "the MLLP receiver listens" peer_ready mllp.out
SAVE_DIR=received PORT=$p_fhir node "$R/fhir_server.mjs" 201 received/fhir.log >fhir.out 2>>peer.err &
PIDS+=($!)
check "the FHIR server listens" peer_ready fhir.out
start_daemon records.conf

printf 'dr-pass-1\n' | "$T" user add drlee --role physician >/dev/null
check "the patient is recorded" "$T" patient REC001 --authority HOSP --family Doe --given Jane \
	--birth-date 1950-03-01 --sex female
id=$("$T" start --protocol gardner-skinner --patient REC001)
check "the test starts ($id)" test "$id" = 1
check "the order is recorded" "$T" order "$id" --accession ACC-1001
check "the virtual patient presses max: recovery" wait_for '"state":"recovery"' 120
check "finish" "$T" finish
out=$(printf 'dr-pass-1\n' | "$T" sign "$id" --user drlee 2>&1)
check "the physician signs; both messages are queued" grep -q 'queued' <<<"$out"
say "     $out"

delivered() { [ "$("$T" outbox --json | jq '[.[] | select(.state == "delivered")] | length')" = 2 ]; }
ok=false
for ((i = 0; i < 300; i++)); do delivered && { ok=true; break; }; sleep 0.1; done
check "treadlab outbox: both delivered" $ok
"$T" outbox | sed 's/^/     /'

msgs=(received/TL*.hl7)
check "the MLLP peer received one message (${#msgs[@]})" test "${#msgs[@]}" = 1 -a -e "${msgs[0]}"
"$T" report "$id" -o signed.pdf
check "npm hl7v2 strict parse and our checks: the ORU^R01, the signed PDF embedded" \
	node "$R/check_hl7.mjs" "${msgs[0]}" --ed --pdf signed.pdf
check "the FHIR server received one Bundle" test -e received/bundle-1.json -a ! -e received/bundle-2.json
check "@medplum/core and fhir validate it" \
	node --experimental-websocket "$R/check_fhir.mjs" received/bundle-1.json
jq -r '.entry[] | .resource | select(.resourceType == "DiagnosticReport") | .presentedForm[0].data' \
	received/bundle-1.json | base64 -d >form.pdf
check "its DiagnosticReport carries the signed PDF" cmp -s form.pdf signed.pdf
stop_daemon
check "the daemon stops cleanly" test "$DAEMON_STATUS" = 0
finish
