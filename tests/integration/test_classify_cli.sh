#!/usr/bin/env bash
# treadlab classify on the issue's four acceptance vignettes and on bad input: checks
# category, criteria, red flags and exit codes with jq. Any failed check fails the test.
set -euo pipefail

: "${TL_BUILD_DIR:?TL_BUILD_DIR must point at the build directory}"
: "${TL_SOURCE_DIR:?TL_SOURCE_DIR must point at the source tree}"
bin="$TL_BUILD_DIR/treadlab"
vignettes="$TL_SOURCE_DIR/tests/data/vignettes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
check() { # check LEGEND COMMAND...: runs the command, counts a failure if it fails
	local legend=$1
	shift
	if "$@"; then
		echo "ok   $legend"
	else
		echo "FAIL $legend"
		failures=$((failures + 1))
	fi
}

# classify NAME: writes the vignette's findings to $tmp/NAME.json and the result to
# $tmp/NAME.out; the exit status is kept in $tmp/NAME.rc.
classify() {
	local name=$1
	jq '.findings' "$vignettes/$name.json" >"$tmp/$name.json"
	local rc=0
	"$bin" classify "$tmp/$name.json" --json >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
}

jqt() { # jqt NAME FILTER: the filter must print true
	[ "$(jq -r "$2" "$tmp/$1.out")" = "true" ]
}

# 1. Classic calf claudication, resting ABI 0.70, post-exercise fall.
classify acc-vascular-calf
check "vascular: exit 0" [ "$(cat "$tmp/acc-vascular-calf.rc")" = 0 ]
check "vascular: category" jqt acc-vascular-calf '.category == "vascular"'
check "vascular: resting ABI 0.70 abnormal" \
	jqt acc-vascular-calf '.abi.left.rest == 0.7 and .abi.left.rest_category == "abnormal"'
check "vascular: criteria fired" jqt acc-vascular-calf \
	'.abi.left.criteria | index("post_abi_le_0_90") != null and index("abi_fall_gt_20pct") != null and index("ankle_fall_gt_30mmhg") != null'
check "vascular: right leg fired nothing" jqt acc-vascular-calf '.abi.right.criteria == []'
check "vascular: no red flags" jqt acc-vascular-calf '.red_flags == []'
check "vascular: findings carry sources" jqt acc-vascular-calf \
	'(.findings | length) > 0 and all(.findings[]; (.source | length) > 0)'

# 2. Bilateral thigh pain relieved by sitting, tingling, normal ABI before and after.
classify acc-neurogenic-thigh
check "neurogenic: exit 0" [ "$(cat "$tmp/acc-neurogenic-thigh.rc")" = 0 ]
check "neurogenic: category" jqt acc-neurogenic-thigh '.category == "neurogenic"'
check "neurogenic: no criteria" \
	jqt acc-neurogenic-thigh '.abi.left.criteria == [] and .abi.right.criteria == []'
check "neurogenic: normal ABI counted against vascular" jqt acc-neurogenic-thigh \
	'any(.findings[]; .points_to == "against_vascular")'

# 3. Both patterns together.
classify acc-mixed
check "mixed: category" jqt acc-mixed '.category == "mixed"'
check "mixed: vascular and neurogenic findings" jqt acc-mixed \
	'any(.findings[]; .points_to == "vascular") and any(.findings[]; .points_to == "neurogenic")'

# 4. Rest pain with ankle pressure 40 mmHg.
classify acc-cli-rest-pain
check "CLI: exit 0" [ "$(cat "$tmp/acc-cli-rest-pain.rc")" = 0 ]
check "CLI: red flag raised" \
	jqt acc-cli-rest-pain '[.red_flags[].code] | index("critical_limb_ischemia") != null'
check "CLI: reason names the pressure" \
	jqt acc-cli-rest-pain '.red_flags[0].reason | test("40 mmHg")'

# The readable report puts red flags before the category.
"$bin" classify "$tmp/acc-cli-rest-pain.json" >"$tmp/report.txt"
flag_line=$(grep -n 'critical_limb_ischemia' "$tmp/report.txt" | head -1 | cut -d: -f1)
cat_line=$(grep -n '^category:' "$tmp/report.txt" | cut -d: -f1)
check "report: red flags first" [ "${flag_line:-999}" -lt "${cat_line:-0}" ]

# Issue 17: warnings, censored endpoints and severity grades, in JSON and in the report.
classify estop-censored-interarm
check "estop: category" jqt estop-censored-interarm '.category == "vascular"'
check "estop: inter-arm warning with its source" jqt estop-censored-interarm \
	'(.warnings | length) == 1 and (.warnings[0].warning | test("20 mmHg \\(>= 15\\)")) and (.warnings[0].source | test("Clark"))'
check "estop: PWT censored" jqt estop-censored-interarm \
	'.endpoints.pwt.censored and .endpoints.pwt.censored_by == "emergency_stop" and .endpoints.pwt.text == "more than 8.1 s: emergency stop"'
check "estop: ACD censored" jqt estop-censored-interarm '.endpoints.acd.text == "more than 7.2 m: emergency stop"'
check "estop: Rutherford not graded, says why" jqt estop-censored-interarm \
	'.severity.rutherford.grade == null and (.severity.rutherford.criteria | test("emergency stop"))'
"$bin" classify "$tmp/estop-censored-interarm.json" >"$tmp/estop.txt"
check "report: warning shown" grep -q '^WARNINGS' "$tmp/estop.txt"
check "report: censored PWT" grep -q '^PWT  more than 8.1 s: emergency stop' "$tmp/estop.txt"
check "report: censored ACD" grep -q '^ACD  more than 7.2 m: emergency stop' "$tmp/estop.txt"

classify rutherford-3-severe-band
check "grades: Rutherford 3" jqt rutherford-3-severe-band '.severity.rutherford.grade == "3"'
check "grades: Fontaine IIb" jqt rutherford-3-severe-band '.severity.fontaine.grade == "IIb"'
check "grades: left band severe with its criteria" jqt rutherford-3-severe-band \
	'.severity.abi_band.left.band == "severe" and (.severity.abi_band.left.criteria | test("< 0.40"))'
check "grades: PWT not censored" jqt rutherford-3-severe-band '.endpoints.pwt.censored == false'
"$bin" classify "$tmp/rutherford-3-severe-band.json" >"$tmp/grades.txt"
check "report: Rutherford line" grep -Eq '^  Rutherford +3 ' "$tmp/grades.txt"
check "report: Fontaine line" grep -Eq '^  Fontaine +IIb ' "$tmp/grades.txt"
check "report: severe band" grep -q 'ABI left     severe: < 0.40' "$tmp/grades.txt"

# Standard input.
rc=0
jq '.findings' "$vignettes/acc-mixed.json" | "$bin" classify - --json >"$tmp/stdin.out" || rc=$?
check "stdin: exit 0" [ "$rc" = 0 ]
check "stdin: same category" [ "$(jq -r .category "$tmp/stdin.out")" = mixed ]

# Bad input: exit 1, one line on stderr naming the file and the field path.
printf '{"post": [{"minute": 1}, {"minute": 3}, {"minute": 5, "pt_left": 412}]}\n' >"$tmp/bad.json"
rc=0
"$bin" classify "$tmp/bad.json" --json >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
check "bad: exit 1" [ "$rc" = 1 ]
check "bad: nothing on stdout" [ ! -s "$tmp/bad.out" ]
check "bad: one line on stderr" [ "$(wc -l <"$tmp/bad.err")" = 1 ]
check "bad: message names file and field" \
	[ "$(cat "$tmp/bad.err")" = "treadlab: $tmp/bad.json: post[2].pt_left: 412 is above 300 mmHg" ]

rc=0
"$bin" classify "$tmp/missing.json" 2>/dev/null || rc=$?
check "missing file: exit 1" [ "$rc" = 1 ]
rc=0
"$bin" classify 2>/dev/null || rc=$?
check "no argument: usage exit 2" [ "$rc" = 2 ]

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
