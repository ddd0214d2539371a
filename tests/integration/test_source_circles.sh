# No two source files call into each other in a circle (a file depends on another when
# it calls a function the other defines): the layers stay layers.
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { say "python3 is not installed"; exit 77; }
out=$(cd "$TL_SOURCE_DIR" && python3 tests/tools/circles.py src drivers hil 2>&1) && rc=0 || rc=$?
check "no circles between source files${out:+: $out}" test "$rc" -eq 0
# The checker finds one when there is one.
mkdir -p "$WORK/src"
printf 'int tl_a(void)\n{\n\treturn tl_b();\n}\n' >"$WORK/src/a.c"
printf 'int tl_b(void)\n{\n\treturn tl_a();\n}\n' >"$WORK/src/b.c"
check "the checker sees a circle" bash -c "! python3 '$TL_SOURCE_DIR/tests/tools/circles.py' '$WORK/src' >/dev/null"
finish
