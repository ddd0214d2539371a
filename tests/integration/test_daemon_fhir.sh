# The FHIR preview of a test run on the simulated treadmill (GET /v1/tests/{id}/fhir,
# treadlab export --fhir): a signed test's Bundle carries the signed PDF unchanged and
# passes both validators (tests/records/check_fhir.mjs); a record without the patient's
# demographics or the order's accession is refused (422) naming every missing field.
# Where the record has no demographics yet (a build without them), the daemon's record
# plus fixture demographics goes through the builder (fhir_tool) and the validators.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { say "SKIP: node missing"; exit 77; }
[ -d "$TL_SOURCE_DIR/tests/node_modules/@medplum/core" ] && [ -d "$TL_SOURCE_DIR/tests/node_modules/fhir" ] ||
	{ say "SKIP: npm packages missing (npm ci in tests/)"; exit 77; }
: "${FHIR_TOOL:?run through ctest (FHIR_TOOL)}"
CHECK=(node --experimental-websocket "$TL_SOURCE_DIR/tests/records/check_fhir.mjs")

write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient FHIR01 --operator t.nguyen)
for s in brachial-left:140 brachial-right:136 pt-left:98 dp-left:92 pt-right:100 dp-right:96; do
	"$T" pressure "$id" --phase rest --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
check "the walk ends at the patient's max press" wait_for '"state":"recovery"' 30
for s in brachial-left:150 brachial-right:148 pt-left:62 pt-right:70; do
	"$T" pressure "$id" --phase post --minute 1 --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null

has_demographics=$("$T" show "$id" --json | jq 'has("demographics")')
if [ "$has_demographics" = true ]; then
	# The record's patient and order, before signing (the signature covers the name).
	"$T" patient FHIR01 --authority 2.16.840.1.113883.19.5 --family "O'Brien" --given Zoë \
		--birth-date 1956-03-14 --sex female >/dev/null
	"$T" order "$id" --accession ACC-77 --physician-id dr.lee --physician-family Lee >/dev/null
else
	out=$("$T" export --fhir "$id" 2>&1) && rc=0 || rc=$?
	check "without demographics the Bundle is refused ($rc)" test "$rc" = 1
	check "... naming every missing field, with HTTP 422" grep -q \
		'missing demographics.mrn, demographics.assigning_authority, demographics.family, demographics.birth_date, demographics.sex, order.accession (HTTP 422)' \
		<<<"$out"
	say "     $out"
fi

signed=true
printf 'physician-pw-1\n' | "$T" user add dr.ana --role physician >/dev/null
printf 'physician-pw-1\n' | "$T" sign "$id" --user dr.ana >/dev/null
"$T" report "$id" -o "$WORK/signed.pdf"
sig='{signed_by: "dr.ana", signed_at: "2026-11-26T17:00:00.000Z"}'
pdf=("$WORK/signed.pdf")

if [ "$has_demographics" = true ]; then
	check "treadlab export --fhir writes the Bundle" "$T" export --fhir "$id" -o "$WORK/b.json"
else
	# The daemon's own record with the demographics it will have, through the builder.
	"$T" show "$id" --json | jq '. + {demographics: {mrn: "FHIR01",
		assigning_authority: "2.16.840.1.113883.19.5", family: "O'"'"'Brien", given: "Zoë",
		birth_date: "1956-03-14", sex: "female"}, order: {accession: "ACC-77",
		ordering_physician: {id: "dr.lee", family: "Lee", given: null}},
		signature: '"$sig"'}' >"$WORK/rec.json"
	"$FHIR_TOOL" bundle "$WORK/rec.json" "preview-$id" 2026-11-26T17:00:00.000Z "${pdf[@]}" \
		>"$WORK/b.json" && rc=0 || rc=$?
	check "the builder makes the Bundle of the daemon's record ($rc)" test "$rc" = 0
fi
out=$("${CHECK[@]}" "$WORK/b.json" 2>&1) && rc=0 || rc=$?
say "     $(head -5 <<<"$out")"
check "the Bundle passes @medplum/core and fhir ($rc)" test "$rc" = 0
report='.entry[] | .resource | select(.resourceType == "DiagnosticReport")'
if $signed; then
	check "the report is final, signed by dr.ana" \
		test "$(jq -r "$report"' | .status + " " + .resultsInterpreter[0].display' "$WORK/b.json")" = "final dr.ana"
	jq -r "$report | .presentedForm[0].data" "$WORK/b.json" | base64 -d >"$WORK/form.pdf"
	check "its presentedForm is the signed PDF, byte for byte" cmp -s "$WORK/form.pdf" "$WORK/signed.pdf"
else
	check "unsigned, the report is preliminary, without a PDF" \
		test "$(jq -r "$report"' | .status + " " + (.presentedForm | tostring)' "$WORK/b.json")" = "preliminary null"
fi
check "the Patient is created on condition of its MRN" test "$(jq -r '.entry[0].request.ifNoneExist' "$WORK/b.json")" = \
	"identifier=urn:oid:2.16.840.1.113883.19.5|FHIR01"
pwt=$("$T" show "$id" --json | jq .pwt_s)
check "the PWT as recorded ($pwt s)" test "$(jq '.entry[] | .resource | select(.code.coding[0].code == "pwt") | .valueQuantity.value' "$WORK/b.json")" = "$pwt"

if [ "$has_demographics" = true ]; then
	status=$(curl -s -o /dev/null -D "$WORK/h" -w '%{http_code}' --unix-socket "$TREADLAB_SOCKET" \
		"http://treadlabd/v1/tests/$id/fhir")
	check "GET /v1/tests/$id/fhir: 200, application/fhir+json" \
		bash -c "test $status = 200 && grep -qi '^content-type: application/fhir+json' '$WORK/h'"
fi
check "no test 999: 404" expect 404 'no test 999' GET /v1/tests/999/fhir
check "POST is not served: 405" expect 405 'takes GET' POST /v1/tests/$id/fhir
check "--fhir takes a test id" bash -c "'$T' export --fhir x 2>/dev/null; test \$? = 2"
stop_daemon
check "the daemon stops cleanly (sanitizers: no leak, no error)" test "$DAEMON_STATUS" = 0
finish
