# The HL7 v2.5.1 ORU^R01 of a test (issue 13), each message checked by npm hl7v2 1.8.0's
# strict parse and our own order and OBX checks (tests/records/check_hl7.mjs):
# - the checker itself fails on broken messages (a wrong data type, a bad number, a
#   segment out of order, hostile text that does not read back);
# - every message the unit test builds (test_hl7 with TL_HL7_DUMP), hostile text read
#   back unchanged;
# - a whole test on the simulated daemon, signed: the preview (GET /v1/tests/{id}/hl7,
#   treadlab export --hl7) is refused while it runs (409) and, as the store keeps no
#   demographics yet, with every missing field named (422); the daemon's record with
#   demographics and order added (hostile names) and its signed PDF make a message
#   (hl7_build) that passes the checker with the PDF's bytes embedded.
# Skips (77) without node or tests/node_modules (npm ci in tests/).
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "SKIP: node missing"; exit 77; }
[ -d "$TL_SOURCE_DIR/tests/node_modules/hl7v2" ] || { say "SKIP: tests/node_modules (npm ci in tests/) missing"; exit 77; }
: "${HL7_BUILD:?run through ctest}" "${HL7_UNIT:?run through ctest}"
CHECK="$TL_SOURCE_DIR/tests/records/check_hl7.mjs"

# hl7ok FILE [ARGS]: the checker accepts the message (its line, or its error, shown).
hl7ok() { node "$CHECK" "$@" 2>&1 | sed 's/^/     /'; return "${PIPESTATUS[0]}"; }
# hl7bad FILE REGEX: the checker refuses the message, saying so.
hl7bad() {
	local out
	if out=$(node "$CHECK" "$1" 2>&1); then
		say "     accepted: $out"
		return 1
	fi
	grep -Eq -- "$2" <<<"$out" || { say "     got: $out"; return 1; }
}

# The unit test's messages.
mkdir -p "$WORK/unit"
check "the unit test builds its messages" bash -c "TL_HL7_DUMP='$WORK/unit' '$HL7_UNIT' >'$WORK/unit.log' 2>&1"
n=0
for f in "$WORK/unit"/*.hl7; do
	name=$(basename "$f" .hl7)
	args=()
	[ -e "$WORK/unit/$name.expect.json" ] && args=(--expect "$WORK/unit/$name.expect.json")
	check "hl7v2 strict parse and our checks: unit message '$name'" hl7ok "$f" "${args[@]}"
	n=$((n + 1))
done
check "the unit test wrote its 8 messages ($n)" test "$n" = 8
check "the hostile names read back unchanged (5 values)" \
	bash -c "node '$CHECK' '$WORK/unit/hostile.hl7' --expect '$WORK/unit/hostile.expect.json' | grep -q '5 values read back'"
check "PV1 only with a patient class, ED only with a report" \
	bash -c "{ node '$CHECK' '$WORK/unit/pv1.hl7' --pv1 --no-ed && node '$CHECK' '$WORK/unit/full.hl7' --no-pv1 --no-ed && node '$CHECK' '$WORK/unit/ed.hl7' --ed; } >/dev/null"

# The checker can fail.
full="$WORK/unit/full.hl7"
sed 's/\rOBX|1|NM|/\rOBX|one|NM|/' "$full" >"$WORK/b1.hl7"
check "a broken OBX-1 (SI) fails hl7v2's strict parse" hl7bad "$WORK/b1.hl7" 'strict parse: .*OBX\.1.*wrong data type'
sed 's/^\(MSH|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|\)[0-9.+]*/\1yesterday/' "$full" >"$WORK/b2.hl7"
check "a message time that is not a time fails hl7v2's strict parse" hl7bad "$WORK/b2.hl7" 'strict parse: .*MSH\.7'
sed 's/||51\.9|m^m^UCUM/||51,9|m^m^UCUM/' "$full" >"$WORK/b3.hl7"
check "a number with a decimal comma fails our OBX-5 check" hl7bad "$WORK/b3.hl7" "OBX-5 '51,9' is not an NM number"
python3 - "$full" "$WORK/b4.hl7" <<'PY'
import sys
segs = open(sys.argv[1], 'rb').read().split(b'\r')[:-1]
i, j = next(k for k, s in enumerate(segs) if s.startswith(b'ORC|')), next(k for k, s in enumerate(segs) if s.startswith(b'OBR|'))
segs[i], segs[j] = segs[j], segs[i]
open(sys.argv[2], 'wb').write(b'\r'.join(segs) + b'\r')
PY
check "OBR before ORC fails the order check" hl7bad "$WORK/b4.hl7" 'segment order'
tr '\r' '\n' <"$full" >"$WORK/b5.hl7"
check "segments ended by LF are refused" hl7bad "$WORK/b5.hl7" 'raw LF|does not end in CR'
jq '."PID.5.1" = "O'"'"'Brien"' "$WORK/unit/hostile.expect.json" >"$WORK/wrong.json"
check "a value that does not read back fails" \
	bash -c "! node '$CHECK' '$WORK/unit/hostile.hl7' --expect '$WORK/wrong.json' 2>/dev/null"

# A whole test on the simulated daemon.
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120" \
	"[hl7]" "sending_facility = VASCLAB" "receiving_application = EHR" \
	"receiving_facility = HOSP" "patient_class = O"
start_daemon "$WORK/d.conf"
id=$("$T" start --protocol gardner-skinner --patient HL701)
check "no message while the test runs (409)" \
	expect 409 "test $id is still in progress" GET "/v1/tests/$id/hl7"
for s in brachial-left:140 brachial-right:136 pt-left:98 dp-left:92 pt-right:100 dp-right:96 toe-left:60; do
	"$T" pressure "$id" --phase rest --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
check "the walk ends at the patient's max press" wait_for '"state":"recovery"' 30
for s in brachial-left:150 brachial-right:148 pt-left:62 pt-right:70; do
	"$T" pressure "$id" --phase post --minute 1 --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null
signed=true
printf 'physician-pw-1\n' | "$T" user add dr.hl7 --role physician >/dev/null
check "the physician signs" bash -c "printf 'physician-pw-1\n' | '$T' sign $id --user dr.hl7 >/dev/null"

missing="missing patient MRN; MRN assigning authority; family name; birth date; sex; order accession number"
check "the preview names every missing field at once (422)" \
	expect 422 "test $id cannot be sent: $missing" GET "/v1/tests/$id/hl7"
out=$("$T" export --hl7 "$id" 2>&1) && rc=0 || rc=$?
check "treadlab export --hl7 fails the same way ($rc)" \
	bash -c "test $rc -ne 0 && grep -qF '$missing' <<<\"\$1\"" _ "$out"
out=$("$T" export --hl7 999 2>&1) && rc=0 || rc=$?
check "treadlab export --hl7 of no test says so ($rc)" bash -c "test $rc -ne 0 && grep -q 'no test 999' <<<\"\$1\"" _ "$out"
check "treadlab export --hl7 needs a test id" bash -c "'$T' export --hl7 abc 2>/dev/null; test \$? = 2"

# The record as the daemon keeps it, with demographics and an order added as the
# demographics work will store them (hostile names), and the signed PDF.
build=() want=(--no-ed)
if $signed; then
	"$T" report "$id" -o "$WORK/signed.pdf"
	build=(--pdf "$WORK/signed.pdf") want=(--ed --pdf "$WORK/signed.pdf")
fi
"$T" show "$id" --json | jq '. + {demographics: {mrn: "MRN-77", assigning_authority: "HOSP&EAST",
	family: "Müller|^~\\&\r\nX", given: "Zoë", birth_date: "1950-01-02", sex: "female"},
	order: {accession: "ACC^1", ordering_physician: {id: "P1", family: "House", given: "G~r"}}}' >"$WORK/rec.json"
jq -n '{"PID.5.1": "Müller|^~\\&\r\nX", "PID.5.2": "Zoë", "PID.3.1": "MRN-77",
	"ORC.2.1": "ACC^1", "OBR.16.3": "G~r"}' >"$WORK/expect.json"
check "the daemon's record builds a message" \
	bash -c '"$1" "$2" "${@:4}" --patient-class O >"$3"' _ "$HL7_BUILD" "$WORK/rec.json" "$WORK/daemon.hl7" "${build[@]}"
check "hl7v2 strict parse and our checks: the daemon's record$($signed && echo ', signed PDF embedded')" \
	hl7ok "$WORK/daemon.hl7" --pv1 "${want[@]}" --expect "$WORK/expect.json"
check "the message holds the daemon's own results (PWT as recorded)" \
	grep -q "|NM|PWT^Peak walking time^99TLB||$(jq -r .pwt_s "$WORK/rec.json")|s^s^UCUM|" "$WORK/daemon.hl7"
check "... and the post-exercise ankle pressure it was given" \
	grep -q '|pt-left-post-1|62|mm\[Hg\]' "$WORK/daemon.hl7"
stop_daemon
check "the daemon stops cleanly (status $DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
# Kept for a look.
mkdir -p "$TL_BUILD_DIR/artifacts/hl7"
cp "$WORK/daemon.hl7" "$TL_BUILD_DIR/artifacts/hl7/daemon.hl7"
finish
