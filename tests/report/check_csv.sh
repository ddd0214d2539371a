# check_csv.sh: the export's CSV writer read back by Python's csv module (an independent
# parser): every cell round-trips, commas, quotes, CR/LF and non-ASCII text included;
# a cell starting with = + - @ tab or CR comes back with a leading apostrophe; rows end
# in CRLF.
set -euo pipefail
work=$(mktemp -d /tmp/tl_csv.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/cells.json" <<'JSON'
[["plain", "with, comma", "with \"quotes\"", "line\nbreak", "cr\r\nlf", "", null],
 ["=SUM(A1:A2)", "+1", "-2", "@cmd", "\tTAB", "\rCR", "a=b"],
 ["Åsa Øberg", "山田太郎", "محمد", "<b>&amp;</b>", "'already", " lead space", "trail "]]
JSON
"${CSV_CELLS:?}" "$work/cells.json" >"$work/out.csv"
python3 - "$work/cells.json" "$work/out.csv" <<'PY'
import csv, json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
raw = open(sys.argv[2], "rb").read()
fail = 0
def check(ok, what):
    global fail
    print(("ok   " if ok else "FAIL ") + what)
    fail |= not ok
check(raw.endswith(b"\r\n") and raw.count(b"\r\n") >= len(rows), "rows end in CRLF")
with open(sys.argv[2], newline="", encoding="utf-8") as f:
    back = list(csv.reader(f, strict=True))
check(len(back) == len(rows), f"{len(rows)} rows read back ({len(back)})")
for r, (want_row, got_row) in enumerate(zip(rows, back)):
    for k, (w, g) in enumerate(zip(want_row, got_row)):
        w = w or ""
        if w[:1] in ("=", "+", "-", "@", "\t", "\r"):
            w = "'" + w
        check(g == w, f"row {r} cell {k}: {g!r} == {w!r}")
    check(len(got_row) == len(want_row), f"row {r}: {len(want_row)} cells")
sys.exit(fail)
PY
echo "csv round trip: passed"
