# check_errors.sh: bad report inputs fail with a message saying what and where, and no PDF.
set -euo pipefail
work=$(mktemp -d /tmp/tl_report_err.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=${TL_SOURCE_DIR:?}/tests/data/report
fail=0
printf '\xff\xfe not text' >"$work/bad.txt"
printf 'not a png' >"$work/bad.png"
# expect NAME JQ-EDIT MESSAGE: the estop case edited by JQ-EDIT fails with MESSAGE.
expect() {
	jq "$2" "$src/estop.json" >"$work/case.json"
	local out
	if out=$("${REPORT_RENDER:?}" "$work/case.json" "$work/out.pdf" 2>&1); then
		echo "FAIL $1: rendered"; fail=1
	elif grep -qF -- "$3" <<<"$out" && [ ! -e "$work/out.pdf" ]; then
		echo "ok   $1: $out"
	else
		echo "FAIL $1: '$out' does not say '$3'"; fail=1
	fi
	rm -f "$work/out.pdf"
}
expect "guidance not UTF-8" '.opts.guidance = "bad.txt" | .opts.patient_page = true' \
	"patient_guidance is not UTF-8 text (byte 0)"
expect "logo not a PNG" '.opts.logo = "bad.png"' "logo $work/bad.png:"
expect "no record id" 'del(.record.id)' 'the record is not a test record (no integer "id")'
expect "samples not an array" '.samples = {}' "the samples are not an array"
[ $fail -eq 0 ] && echo "report.errors: passed"
