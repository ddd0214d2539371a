# The man pages (docs/man/*.scd, built by CMake with scdoc): each renders with `man -l`
# without a single warning, carries this version, and documents what its program
# offers: every treadlab command, every option of treadlabd and treadsim. Skips (77)
# when the build found no scdoc (it then builds no man pages).
source "$(dirname "$0")/lib.sh"

MAN_DIR=${TL_MAN_DIR:-$TL_BUILD_DIR/man}
if grep -q '^SCDOC:FILEPATH=.*NOTFOUND' "$TL_BUILD_DIR/CMakeCache.txt"; then
	say "SKIP: scdoc was not found when the build was configured"
	exit 77
fi
version=$(sed -n 's/^project(treadlab VERSION \([0-9][0-9.]*\).*/\1/p' "$TL_SOURCE_DIR/CMakeLists.txt")
pages="treadlab.1 treadsim.1 treadlabd.conf.5 treadlabd.8"

# man's own check, as lintian runs it: anything on stderr is a warning.
renders_clean() {
	local out
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$1" 2>&1 >/dev/null)
	[ -z "$out" ] || { sed 's/^/     /' <<<"$out"; return 1; }
}
text() { LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$1" 2>/dev/null; }

for p in $pages; do
	f="$MAN_DIR/$p"
	check "$p is built" test -s "$f"
	check "$p renders without warnings" renders_clean "$f"
	check "$p names itself and its version" bash -c "head -n 12 '$f' | grep -q '^\.TH \"${p%.*}\" \"${p##*.}\" .*\"treadlab $version\"'"
	check "$p has NAME, SYNOPSIS and SEE ALSO" bash -c "t=\$(LC_ALL=C.UTF-8 man -l '$f' 2>/dev/null); grep -q '^NAME' <<<\"\$t\" && grep -q '^SYNOPSIS' <<<\"\$t\" && grep -q '^SEE ALSO' <<<\"\$t\""
done

# The check notices a broken page: an unknown macro and a bad escape are warnings.
printf '.TH BROKEN 1\n.SH NAME\nbroken \\- a page\n.XYZZY\nbad \\k escape\n' >"$WORK/broken.1"
check "a broken page is a warning" bash -c "! renders_clean '$WORK/broken.1' >/dev/null"

# treadlab(1) documents every command of treadlab's table.
t1=$(text "$MAN_DIR/treadlab.1")
for c in $(sed -n 's/^\t{"\([a-z-]*\)", cmd_.*/\1/p' "$TL_SOURCE_DIR/src/cli/main.c"); do
	check "treadlab(1) documents '$c'" grep -Eq "^ {7}$c( |$)" <<<"$t1"
done

# treadlabd(8) and treadsim(1) document every long option their --help lists.
options_documented() { # PROGRAM PAGE
	local opts missing=""
	opts=$("$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ] || return 1
	local t
	t=$(text "$MAN_DIR/$2")
	for o in $opts; do
		grep -q -- "$o" <<<"$t" || missing+=" $o"
	done
	[ -z "$missing" ] || { say "     not in $2:$missing"; return 1; }
}
check "treadlabd(8) documents every option of treadlabd --help" options_documented "$D" treadlabd.8
check "treadsim(1) documents every option of treadsim --help" \
	options_documented "$TL_BUILD_DIR/hil/treadsim" treadsim.1
finish
