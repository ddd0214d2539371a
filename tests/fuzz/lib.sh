# lib.sh - what run-short and run-long share (sourced): the clang build of the fuzz
# targets and each target's seed directories, taken from the repository's own files.
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${TL_FUZZ_BUILD:-$SRC/build-fuzz}
TARGETS=(protocol config profile trackmaster modbus findings api_body hl7)

# fuzz_build: configures and builds the targets with clang (ASan + UBSan + coverage).
fuzz_build() {
	CC=clang cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTREADLAB_FUZZ=ON -DTREADLAB_WERROR=ON >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" --target fuzz_targets >/dev/null
}

# seed_dirs TARGET: prints the target's seed directories, one a line: the committed
# tests/fuzz/corpus/TARGET (regressions, hand-made frames) and the repository's files of
# that kind. The findings seeds are the "findings" member of each classifier vignette,
# written to $BUILD/seeds/findings.
seed_dirs() {
	local t=$1
	[ -d "$SRC/tests/fuzz/corpus/$t" ] && echo "$SRC/tests/fuzz/corpus/$t"
	case $t in
	protocol) echo "$SRC/protocols"; echo "$SRC/tests/data/protocols" ;;
	config)
		mkdir -p "$BUILD/seeds/config"
		cp "$SRC"/config/*.conf "$BUILD/seeds/config/"
		echo "$BUILD/seeds/config" ;;
	profile) echo "$SRC/config/devices" ;;
	findings)
		mkdir -p "$BUILD/seeds/findings"
		local f
		for f in "$SRC"/tests/data/vignettes/*.json; do
			jq -c .findings "$f" >"$BUILD/seeds/findings/$(basename "$f")"
		done
		echo "$BUILD/seeds/findings" ;;
	hl7) echo "$SRC/tests/data/hl7" ;;
	esac
}

# fuzz_run TARGET WORK_CORPUS LOG [libFuzzer options]: runs one target on a corpus of
# its own (first directory: where new inputs go) and its seeds; crash files go to
# $BUILD/crashes/TARGET-*. Returns the target's status.
fuzz_run() {
	local t=$1 corpus=$2 log=$3
	shift 3
	mkdir -p "$corpus" "$BUILD/crashes"
	local seeds
	mapfile -t seeds < <(seed_dirs "$t")
	"$BUILD/tests/fuzz/fuzz_$t" -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t-" \
		"$@" "$corpus" "${seeds[@]}" >"$log" 2>&1
}

# fuzz_figures LOG: "executions cov ft corpus" of a finished run (corpus: the inputs
# libFuzzer keeps, as it counts them).
fuzz_figures() {
	awk '/stat::number_of_executed_units/ { n = $2 }
		/(DONE|INITED|NEW|REDUCE|pulse) +cov:/ { for (i = 1; i <= NF; i++) {
			if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1)
			if ($i == "corp:") { split($(i + 1), a, "/"); k = a[1] } } }
		END { printf "%s %s %s %s\n", n, c, f, k }' "$1"
}
