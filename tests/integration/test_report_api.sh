# The report and the research export through the daemon (issue 12): treadlab report
# writes the PDF the daemon renders with the [report] options, the same bytes each time;
# a signed version is served unchanged until the record changes, then a preliminary
# rendering says what it amends; treadlab export --csv gives every test, read back by
# Python's csv module, with formula-looking text neutralised and the date bounds kept.
source "$(dirname "$0")/lib.sh"
command -v pdftotext >/dev/null || { say "SKIP: pdftotext (poppler-utils) missing"; exit 77; }
DATA="$TL_SOURCE_DIR/tests/data/report"

printf 'Walk every day for 30 minutes.\nSeek care urgently if your foot turns cold.\n' >"$WORK/guide.txt"
write_config "$WORK/d.conf" "[daemon]" "tick_hz = 100" \
	"[sim]" "time_scale = 20" "patient_onset_s = 60" "patient_max_s = 120" \
	"[report]" "paper = letter" "lab_name = Vascular Lab, Test Hospital" \
	'lab_address = 1 Test Road\n9999 Testville' "logo = $DATA/logo.png" \
	"patient_page = true" "patient_guidance = $WORK/guide.txt"
start_daemon "$WORK/d.conf"

id=$("$T" start --protocol gardner-skinner --patient REP01 --operator '=SUM(1,2) "boss", x')
for s in brachial-left:140 brachial-right:136 pt-left:98 dp-left:92 pt-right:100 dp-right:96; do
	"$T" pressure "$id" --phase rest --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
check "the walk ends at the patient's max press" wait_for '"state":"recovery"' 30
for s in brachial-left:150 brachial-right:148 pt-left:62 pt-right:70; do
	"$T" pressure "$id" --phase post --minute 1 --site "${s%%:*}" --mmhg "${s##*:}" >/dev/null
done
"$T" relief --posture standing >/dev/null
"$T" finish >/dev/null
rec=$("$T" show "$id" --json)

check "treadlab report writes the PDF" "$T" report "$id" -o "$WORK/r1.pdf"
# Kept for a look: the report of a test run on the simulator, page by page.
mkdir -p "$TL_BUILD_DIR/artifacts/report"
cp "$WORK/r1.pdf" "$TL_BUILD_DIR/artifacts/report/daemon.pdf"
rm -f "$TL_BUILD_DIR/artifacts/report/daemon-"*.png
pdftoppm -r 50 -png "$WORK/r1.pdf" "$TL_BUILD_DIR/artifacts/report/daemon"
say "pages: $TL_BUILD_DIR/artifacts/report/daemon-*.png"
info=$(pdfinfo "$WORK/r1.pdf")
txt=$(pdftotext -layout "$WORK/r1.pdf" -)
check "US Letter, as configured" grep -q 'Page size:.*(letter)' <<<"$info"
pages=$(awk '/^Pages:/ {print $2}' <<<"$info")
check "the last of its $pages pages is the patient's" \
	bash -c "pdftotext -f $pages -l $pages '$WORK/r1.pdf' - | grep -q 'Your walking test: what it showed'"
check "the lab's name and address" bash -c "grep -q 'Vascular Lab, Test Hospital' <<<'$txt' && grep -q '9999 Testville' <<<'$txt'"
pwt=$(jq -r .pwt_s <<<"$rec" | awk '{ printf "%.1f", $1 }')
check "PWT as recorded ($pwt s)" grep -Eq "^PWT +$pwt s" <<<"$txt"
check "preliminary until signed" grep -q 'Preliminary - not signed' <<<"$txt"
check "the lab's guidance on the patient's page" grep -q 'Seek care urgently if your foot turns cold' <<<"$txt"
"$T" report "$id" -o "$WORK/r2.pdf"
check "the same record gives the same bytes" cmp -s "$WORK/r1.pdf" "$WORK/r2.pdf"
check "the report of no test is refused, saying so" \
	bash -c "'$T' report 999 -o '$WORK/x.pdf' 2>&1 | grep -q 'no test 999' && test ! -e '$WORK/x.pdf'"
check "a test id is required" bash -c "'$T' report abc -o '$WORK/x.pdf'; test \$? = 2"

# Signing: a physician's account and password, at every signature; nobody else.
printf 'physician-pw-1\n' | "$T" user add dr.ana --role physician >/dev/null
printf 'technician-pw-1\n' | "$T" user add tech.bo --role technician >/dev/null
out=$(printf 'technician-pw-1\n' | "$T" sign "$id" --user tech.bo 2>&1) && rc=0 || rc=$?
check "a technician cannot sign ($rc)" bash -c "test $rc -ne 0 && grep -q 'only a physician signs a report' <<<'$out'"
out=$(printf 'wrong-password\n' | "$T" sign "$id" --user dr.ana 2>&1) && rc=0 || rc=$?
check "nor a physician with a wrong password" bash -c "test $rc -ne 0 && grep -q 'wrong user name or password' <<<'$out'"
check "nothing was signed by either" test "$(sqlite3 "$WORK/treadlab.db" 'SELECT count(*) FROM reports')" = 0
out=$(printf 'physician-pw-1\n' | "$T" sign "$id" --user dr.ana)
check "the physician signs: version 1 ($out)" grep -q "report version 1 signed by dr.ana at" <<<"$out"
at=$(sqlite3 "$WORK/treadlab.db" "SELECT signed_at FROM reports WHERE test_id = $id AND version = 1")
sha=$(sqlite3 "$WORK/treadlab.db" "SELECT pdf_sha256 FROM reports WHERE test_id = $id AND version = 1")
"$T" report "$id" -o "$WORK/r3.pdf"
check "the signed bytes are served unchanged" test "$(sha256sum <"$WORK/r3.pdf" | cut -d' ' -f1)" = "$sha"
check "... and say who signed" grep -q 'Signed by dr.ana' <<<"$(pdftotext -layout "$WORK/r3.pdf" -)"
check "the signature is in the audit trail" \
	test "$(sqlite3 "$WORK/treadlab.db" "SELECT count(*) FROM audit WHERE command = 'sign' AND operator = 'dr.ana' AND result = 'ok'")" = 1
"$T" pressure "$id" --phase post --minute 3 --site pt-left --mmhg 90 >/dev/null
"$T" report "$id" -o "$WORK/r4.pdf"
t4=$(pdftotext -layout "$WORK/r4.pdf" -)
check "a changed record gives a preliminary rendering" grep -q 'Preliminary - not signed' <<<"$t4"
amended_at=$(sed -E 's/^([0-9-]+)T([0-9]+:[0-9]+).*/\1 \2 UTC/' <<<"$at")
check "... that names the signed version it amends" \
	grep -q "Amended after signed version 1 (signed by dr.ana at $amended_at)" <<<"$t4"
out=$(printf 'physician-pw-1\n' | "$T" sign "$id" --user dr.ana)
check "signing again makes version 2" grep -q "report version 2 signed by dr.ana" <<<"$out"
check "version 1 is kept as it was signed" \
	test "$(sqlite3 "$WORK/treadlab.db" "SELECT pdf_sha256 FROM reports WHERE test_id = $id AND version = 1")" = "$sha"
check "the signed version is kept as signed" \
	test "$(sqlite3 "$WORK/treadlab.db" 'SELECT count(*) FROM reports WHERE version = 1')" = 1

# The research export.
id2=$("$T" start --protocol gardner-skinner --patient REP02 --operator '@hostile')
out=$(printf 'physician-pw-1\n' | "$T" sign "$id2" --user dr.ana 2>&1) && rc=0 || rc=$?
check "a test in progress is not signed ($rc)" bash -c "test $rc -ne 0 && grep -q 'still in progress' <<<'$out'"
"$T" estop >/dev/null
wait_for '"state":"(emergency_stopped|recovery|complete)"' 30 || true
check "treadlab export --csv" "$T" export --csv -o "$WORK/all.csv"
check "every field reads back with Python's csv module" python3 - "$WORK/all.csv" "$id" "$id2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
by = {r["test_id"]: r for r in rows}
a, b = by[sys.argv[2]], by[sys.argv[3]]
assert len(rows) == 2, rows
assert a["operator"] == "'=SUM(1,2) \"boss\", x", a["operator"]
assert b["operator"] == "'@hostile", b["operator"]
assert a["patient"] == "REP01" and a["end_reason"] == "max_claudication"
assert a["pwt_censored"] == "false" and float(a["abi_rest_left"]) == 0.7, a
assert a["category"] != "" and a["criteria_left"] != ""
assert b["end_reason"] == "emergency_stop" and b["abi_rest_left"] == "" and b["cot_s"] == ""
print("ok")
PY
check "the header names the data dictionary's columns" \
	bash -c "head -1 '$WORK/all.csv' | grep -q '^test_id,patient,protocol,operator,state,end_reason,started_at'"
today=$(date -u +%F)
tomorrow=$(date -u -d tomorrow +%F)
yesterday=$(date -u -d yesterday +%F)
check "--from today --to today holds both tests" test "$("$T" export --csv --from "$today" --to "$today" | wc -l)" = 3
check "--from tomorrow holds none" test "$("$T" export --csv --from "$tomorrow" | wc -l)" = 1
check "--to yesterday holds none" test "$("$T" export --csv --to "$yesterday" | wc -l)" = 1
check "an impossible date is refused by the daemon" \
	bash -c "'$T' export --csv --from 2026-02-30 2>&1 | grep -q \"from '2026-02-30' is not a date\""
check "a date in another form is refused" bash -c "'$T' export --csv --to 26/11/2026 2>/dev/null; test \$? = 2"
finish
