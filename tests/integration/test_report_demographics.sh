# The signed report and the patient's demographics (issue 13; docs/demographics.md,
# Signed reports): the report names the patient and the birth date; an accession, an
# ordering physician or an assigning authority entered after signing leaves the signed
# bytes served; a birth date changed after signing gives an amended rendering.
source "$(dirname "$0")/lib.sh"
command -v pdftotext >/dev/null || { say "SKIP: pdftotext (poppler-utils) is not installed"; exit 77; }

write_config "$WORK/d.conf" "[sim]" "time_scale = 20"
start_daemon "$WORK/d.conf"
printf 'phys-pass-1\n' | "$T" user add paul --role physician >/dev/null
"$T" patient PAT01 --authority HOSP --family Tech --given Ann --birth-date 1950-03-01 --sex female >/dev/null
id=$("$T" start --protocol gardner-skinner --patient PAT01 --operator alice)
"$T" estop >/dev/null
out=$(printf 'phys-pass-1\n' | "$T" sign "$id" --user paul)
check "paul signs version 1" grep -q "report version 1 signed by paul" <<<"$out"
"$T" report "$id" -o "$WORK/r1.pdf"
t1=$(pdftotext -layout "$WORK/r1.pdf" -)
check "the report names the patient" grep -Eq 'Name +Tech, Ann' <<<"$t1"
check "... with the birth date and sex" grep -Eq 'Born, sex +1950-03-01, female' <<<"$t1"
"$T" order "$id" --accession ACC-AFTER --physician-id P9 >/dev/null
"$T" patient PAT01 --authority OTHER >/dev/null
"$T" report "$id" -o "$WORK/r2.pdf"
check "an accession, physician or authority entered after signing: the signed bytes still" \
	cmp -s "$WORK/r1.pdf" "$WORK/r2.pdf"
"$T" patient PAT01 --birth-date 1950-03-02 >/dev/null
"$T" report "$id" -o "$WORK/r3.pdf"
t3=$(pdftotext -layout "$WORK/r3.pdf" -)
check "a birth date changed after signing: an amended rendering" \
	grep -q 'Amended after signed version 1 (signed by paul' <<<"$t3"
check "... showing the new birth date" grep -Eq 'Born, sex +1950-03-02, female' <<<"$t3"
stop_daemon
check "the daemon stops cleanly (status $DAEMON_STATUS)" test "$DAEMON_STATUS" = 0
finish
