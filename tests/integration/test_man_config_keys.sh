# treadlabd.conf(5) cannot drift from the code: the keys it documents are exactly the
# keys treadlabd accepts, each documented default and range is the one treadlabd
# enforces (both ends accepted, a hair beyond either refused), and config/treadlabd.conf
# lists the same keys with the same defaults.
#
# The daemon's own keys are found by asking the program, not by reading the parser's
# shape: every identifier-like string literal in src/daemon/config*.c is tried as a
# section and as a key of each section with `treadlabd --check-config`; a key is
# accepted when the error, if any, is not "unknown key". The treadmill drivers' and the
# cuff sources' keys come from their option tables, printed by `treadlabd
# --list-options`, and are documented under "## driver = NAME" or "## source = NAME" in
# their section of the page.
source "$(dirname "$0")/lib.sh"

PAGE="$TL_SOURCE_DIR/docs/man/treadlabd.conf.5.scd"
CONF="$TL_SOURCE_DIR/config/treadlabd.conf"

# probe TEXT: treadlabd --check-config on a file holding TEXT; prints its output.
probe() {
	printf '%b\n' "$1" >"$WORK/p.conf"
	"$D" --config "$WORK/p.conf" --check-config 2>&1 || true
}
accepted() { probe "$1" | grep -q ': ok'; }

# The probe tells the three cases apart (else the enumeration below would prove nothing).
check "an unknown section is told" grep -q 'unknown section' <<<"$(probe '[nosuchsection]\nx = 1')"
check "an unknown key is told" grep -q 'unknown key' <<<"$(probe '[daemon]\nnosuchkey = 1')"
check "a known key is accepted" accepted '[daemon]\ntick_hz = 10'

words=$(cat "$TL_SOURCE_DIR"/src/daemon/config*.c | grep -o '"[a-z][a-z0-9_]*"' | tr -d '"' | sort -u)
sections=""
for w in $words; do
	probe "[$w]\nzz_no_such_key = 1" | grep -q 'unknown section' || sections+=" $w"
done
code_keys=$(for s in $sections; do
	for w in $words; do
		probe "[$s]\n$w = ?" | grep -q 'unknown key' || echo "$s $w"
	done
done | sort)
check "the code's sections were found ($(echo $sections))" test "$(wc -w <<<"$sections")" -ge 7
check "the daemon's keys were found ($(wc -l <<<"$code_keys"))" test "$(wc -l <<<"$code_keys")" -ge 30

# The drivers' keys: "driver<TAB>section<TAB>key<TAB>kind<TAB>default<TAB>range<TAB>help".
list=$("$D" --list-options)
check "--list-options prints the drivers' tables" test "$(awk -F'\t' 'NF == 7' <<<"$list" | wc -l)" -ge 10
check "... and the cuff sources'" test "$(awk -F'\t' 'NF == 7 && $2 == "cuff"' <<<"$list" | wc -l)" -ge 10
drv_keys=$(awk -F'\t' '{ print $2 " " $3 " " $1 }' <<<"$list" | sort)
all_keys=$(printf '%s\n%s\n' "$code_keys" "$drv_keys" | sort)

# The page: "# [section]" headings, "## driver = NAME" subheadings, then "*key* = ..."
# lines with tab-indented descriptions holding "Default X." and, for numbers, "Range LO
# to HI.". A driver's key is "section key driver", the daemon's "section key".
page_table() {
	awk '
	function flush() {
		if (key == "") return
		def = ""; lo = ""; hi = ""
		if (match(desc, /Default [^ ].*/)) {
			rest = substr(desc, RSTART + 8)
			if (match(rest, /\.( |$)/)) def = substr(rest, 1, RSTART - 1)
		}
		if (def ~ /^none/) def = "none"
		if (match(desc, /Range [^ ]+ to [^ ]+\./)) {
			split(substr(desc, RSTART + 6, RLENGTH - 7), r, " to ")
			lo = r[1]; hi = r[2]
		}
		printf "%s %s%s\t%s\t%s\t%s\n", sec, key, drv == "" ? "" : " " drv, def, lo, hi
		key = ""
	}
	/^# \[[a-z0-9_]+\]$/ { flush(); sec = substr($2, 2, length($2) - 2); drv = ""; next }
	/^# / { flush(); sec = ""; drv = ""; next }
	/^## (driver|source) = [a-z_-]+$/ { flush(); drv = $4; next }
	/^## / { flush(); sec = ""; drv = ""; next }
	sec != "" && /^\*[a-z_]+\* = / { flush(); key = $1; gsub(/\*/, "", key); desc = ""; next }
	key != "" && /^\t/ { sub(/^\t/, ""); desc = desc " " $0; next }
	key != "" && /^$/ { flush() }
	END { flush() }' "$PAGE"
}
table=$(page_table)
page_keys=$(cut -f1 <<<"$table" | sort)
# config/treadlabd.conf: every key, set ("key = value") or shown commented (";key = value").
conf_table=$(awk '/^\[[a-z0-9_]+\]/ { s = substr($1, 2, length($1) - 2); next }
	s != "" && /^;?[a-z_]+ *=/ {
		line = $0; commented = sub(/^;/, "", line)
		k = line; sub(/ *=.*/, "", k); v = line; sub(/^[^=]*= */, "", v)
		printf "%s %s\t%s\n", s, k, commented ? "none" : v }' "$CONF")
conf_keys=$(cut -f1 <<<"$conf_table" | sort -u)

same_set() { # same_set A B: prints what differs
	local d
	d=$(diff <(echo "$1") <(echo "$2")) && return 0
	sed 's/^/     /' <<<"$d"
	return 1
}
check "treadlabd.conf(5) documents exactly the keys treadlabd and its drivers accept" same_set "$all_keys" "$page_keys"
check "config/treadlabd.conf lists exactly those keys" same_set "$(cut -d' ' -f1,2 <<<"$all_keys" | sort -u)" "$conf_keys"
check "every key documents its default" bash -c "! cut -f2 <<<'$table' | grep -qx ''"

# Defaults: the page's and the shipped file's agree (a number by value; "none": the
# key is commented out in the file).
norm() { sed 's/, */, /g' <<<"$1"; }
same_num_or_text() {
	if [[ $1 =~ ^-?[0-9.]+$ && $2 =~ ^-?[0-9.]+$ ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'
	else
		[ "$(norm "$1")" = "$(norm "$2")" ]
	fi
}
# prefix SECTION DRIVER KEY: the lines a probe of DRIVER's KEY starts with: the driver
# (the cuff's source) and the keys its rules require (device, profile) when it takes
# them, KEY aside.
prefix() {
	local p="[treadmill]\\ndriver = $2\\n" k
	[ "$1" = cuff ] && p="[cuff]\\nsource = $2\\n"
	for k in device profile; do
		if [ "$k" != "$3" ] && awk -F'\t' -v d="$2" -v s="$1" -v k="$k" '$1 == d && $2 == s && $3 == k { f = 1 } END { exit !f }' <<<"$list"; then
			p+="$k = /dev/null\\n"
		fi
	done
	printf '%s' "$p"
}
while IFS=$'\t' read -r id def lo hi; do
	read -r s k drv <<<"$id"
	pre=""
	if [ -n "$drv" ]; then
		# a driver's key: the page's default and range are its table's
		row=$(awk -F'\t' -v d="$drv" -v s="$s" -v k="$k" '$1 == d && $2 == s && $3 == k' <<<"$list")
		tdef=$(cut -f5 <<<"$row") trange=$(cut -f6 <<<"$row")
		check "[$s] $k ($drv): default '$def' in the page, '$tdef' in the driver's table" \
			same_num_or_text "$def" "$tdef"
		if [ -n "$lo" ] || [[ $trange == *" to "* ]]; then
			check "[$s] $k ($drv): range '$lo to $hi' in the page, '$trange' in the driver's table" \
				test "$lo to $hi" = "$trange"
		fi
		pre=$(prefix "$s" "$drv" "$k")
	else
		fdef=$(awk -F'\t' -v k="$s $k" '$1 == k { print $2 }' <<<"$conf_table")
		check "[$s] $k: default '$def' in the page, '$fdef' in treadlabd.conf" \
			same_num_or_text "$def" "$fdef"
	fi
	if [ -n "$lo" ]; then
		below=$(awk -v x="$lo" 'BEGIN { e = (x < 0 ? -x : x) * 1e-6; if (e < 1e-6) e = 1e-6; printf "%.9g", x - e }')
		above=$(awk -v x="$hi" 'BEGIN { e = (x < 0 ? -x : x) * 1e-6; if (e < 1e-6) e = 1e-6; printf "%.9g", x + e }')
		check "[$s] $k${drv:+ ($drv)}: $lo and $hi accepted, $below and $above refused" bash -c "
			$(declare -f probe accepted); WORK='$WORK' D='$D'
			accepted '$pre[$s]\n$k = $lo' && accepted '$pre[$s]\n$k = $hi' &&
			! accepted '$pre[$s]\n$k = $below' && ! accepted '$pre[$s]\n$k = $above' &&
			! accepted '$pre[$s]\n$k = $(awk -v x="$lo" 'BEGIN { print x - 1 }')' &&
			! accepted '$pre[$s]\n$k = $(awk -v x="$hi" 'BEGIN { print x + 1 }')'"
	fi
	if [ "$def" != none ]; then
		check "[$s] $k${drv:+ ($drv)}: the default '$def' is accepted" accepted "$pre[$s]\n$k = $def"
	fi
done <<<"$table"
finish
