#!/usr/bin/env bash
# test_dry_run_cli.sh - the offline commands of the treadlab command line:
#   dry-run gardner-skinner with onset at 200 s and max at 500 s (endpoints against the
#   belt model), 'protocols' (exactly the eight shipped, each with a reference),
#   'protocol show gardner-skinner --json' (120 s stages at 2.0 mph, 0, 2, 4 ... %), and
#   'protocol check' on every bad fixture in tests/data/protocols (non-zero exit, one
#   line on stderr with file:line and the reason the fixture's first line announces).
# Every check runs; any failed check fails the test at the end.
set -euo pipefail

: "${TL_BUILD_DIR:?TL_BUILD_DIR must point at the build directory}"
: "${TL_SOURCE_DIR:?TL_SOURCE_DIR must point at the source tree}"
tl="$TL_BUILD_DIR/treadlab"
[[ -x "$tl" ]] || { echo "FAIL: $tl is not built" >&2; exit 1; }
export TREADLAB_PROTOCOLS="$TL_SOURCE_DIR/protocols"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
pass() { echo "ok:   $*"; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# check FILE JQ-EXPRESSION DESCRIPTION: the expression must be true for FILE.
jq_defs='def absv: if . < 0 then -. else . end;'
check() {
	local file=$1 expr=$2 what=$3
	if jq -e "$jq_defs $expr" "$file" >/dev/null 2>"$tmp/jq.err"; then
		pass "$what"
	else
		fail "$what ($(jq -c "$jq_defs $expr" "$file" 2>&1 | head -c 300))"
	fi
}

# ---- dry run ----
dry="$tmp/dry.json"
if "$tl" dry-run gardner-skinner --onset-at 200 --max-at 500 --json >"$dry" 2>"$tmp/dry.err"; then
	pass "dry-run exits 0"
else
	fail "dry-run exited non-zero: $(cat "$tmp/dry.err")"
fi
if jq -e . "$dry" >/dev/null 2>&1; then
	check "$dry" '.protocol == "gardner-skinner"' "dry-run protocol"
	check "$dry" '(.cot_s | type) == "number" and ((.cot_s - 200.0) | absv) <= 0.1' "cot_s 200.0 within 0.1 s"
	check "$dry" '(.pwt_s | type) == "number" and ((.pwt_s - 500.0) | absv) <= 0.1' "pwt_s 500.0 within 0.1 s"
	check "$dry" '.model.icd_m > 0 and ((.icd_m - .model.icd_m) | absv) <= 0.01 * .model.icd_m' \
		"icd_m within 1 % of model.icd_m"
	check "$dry" '.model.acd_m > .model.icd_m and ((.acd_m - .model.acd_m) | absv) <= 0.01 * .model.acd_m' \
		"acd_m within 1 % of model.acd_m"
	check "$dry" '.end_reason == "max_claudication"' "end_reason max_claudication"
	check "$dry" '[.events[] | select(.kind == "onset")] | length == 1' "one onset event"
	check "$dry" '[.events[] | select(.kind == "max")] | length == 1' "one max event"
else
	fail "dry-run output is not JSON"
fi

# ---- protocols ----
list="$tmp/protocols.json"
if "$tl" protocols --json >"$list" 2>"$tmp/list.err"; then
	pass "protocols exits 0"
else
	fail "protocols exited non-zero: $(cat "$tmp/list.err")"
fi
expected='["bruce","constant-2mph-10pct","constant-3kmh-12pct","deen-level","gardner-skinner","hiatt","modified-bruce","two-stage"]'
check "$list" "length == 8" "exactly eight protocols"
check "$list" "[.[].name] | sort == $expected" "the eight shipped protocol names"
check "$list" 'all(.[]; (.reference | type) == "string" and (.reference | length) > 10)' \
	"every protocol has a reference"
check "$list" 'all(.[]; (.title | length) > 0)' "every protocol has a title"
# The plain listing shows the same eight names.
plain_names=$("$tl" protocols | awk 'NF && $0 !~ /^ / {print $1}' | sort | tr '\n' ' ')
want_names=$(jq -r '.[]' <<<"$expected" | sort | tr '\n' ' ')
if [[ "$plain_names" == "$want_names" ]]; then
	pass "plain listing names"
else
	fail "plain listing names: '$plain_names'"
fi

# ---- protocol show ----
show="$tmp/show.json"
if "$tl" protocol show gardner-skinner --json >"$show" 2>"$tmp/show.err"; then
	pass "protocol show exits 0"
else
	fail "protocol show exited non-zero: $(cat "$tmp/show.err")"
fi
check "$show" '.name == "gardner-skinner" and .units == "mph"' "show: name and units"
check "$show" '(.stages | length) > 0 and all(.stages[]; .kind == "walk" and .speed_mph == 2 and .speed_kmh == 3.218688)' \
	"show: every stage at 2.0 mph (3.218688 km/h)"
check "$show" '[.stages[].grade_pct] | .[0:13] == [0,2,4,6,8,10,12,14,16,18,20,22,24]' \
	"show: grades 0, 2, 4 ... 24 %"
check "$show" 'all(.stages[]; .grade_pct == ([2 * .index, 24] | min))' "show: grade rises 2 % a stage to the cap"
check "$show" 'all(.stages[]; .duration_s == 120)' "show: every stage is 120 s"
check "$show" '[.stages[] | .start_s] == [range(0; .stages | length) | . * 120]' "show: stages start every 120 s"
check "$show" '(.stages[-1].start_s + .stages[-1].duration_s) == .max_duration_s' "show: stages end at max_duration_s"

# ---- protocol check ----
good="$TL_SOURCE_DIR/protocols/bruce.protocol"
if "$tl" protocol check "$good" >"$tmp/good.out" 2>"$tmp/good.err" && grep -q "ok" "$tmp/good.out"; then
	pass "check accepts bruce.protocol"
else
	fail "check refused bruce.protocol: $(cat "$tmp/good.err")"
fi
n_fixtures=0
for f in "$TL_SOURCE_DIR"/tests/data/protocols/*.protocol; do
	n_fixtures=$((n_fixtures + 1))
	header=$(head -n 1 "$f")
	if [[ ! "$header" =~ ^\#\ expect:\ line\ ([0-9]+):\ (.*)$ ]]; then
		fail "$f: first line is not '# expect: line N: reason'"
		continue
	fi
	line=${BASH_REMATCH[1]}
	reason=${BASH_REMATCH[2]}
	rc=0
	"$tl" protocol check "$f" >"$tmp/check.out" 2>"$tmp/check.err" || rc=$?
	name=$(basename "$f")
	if [[ $rc -eq 0 ]]; then
		fail "$name: check exited 0"
		continue
	fi
	if [[ $(wc -l <"$tmp/check.err") -ne 1 ]]; then
		fail "$name: stderr is not one line: $(cat "$tmp/check.err")"
		continue
	fi
	msg=$(cat "$tmp/check.err")
	if [[ "$msg" == *"$f:$line: "* && "$msg" == *"$reason"* ]]; then
		pass "$name: exit $rc, '$msg'"
	else
		fail "$name: '$msg' lacks '$f:$line: ' or '$reason'"
	fi
	if [[ -s "$tmp/check.out" ]]; then
		fail "$name: check printed on stdout: $(cat "$tmp/check.out")"
	fi
done
if [[ $n_fixtures -lt 8 ]]; then
	fail "only $n_fixtures bad fixtures found"
fi

if [[ $failures -ne 0 ]]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
