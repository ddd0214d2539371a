# check_report.sh CASE: renders tests/data/report/CASE.json twice and checks the PDF.
#
# - the same bytes both times (the report is deterministic);
# - pdfinfo: the page count and size in tests/data/report/CASE.expect;
# - pdftotext -layout: every "text REGEX" line of CASE.expect matches a line of the text,
#   no "notext REGEX" line does;
# - pdftoppm: each page, grey at 40 dpi, within pgmcmp.py's tolerance of its golden image
#   tests/data/report/golden/CASE-N.pgm.gz.
# The pages are left as PNG (50 dpi) in $TL_BUILD_DIR/artifacts/report. TL_REGEN_GOLDEN=1
# writes the golden images from this rendering instead of comparing (look at them first).
set -euo pipefail
case_name=$1
src=${TL_SOURCE_DIR:?}/tests/data/report
out=${TL_BUILD_DIR:?}/artifacts/report
render=${REPORT_RENDER:?}
mkdir -p "$out"
fail=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; fail=1; }

pdf=$out/$case_name.pdf
"$render" "$src/$case_name.json" "$pdf"
"$render" "$src/$case_name.json" "$out/$case_name.again.pdf"
if cmp -s "$pdf" "$out/$case_name.again.pdf"; then ok "same bytes on a second run"; else bad "the second run gave other bytes"; fi
rm -f "$out/$case_name.again.pdf"

info=$(pdfinfo "$pdf")
txt=$(pdftotext -layout "$pdf" -)
printf '%s\n' "$txt" >"$out/$case_name.txt"
while IFS= read -r line; do
	key=${line%% *} val=${line#* }
	case $key in
	pages)
		n=$(awk '/^Pages:/ {print $2}' <<<"$info")
		if [ "$n" = "$val" ]; then ok "$val pages"; else bad "$n pages, expected $val"; fi ;;
	size)
		if grep -qi "^Page size:.*($val)" <<<"$info"; then ok "page size $val"; else bad "page size: $(grep '^Page size' <<<"$info"), expected $val"; fi ;;
	text)
		if grep -Eq -- "$val" <<<"$txt"; then ok "text /$val/"; else bad "no text /$val/"; fi ;;
	notext)
		if grep -Eq -- "$val" <<<"$txt"; then bad "text /$val/ should not be there"; else ok "no text /$val/"; fi ;;
	''|'#'*) ;;
	*) bad "CASE.expect: unknown line '$line'" ;;
	esac
done <"$src/$case_name.expect"

rm -f "$out/$case_name"-*.pgm "$out/$case_name"-*.png
pdftoppm -r 40 -gray "$pdf" "$out/$case_name"
pdftoppm -r 50 -png "$pdf" "$out/$case_name"
golden=$src/golden
if [ "${TL_REGEN_GOLDEN:-}" = 1 ]; then
	mkdir -p "$golden"
	rm -f "$golden/$case_name"-*.pgm.gz
	for p in "$out/$case_name"-*.pgm; do
		gzip -n -9 -c "$p" >"$golden/$(basename "$p").gz"
	done
	echo "golden images of $case_name written to $golden"
else
	pages=("$out/$case_name"-*.pgm)
	goldens=("$golden/$case_name"-*.pgm.gz)
	if [ ${#pages[@]} -ne ${#goldens[@]} ]; then
		bad "${#pages[@]} page images, ${#goldens[@]} golden ones"
	fi
	for g in "${goldens[@]}"; do
		p=$out/$(basename "$g" .gz)
		if [ ! -f "$p" ]; then bad "no page for $(basename "$g")"; continue; fi
		if python3 "$(dirname "$0")/pgmcmp.py" "$g" "$p"; then ok "$(basename "$p") matches its golden image"; else bad "$(basename "$p") differs from its golden image"; fi
	done
fi
echo "pages: $out/$case_name-*.png"
if [ $fail -ne 0 ]; then echo "report.$case_name: FAILED"; exit 1; fi
echo "report.$case_name: passed"
